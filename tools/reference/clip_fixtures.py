"""Write the CLIP fixtures of test/model: a tiny random CLIP in every checkpoint layout we load, and the
values the TypeScript model must reproduce.

Run from the repository root with the Debian torch (the PATH python has none):
    /usr/bin/python3 tools/reference/clip_fixtures.py

The model below is OUR OWN PyTorch implementation of OpenAI CLIP's structure, with the module and
parameter names of openai/CLIP clip/model.py (VisionTransformer: conv1, class_embedding,
positional_embedding, ln_pre, transformer.resblocks, ln_post, proj; nn.MultiheadAttention with packed
in_proj; QuickGELU; the text tower at the top level). Tiny config, seeded:
    vision: image 64, patch 16 (grid 4x4), width 64, 2 layers, 2 heads (head width 32)
    text:   context 77, vocab 512 (ids < 512, EOT = 511 is the largest), width 64, 2 layers,
            heads = 64 / 64 = 1 (CLIP's build_model rule)
    embed 32
The vision tower has 2 heads so that the per-head split is checked against torch; since 64 / 64 = 1,
its head count travels in the safetensors `__metadata__` ("vision_heads": "2") and, in the .pt files,
as the `num_heads` attribute that torch.jit.script stores for nn.MultiheadAttention. (Width 128 would
give 2 heads by the rule, but quadruples the files: every float32 copy of the weights is ~1.2 MB here.)
LayerNorm weights/biases and attention biases are randomised so that their gradients are not trivial.

Every weight is rounded to a float16 value (and kept in float32). So the fp16 .pt, after conversion to
float32, holds exactly the weights of the float32 files, and ONE set of reference values, computed from
these fp16-rounded weights, serves every load path, the fp16 one included.

Writes test/fixtures/clip/:
  openai.safetensors     OpenAI layout, float32 (written by hand: 8-byte header length + JSON + data),
                         __metadata__ {"vision_heads": "2"}
  openai_fp32.pt         torch.jit.save(torch.jit.script(model)), float32, debug info stripped
  openai_fp16.pt         the same after clip/model.py convert_weights (conv, linear, attention weights
                         and the two projections in fp16; LayerNorm and embeddings stay fp32), plus the
                         0-d int64 buffers input_resolution / context_length / vocab_size that OpenAI's
                         .pt files carry
  hf.safetensors         Hugging Face CLIPModel layout, float32, from the mapping table of method.md §5.4
                         (q/k/v split, projections transposed, pre_layrnorm sic), plus position_ids buffers;
                         __metadata__ {"format": "pt", "vision_heads": "2"} (real HF files keep heads in
                         config.json; at width 768 the width / 64 rule gives them)
  reference.safetensors  inputs, outputs and gradients (below)

Reference values are computed in float64 from the (fp16-rounded) weights and stored as float32, so
that they are the exact result rounded once; the script prints how far torch's own float32
computation is from them, for scale.
  input.images [2,3,64,64], input.tokens [3,77] (I32), input.loss_weight [2,3]
  ref.image_features [2,32], ref.text_features [3,32], ref.logits [2,3]  (logits_per_image =
      exp(logit_scale) * normalised image @ normalised text.T)
  ref.image_tokens [2,17,32]   ln_post(all tokens) @ proj (ZegCLIP's dense output)
  ref.grad.images and ref.grad.<key> for every parameter, of loss = sum(logits * loss_weight)
  interp.images [1,3,96,80], interp.image_features [1,32]   grid 6x5: positional table resized 4x4 -> 6x5
  resize.<case>.in/.out/.weight/.grad   F.interpolate(bilinear, align_corners=False) and the input gradient
                                        of sum(out * weight): 14x14->32x32, 32x32->14x14, 7x5->5x9
  pil.src [37,50,3] (U8) and pil.<filter>_<w>x<h> (U8): Pillow Image.resize
  pil.clip16 [1,3,16,16]: CLIP's transform (Resize(16, bicubic), CenterCrop(16), ToTensor, Normalize)
"""
import collections
import copy
import json
import math
import os
import struct
import zipfile
from typing import Optional

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

from common import half_like_clip, strip_debug_info, write_safetensors

