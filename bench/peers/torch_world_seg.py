"""PyTorch twin of one SPT-SEG training step on the shapes world (bench/model/world.bench.ts).

The same model as train/world/run.ts builds from the world CLIP (train/pretrain.ts WORLD_CLIP): the
prompted ViT of tools/reference/sptseg_fixtures.py with the world's 3-conv stem (3->32->64->64, ReLU,
64x64 image -> 8x8 tokens), width 64, 4 blocks of 2 heads, T = 4 prompt tokens, 3 deep prompt sets,
the 8x8 spectral filter, then the 2-layer HiLo decoder of width 64 (FFN 256) against the 9 seen class
embeddings. The same step: train mode (dropout on), loss 100 * focal + (1 - SSIM) on the logits
upsampled to the 64x64 labels (unseen and background pixels 255: zero targets, the official
'reference' handling), backward through the frozen encoder (only prompts, spectral filter and decoder
train), gradient clipping at 1 and an AdamW step. Random weights, images and labels (the time does
not depend on their values). Prints JSON: the median seconds of a step. Run by the bench with
Debian's /usr/bin/python3: argv = threads B.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tools', 'reference'))
sys.path.insert(0, HERE)
from losses_fixtures import sigmoid_focal_loss, ssim  # noqa: E402  (the official focal loss and SSIM)
from sptseg_fixtures import ATMSingleHeadSeg, VPTCLIPVisionTransformer, is_trainable  # noqa: E402
from timing import median_seconds  # noqa: E402
from torch_world import ConvStem  # noqa: E402


def targets_of(labels, C):
    """One-hot [B, C, H, W] (zero where the label is 255) and num_masks (classes present per image, summed)."""
    hot = F.one_hot(torch.where(labels == 255, C, labels).long(), C + 1)[..., :C].permute(0, 3, 1, 2).float()
    return hot, max(float((hot.flatten(2).amax(-1) > 0).sum()), 1.0)


def main():
    threads, B = (int(v) for v in sys.argv[1:3])
    torch.set_default_dtype(torch.float32)  # the reference module sets float64
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    S, C = 64, 9
    backbone = VPTCLIPVisionTransformer(patch=8, width=64, layers=4, heads=2, out_dim=64, T=4,
                                        deep_layers=3, stored_grid=8, grid=8)
    backbone.conv1 = ConvStem([32, 64, 64])
    head = ATMSingleHeadSeg(embed=64, d=64, layers=2, ffn=256)
    model = torch.nn.ModuleDict({'backbone': backbone, 'decode_head': head}).train()
    params = []
    for name, p in model.named_parameters():
        p.requires_grad_(is_trainable(name))
        if p.requires_grad:
            params.append(p)
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)
    images = torch.randn(B, 3, S, S)
    text = F.normalize(torch.randn(C, 64), dim=-1)
    labels = torch.randint(0, 12, (B, S, S))
    labels = torch.where(labels >= C, 255, labels)  # the 3 unseen classes' pixels, as the inductive map

    def step():
        opt.zero_grad()
        dense, glob = backbone(images)
        maps, _ = head(dense, glob, text, (S, S))
        target, num_masks = targets_of(labels, C)
        x = F.interpolate(maps[-1], size=(S, S), mode='bilinear', align_corners=False)
        focal = sigmoid_focal_loss(x.reshape(B * C, -1), target.reshape(B * C, -1), num_masks)
        (100 * focal + (1 - ssim(x, target))).backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()

    print(json.dumps({'version': torch.__version__, 'step': median_seconds(step, 5, 2.0)}))


if __name__ == '__main__':
    main()
