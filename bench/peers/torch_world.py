"""PyTorch twin of one pretraining step of the shapes world's tiny CLIP (bench/model/world.bench.ts).

The same model as train/pretrain.ts WORLD_CLIP (a 3-conv stem 3->32->64->64 with ReLU, 8 x 8 tokens,
4 pre-LN blocks of width 64; a text tower of width 32 over the 49,408-row BPE table) and the same
loss on the same shapes: InfoNCE both ways with B hard negatives, the region-text term over O pooled
objects and the per-patch term over M object patches against K = 12 detached class prompts, then
gradient clipping and an AdamW step. Random weights and inputs (the time does not depend on their
values). Prints JSON: the median seconds of a whole step, and of the image tower's forward +
backward alone. Run by the bench with Debian's /usr/bin/python3: argv = threads B O M.
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'tools', 'reference'))
from clip_fixtures import CLIP  # noqa: E402
from timing import median_seconds  # noqa: E402  (bench/peers/timing.py)


class ConvStem(nn.Module):
    """model/vit.ts ConvStem: 3x3 stride-2 padding-1 convs, ReLU between them."""

    def __init__(self, widths):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, 2, 1) for a, b in zip([3] + widths[:-1], widths))

    def forward(self, x):
        for i, conv in enumerate(self.convs):
            x = conv(x)
            if i < len(self.convs) - 1:
                x = F.relu(x)
        return x


def main():
    threads, B, O, M = (int(v) for v in sys.argv[1:5])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    clip = CLIP(embed_dim=64, image_resolution=64, vision_layers=4, vision_width=64, vision_heads=2,
                vision_patch_size=8, context_length=24, vocab_size=49408, transformer_width=32,
                transformer_heads=2, transformer_layers=2)
    clip.visual.conv1 = ConvStem([32, 64, 64])
    opt = torch.optim.AdamW(clip.parameters(), lr=1e-3, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.05)
    N, K = 64, 12
    images = torch.randn(B, 3, 64, 64)
    texts = torch.randint(1, 49000, (2 * B, 24))
    prompts = torch.randint(1, 49000, (K, 24))
    region_w = torch.rand(O, B * N)
    region_y, patch_idx, patch_y = torch.randint(0, K, (O,)), torch.randint(0, B * N, (M,)), torch.randint(0, K, (M,))
    vis = clip.visual

    def dense(x):
        return vis.ln_post(vis.tokens(x)) @ vis.proj  # [B, 1 + N, E]

    def step():
        opt.zero_grad()
        x = dense(images)
        img, patches = F.normalize(x[:, 0], dim=-1), x[:, 1:].reshape(B * N, -1)
        txt = F.normalize(clip.encode_text(texts), dim=-1)
        scale = clip.logit_scale.clamp(max=torch.log(torch.tensor(100.0))).exp()
        y = torch.arange(B)
        i2t = F.cross_entropy(scale * img @ txt.t(), y)
        t2i = F.cross_entropy(scale * txt[:B] @ img.t(), y)
        cls = F.normalize(clip.encode_text(prompts), dim=-1).detach()
        region = F.cross_entropy(scale * F.normalize(region_w @ patches, dim=-1) @ cls.t(), region_y)
        patch = F.cross_entropy(scale * F.normalize(patches[patch_idx], dim=-1) @ cls.t(), patch_y)
        ((i2t + t2i) / 2 + region + patch).backward()
        torch.nn.utils.clip_grad_norm_(clip.parameters(), 1.0)
        opt.step()

    def vision_only():
        opt.zero_grad()
        dense(images).square().mean().backward()

    print(json.dumps({'version': torch.__version__, 'step': median_seconds(step, 5, 2.0),
                      'vision_fwd_bwd': median_seconds(vision_only, 5, 1.0)}))


if __name__ == '__main__':
    main()