OUT = os.path.join('test', 'fixtures', 'clip')
CFG = dict(embed_dim=32, image_resolution=64, vision_layers=2, vision_width=64, vision_heads=2, vision_patch_size=16,
           context_length=77, vocab_size=512, transformer_width=64, transformer_heads=1, transformer_layers=2)


# --- the model (names as clip/model.py) -----------------------------------------------------------

class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, d_model: int, n_head: int):
        super().__init__()
        self.attn = nn.MultiheadAttention(d_model, n_head)
        self.ln_1 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(collections.OrderedDict([
            ('c_fc', nn.Linear(d_model, d_model * 4)), ('gelu', QuickGELU()), ('c_proj', nn.Linear(d_model * 4, d_model))]))
        self.ln_2 = nn.LayerNorm(d_model)

    def forward(self, x, attn_mask: Optional[torch.Tensor] = None):
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False, attn_mask=attn_mask)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width: int, layers: int, heads: int):
        super().__init__()
        self.width = width
        self.layers = layers
        self.resblocks = nn.Sequential(*[ResidualAttentionBlock(width, heads) for _ in range(layers)])

    def forward(self, x, attn_mask: Optional[torch.Tensor] = None):
        for block in self.resblocks:
            x = block(x, attn_mask)
        return x


class VisionTransformer(nn.Module):
    def __init__(self, input_resolution: int, patch_size: int, width: int, layers: int, heads: int, output_dim: int):
        super().__init__()
        self.input_resolution = input_resolution
        self.output_dim = output_dim
        self.grid = input_resolution // patch_size
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch_size, stride=patch_size, bias=False)
        scale = width ** -0.5
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn(self.grid ** 2 + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = Transformer(width, layers, heads)
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, output_dim))

    def pos_for(self, gh: int, gw: int):
        """The positional table for a gh x gw grid: bilinear resize of the stored grid (ZegCLIP)."""
        if gh == self.grid and gw == self.grid:
            return self.positional_embedding
        cls = self.positional_embedding[:1]
        g = self.positional_embedding[1:].reshape(1, self.grid, self.grid, -1).permute(0, 3, 1, 2)
        g = F.interpolate(g, size=[gh, gw], mode='bilinear', align_corners=False)
        return torch.cat([cls, g.permute(0, 2, 3, 1).reshape(gh * gw, -1)], dim=0)

    def tokens(self, x):
        x = self.conv1(x)  # [B, D, gh, gw]
        gh, gw = x.shape[-2], x.shape[-1]
        x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)  # [B, N, D]
        cls = self.class_embedding.to(x.dtype) + torch.zeros(x.shape[0], 1, x.shape[-1], dtype=x.dtype, device=x.device)
        x = torch.cat([cls, x], dim=1) + self.pos_for(gh, gw).to(x.dtype)
        x = self.ln_pre(x).permute(1, 0, 2)  # NLD, as OpenAI
        return self.transformer(x).permute(1, 0, 2)  # [B, 1 + N, D]

    def forward(self, x):
        return self.ln_post(self.tokens(x)[:, 0, :]) @ self.proj


class CLIP(nn.Module):
    def __init__(self, embed_dim: int, image_resolution: int, vision_layers: int, vision_width: int,
                 vision_heads: int, vision_patch_size: int, context_length: int, vocab_size: int, transformer_width: int,
                 transformer_heads: int, transformer_layers: int):
        super().__init__()
        # OpenAI: vision_heads = vision_width // 64; an argument here (see the header)
        self.visual = VisionTransformer(image_resolution, vision_patch_size, vision_width, vision_layers,
                                        vision_heads, embed_dim)
        self.transformer = Transformer(transformer_width, transformer_layers, transformer_heads)
        self.token_embedding = nn.Embedding(vocab_size, transformer_width)
        self.positional_embedding = nn.Parameter(torch.empty(context_length, transformer_width))
        self.ln_final = nn.LayerNorm(transformer_width)
        self.text_projection = nn.Parameter(torch.empty(transformer_width, embed_dim))
        self.logit_scale = nn.Parameter(torch.ones([]) * np.log(1 / 0.07))
        self.initialize_parameters()

    def initialize_parameters(self):  # clip/model.py, text tower
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.positional_embedding, std=0.01)
        w, layers = self.transformer.width, self.transformer.layers
        proj_std, attn_std, fc_std = w ** -0.5 * (2 * layers) ** -0.5, w ** -0.5, (2 * w) ** -0.5
        for block in self.transformer.resblocks:
            nn.init.normal_(block.attn.in_proj_weight, std=attn_std)
            nn.init.normal_(block.attn.out_proj.weight, std=proj_std)
            nn.init.normal_(block.mlp.c_fc.weight, std=fc_std)
            nn.init.normal_(block.mlp.c_proj.weight, std=proj_std)
        nn.init.normal_(self.text_projection, std=w ** -0.5)

    def encode_image(self, image):
        return self.visual(image)

    def encode_text(self, text):
        x = self.token_embedding(text) + self.positional_embedding  # [B, L, D]
        L = x.shape[1]
        mask = torch.full((L, L), float('-inf'), dtype=x.dtype, device=x.device).triu(1)
        x = self.transformer(x.permute(1, 0, 2), mask).permute(1, 0, 2)
        x = self.ln_final(x)
        return x[torch.arange(x.shape[0]), text.argmax(dim=-1)] @ self.text_projection

    def forward(self, image, text):
        image_features = self.encode_image(image)
        text_features = self.encode_text(text)
        image_features = image_features / image_features.norm(p=2.0, dim=[1], keepdim=True)
        text_features = text_features / text_features.norm(p=2.0, dim=[1], keepdim=True)
        return self.logit_scale.exp() * image_features @ text_features.t()


def randomise_norms_and_biases(model):
    """Non-trivial LayerNorm affine parameters and attention biases, so that their gradients matter."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.copy_(1 + 0.1 * torch.randn_like(m.weight))
                m.bias.copy_(0.1 * torch.randn_like(m.bias))
            if isinstance(m, nn.MultiheadAttention):
                m.in_proj_bias.copy_(0.02 * torch.randn_like(m.in_proj_bias))
                m.out_proj.bias.copy_(0.02 * torch.randn_like(m.out_proj.bias))


def openai_keys(cfg):
    """The key set of an OpenAI ViT CLIP state dict (minus input_resolution/context_length/vocab_size)."""
    block = ['attn.in_proj_weight', 'attn.in_proj_bias', 'attn.out_proj.weight', 'attn.out_proj.bias',
             'ln_1.weight', 'ln_1.bias', 'mlp.c_fc.weight', 'mlp.c_fc.bias', 'mlp.c_proj.weight', 'mlp.c_proj.bias',
             'ln_2.weight', 'ln_2.bias']
    keys = ['positional_embedding', 'text_projection', 'logit_scale', 'visual.class_embedding',
            'visual.positional_embedding', 'visual.proj', 'visual.conv1.weight', 'visual.ln_pre.weight',
            'visual.ln_pre.bias', 'visual.ln_post.weight', 'visual.ln_post.bias', 'token_embedding.weight',
            'ln_final.weight', 'ln_final.bias']
    keys += ['visual.transformer.resblocks.%d.%s' % (i, k) for i in range(cfg['vision_layers']) for k in block]
    keys += ['transformer.resblocks.%d.%s' % (i, k) for i in range(cfg['transformer_layers']) for k in block]
    return set(keys)


# --- files ----------------------------------------------------------------------------------------

def save_torchscript(model, path, expected_keys):
    torch.jit.save(torch.jit.script(model), path)
    strip_debug_info(path)
    loaded = set(torch.jit.load(path).state_dict().keys())
    assert loaded == expected_keys, sorted(loaded ^ expected_keys)


def to_hf(sd, cfg):
    """OpenAI -> Hugging Face CLIPModel keys (method.md §5.4; transformers convert_clip_original_pytorch_to_hf.py)."""
    out = {}
    layer = {'ln_1': 'layer_norm1', 'ln_2': 'layer_norm2', 'mlp.c_fc': 'mlp.fc1', 'mlp.c_proj': 'mlp.fc2',
             'attn.out_proj': 'self_attn.out_proj'}
    for key, t in sd.items():
        if key.startswith('visual.transformer.resblocks.') or key.startswith('transformer.resblocks.'):
            tower = 'vision_model' if key.startswith('visual.') else 'text_model'
            rest = key.split('resblocks.')[1]
            i, name = rest.split('.', 1)
            prefix = '%s.encoder.layers.%s.' % (tower, i)
            if name.startswith('attn.in_proj_'):
                kind = name[len('attn.in_proj_'):]
                for part, chunk in zip('qkv', t.chunk(3, dim=0)):
                    out[prefix + 'self_attn.%s_proj.%s' % (part, kind)] = chunk.clone()
            else:
                base, leaf = name.rsplit('.', 1)
                out[prefix + layer[base] + '.' + leaf] = t
            continue
        out[{
            'visual.conv1.weight': 'vision_model.embeddings.patch_embedding.weight',
            'visual.class_embedding': 'vision_model.embeddings.class_embedding',
            'visual.positional_embedding': 'vision_model.embeddings.position_embedding.weight',
            'visual.ln_pre.weight': 'vision_model.pre_layrnorm.weight',
            'visual.ln_pre.bias': 'vision_model.pre_layrnorm.bias',
            'visual.ln_post.weight': 'vision_model.post_layernorm.weight',
            'visual.ln_post.bias': 'vision_model.post_layernorm.bias',
            'visual.proj': 'visual_projection.weight',
            'token_embedding.weight': 'text_model.embeddings.token_embedding.weight',
            'positional_embedding': 'text_model.embeddings.position_embedding.weight',
            'ln_final.weight': 'text_model.final_layer_norm.weight',
            'ln_final.bias': 'text_model.final_layer_norm.bias',
            'text_projection': 'text_projection.weight',
            'logit_scale': 'logit_scale',
        }[key]] = t.t().contiguous() if key in ('visual.proj', 'text_projection') else t
    grid = cfg['image_resolution'] // cfg['vision_patch_size']
    out['vision_model.embeddings.position_ids'] = torch.arange(grid * grid + 1).unsqueeze(0)
    out['text_model.embeddings.position_ids'] = torch.arange(cfg['context_length']).unsqueeze(0)
    return out


# --- reference values -----------------------------------------------------------------------------

def reference(model, images, tokens, loss_weight, prefix, dtype):
    """Outputs and gradients of model (weights as stored, computed in `dtype`)."""
    m = copy.deepcopy(model).to(dtype)
    x = images.to(dtype).clone().requires_grad_(True)
    image_features = m.encode_image(x)
    text_features = m.encode_text(tokens)
    logits = m(x, tokens)
    (logits * loss_weight.to(dtype)).sum().backward()
    out = {prefix + 'image_features': image_features, prefix + 'text_features': text_features,
           prefix + 'logits': logits, prefix + 'grad.images': x.grad}
    with torch.no_grad():
        out[prefix + 'image_tokens'] = m.visual.ln_post(m.visual.tokens(x)) @ m.visual.proj
    for name, p in m.named_parameters():
        out[prefix + 'grad.' + name] = p.grad
    return {k: v.detach().float() for k, v in out.items()}


def max_rel(a, b):
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()


def resize_cases():
    out = {}
    for name, (shape, size) in {'14to32': ((2, 3, 14, 14), (32, 32)), '32to14': ((2, 3, 32, 32), (14, 14)),
                                '7x5to5x9': ((1, 4, 7, 5), (5, 9))}.items():
        x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
        y = F.interpolate(x, size=size, mode='bilinear', align_corners=False)
        w = torch.randn_like(y)
        (y * w).sum().backward()
        out.update({'resize.%s.in' % name: x, 'resize.%s.out' % name: y, 'resize.%s.weight' % name: w,
                    'resize.%s.grad' % name: x.grad})
    return {k: v.detach().float() for k, v in out.items()}


def pil_cases():
    rng = np.random.default_rng(3)
    h, w = 37, 50
    yy, xx = np.mgrid[0:h, 0:w]
    smooth = np.stack([xx * 5, yy * 6, (xx + yy) * 3], axis=-1)
    src = np.clip(smooth + rng.integers(-60, 60, size=(h, w, 3)), 0, 255).astype(np.uint8)
    src[5:9, 10:30] = 255  # hard edges: overshoot that must be clipped
    src[20:25, 3:7] = 0
    img = Image.fromarray(src, 'RGB')
    out = {'pil.src': torch.from_numpy(src)}
    for flt, code in (('bicubic', Image.BICUBIC), ('bilinear', Image.BILINEAR)):
        for size in ((19, 23), (71, 45), (16, 37), (50, 12)):
            out['pil.%s_%dx%d' % (flt, size[0], size[1])] = torch.from_numpy(np.asarray(img.resize(size, code)).copy())
    # CLIP's _transform for n_px = 16, written out without torchvision
    s = 16
    W, H = img.size
    short, long = (W, H) if W <= H else (H, W)
    new_long = int(s * long / short)
    rw, rh = (s, new_long) if W <= H else (new_long, s)
    r = img.resize((rw, rh), Image.BICUBIC)
    top, left = int(round((rh - s) / 2.0)), int(round((rw - s) / 2.0))
    c = np.asarray(r.crop((left, top, left + s, top + s))).copy()
    t = torch.from_numpy(c).permute(2, 0, 1).float().div(255)
    mean = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(3, 1, 1)
    std = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(3, 1, 1)
    out['pil.clip16'] = t.sub(mean).div(std).unsqueeze(0)
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    model = CLIP(**CFG)
    randomise_norms_and_biases(model)
    with torch.no_grad():  # fp16-rounded weights (see the header)
        for p in model.parameters():
            p.copy_(p.half().float())
    model.eval()
    keys = openai_keys(CFG)
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    assert set(sd) == keys, sorted(set(sd) ^ keys)

    # inputs
    images = torch.randn(2, 3, 64, 64)
    tokens = torch.zeros(3, 77, dtype=torch.long)
    for row, n in enumerate((4, 11, 75)):  # the last row fills all 77 positions
        tokens[row, 0] = 510  # a start token below EOT
        tokens[row, 1:1 + n] = torch.randint(1, 510, (n,))
        tokens[row, 1 + n] = 511  # EOT, the largest id
    loss_weight = torch.randn(2, 3)

    # checkpoints
    heads = {'vision_heads': str(CFG['vision_heads'])}
    write_safetensors(os.path.join(OUT, 'openai.safetensors'), sd, heads)
    save_torchscript(model, os.path.join(OUT, 'openai_fp32.pt'), keys)
    half = copy.deepcopy(model)
    half_like_clip(half)
    assert all(torch.equal(half.state_dict()[k].float(), v) for k, v in sd.items())  # rounding was exact
    for name in ('input_resolution', 'context_length', 'vocab_size'):  # as in OpenAI's .pt state dicts
        half.register_buffer(name, torch.tensor(CFG['image_resolution' if name == 'input_resolution' else name]))
    save_torchscript(half, os.path.join(OUT, 'openai_fp16.pt'),
                     keys | {'input_resolution', 'context_length', 'vocab_size'})
    write_safetensors(os.path.join(OUT, 'hf.safetensors'), to_hf(sd, CFG), {'format': 'pt', **heads})

    # reference values
    ref = {'input.images': images, 'input.tokens': tokens.int(), 'input.loss_weight': loss_weight}
    ref.update(reference(model, images, tokens, loss_weight, 'ref.', torch.float64))
    big = torch.randn(1, 3, 96, 80)
    with torch.no_grad():
        ref['interp.images'] = big
        ref['interp.image_features'] = copy.deepcopy(model).double().encode_image(big.double()).float()
    ref.update(resize_cases())
    ref.update(pil_cases())
    write_safetensors(os.path.join(OUT, 'reference.safetensors'), ref,
                      {'config': json.dumps(CFG), 'note': 'float64 computation, stored as float32'})

    # for scale: torch's own float32 computation against the float64 reference
    f32 = reference(model, images, tokens, loss_weight, 'ref.', torch.float32)
    worst = max(((max_rel(f32[k], ref[k]), k) for k in f32))
    print('torch float32 vs float64 reference, max|diff| / max|ref|: worst %.2e (%s)' % worst)
    for k in ('ref.image_features', 'ref.text_features', 'ref.logits', 'ref.image_tokens', 'ref.grad.images'):
        print('  %-24s %.2e' % (k, max_rel(f32[k], ref[k])))
    total = 0
    for name in sorted(os.listdir(OUT)):
        size = os.path.getsize(os.path.join(OUT, name))
        total += size
        print('%-24s %8.1f KB' % (name, size / 1024))
    print('%-24s %8.1f KB' % ('total', total / 1024))


if __name__ == '__main__':
    main()
