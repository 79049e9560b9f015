"""Write the SPT-SEG fixtures of test/model: a tiny random SPT-SEG under the OFFICIAL state-dict names,
and the values the TypeScript model (model/spt.ts, model/decoder.ts, model/hilo.ts) must reproduce.

Run from the repository root with the Debian torch (the PATH python has none):
    /usr/bin/python3 tools/reference/sptseg_fixtures.py

The modules below are OUR OWN plain-torch re-statement of the official forward (method.md §1, §2, §8, §9):
  VPTCLIPVisionTransformer  [SPT] models/backbone/img_encoder.py: CLS = 2·class_embedding + pos[0] (quirk),
                            shallow prompt + deep prompts replaced before every block through ONE shared
                            prompt_proj, spectral prompt fre_filter (rfft2 ortho ⊙ complex_weight, irfft2)
                            added to the patch tokens at the inputs of blocks 0 and 1 (P1 from block 0's
                            raw residual stream), prompt_norm -> ln_post -> @ proj on all tokens.
  ATMSingleHeadSeg          [SPT] models/decode_heads/decode_seg.py: q_proj([t ⊙ g, t]); N TPN_DecoderLayers
                            of hlfs (HiLo 8 heads, alpha 0.9 -> 1 hi / 7 lo heads, window 3, zero padding on
                            the right/bottom, hf without h_proj, lf with l_proj, gate clamp(cos(x, prompt),
                            0, 1), x @ top_down_transform, logits = dot products, softmax readout, proj),
                            post-norm residual (norm2), FFN relu (linear1/linear2), norm3.
  and the ZegCLIP cross-attention layer (`multihead_attn`, method.md §2.4 item 7), the ablation baseline.
Modules the official forward never calls (proj_fre, self_attn, norm1, h_proj) are not built.

Tiny config: patch 8, vision width 64 (heads = 64 / 64 = 1), 2 blocks, T = 4 prompts, 1 deep prompt set,
embed 32, decoder width 32 with 2 layers, FFN 128, C = 5 classes, B = 2 images. Eval mode (no dropout).
Weights are rounded to float16 values and stored as F16 (exact, half the bytes). Weights are random (LayerNorms and top_down_transform perturbed away from 1 / identity, so that
transposition bugs and missing affine terms show). Values are computed in float64 and stored float32.

Writes test/fixtures/sptseg/:
  grid8.safetensors  image 64 -> 8x8 grid (power of two; stored positional grid 8x8):
                     the full state dict (official names: backbone.*, decode_head.*), then
                     in.image [B, 3, 64, 64], in.text [C, E] (L2-normalised), in.w{l} [B, C, 8, 8],
                     out.logits{l} [B, C, 8, 8] per decoder layer, out.global [B, E], out.dense [B, E, 8, 8],
                     grad.<key> for every trainable key, of loss = Σ_l Σ out.logits{l} ⊙ in.w{l}
  grid7.safetensors  image 56 -> 7x7 grid (odd: rfft2 width 4, HiLo pads 7 -> 9, positional table 8x8
                     interpolated to 7x7), plus out.pred0 [C, 56, 56] (image 0's last-layer logits
                     upsampled bilinearly to the input size). Same weights as grid8 except
                     `backbone.complex_weight` [7, 4, 64, 2] and the layers' `hlfs.prompt` (re-aimed by
                     center_gates), which it stores (with in.*, out.*, grad.*); the test merges them.
  cross.safetensors  the ZegCLIP cross-attention decoder on grid8's encoder: its decode_head.* keys
                     (multihead_attn.{q,k,v,proj}) and out.logits{l} (forward only).
"""
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from common import REPO, Rng, seed_of, write_safetensors  # noqa: E402

OUT = os.path.join(REPO, 'test', 'fixtures', 'sptseg')
torch.set_default_dtype(torch.float64)


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    """CLIP's pre-LN block, sequence-first [N, B, D] like clip/model.py (DropPath never applied)."""

    def __init__(self, d, heads):
        super().__init__()
        self.attn = nn.MultiheadAttention(d, heads)
        self.ln_1 = nn.LayerNorm(d)
        self.mlp = nn.Sequential()
        self.mlp.add_module('c_fc', nn.Linear(d, 4 * d))
        self.mlp.add_module('gelu', QuickGELU())
        self.mlp.add_module('c_proj', nn.Linear(4 * d, d))
        self.ln_2 = nn.LayerNorm(d)

    def forward(self, x):
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, d, layers, heads):
        super().__init__()
        self.resblocks = nn.ModuleList([ResidualAttentionBlock(d, heads) for _ in range(layers)])


class VPTCLIPVisionTransformer(nn.Module):
    def __init__(self, patch, width, layers, heads, out_dim, T, deep_layers, stored_grid, grid):
        super().__init__()
        self.T, self.stored_grid = T, stored_grid
        self.conv1 = nn.Conv2d(3, width, patch, patch, bias=False)
        self.class_embedding = nn.Parameter(torch.randn(width) * width ** -0.5)
        self.positional_embedding = nn.Parameter(torch.randn(stored_grid ** 2 + 1, width) * width ** -0.5)
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = Transformer(width, layers, heads)
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(torch.randn(width, out_dim) * width ** -0.5)
        v = math.sqrt(6.0 / float(3 * patch * patch + width))
        self.prompt_embeddings = nn.Parameter(torch.empty(1, T, width).uniform_(-v, v))
        self.deep_prompt_embeddings = nn.Parameter(torch.empty(deep_layers, T, width).uniform_(-v, v))
        self.prompt_proj = nn.Linear(width, width)
        self.prompt_norm = nn.LayerNorm(width, eps=1e-6)
        self.prompt_dropout = nn.Dropout(0.1)
        self.complex_weight = nn.Parameter(torch.randn(grid, grid // 2 + 1, width, 2) * 0.02)

    def fre_filter(self, patches, cls):
        """patches [B, N, D] ⊙ cls [B, 1, D] -> rfft2 (ortho) ⊙ W -> irfft2 (ortho): [B, N, D]."""
        x = patches * cls
        B, N, C = x.shape
        a = b = int(math.sqrt(N))
        x = x.view(B, a, b, C)
        x = torch.fft.rfft2(x, dim=(1, 2), norm='ortho')
        x = x * torch.view_as_complex(self.complex_weight)
        x = torch.fft.irfft2(x, s=(a, b), dim=(1, 2), norm='ortho')
        return x.reshape(B, N, C)

    def forward(self, img):
        x = self.conv1(img)  # [B, D, H, W]
        B, C, H, W = x.shape
        x = x.reshape(B, C, -1).permute(0, 2, 1)
        pos = self.positional_embedding
        cls_pos = pos[0, :] + self.class_embedding
        g = self.stored_grid
        spatial = F.interpolate(pos[1:].reshape(1, g, g, C).permute(0, 3, 1, 2), size=(H, W), mode='bilinear')
        spatial = spatial.reshape(1, C, H * W).permute(0, 2, 1)
        pos = torch.cat([cls_pos.reshape(1, 1, C), spatial], dim=1)
        x = torch.cat([self.class_embedding + torch.zeros(B, 1, C, dtype=x.dtype), x], dim=1)  # the CLS quirk: cls twice
        x = x + pos
        x = self.ln_pre(x)
        T = self.T
        p0 = self.fre_filter(x[:, 1:], x[:, :1])
        prompt = self.prompt_dropout(self.prompt_proj(self.prompt_embeddings).expand(B, -1, -1))
        x = torch.cat([x[:, :1], prompt, x[:, 1:] + p0], dim=1)
        h = x.permute(1, 0, 2)  # [N, B, D]
        blocks = self.transformer.resblocks
        for i in range(len(blocks)):
            if i == 0:
                h = blocks[i](h)
            elif i <= self.deep_prompt_embeddings.shape[0]:
                deep = self.prompt_dropout(self.prompt_proj(self.deep_prompt_embeddings[i - 1]).expand(B, -1, -1))
                deep = deep.permute(1, 0, 2)
                patches = h[1 + T:]
                if i < 2:
                    pf = self.fre_filter(patches.permute(1, 0, 2), h[:1].permute(1, 0, 2)).permute(1, 0, 2)
                    patches = patches + pf
                h = torch.cat([h[:1], deep, patches], dim=0)
                h = blocks[i](h)
            else:
                h = blocks[i](torch.cat([h[:1], h[-(H * W):]], dim=0))
        x = self.prompt_norm(h).permute(1, 0, 2)
        x = self.ln_post(x) @ self.proj
        glob = x[:, 0]
        dense = x[:, -(H * W):].reshape(B, H, W, -1).permute(0, 3, 1, 2)
        dense = dense / dense.norm(dim=1, keepdim=True)
        return dense, glob / glob.norm(dim=1, keepdim=True)


class HiLo(nn.Module):
    """SPT's hlfs: num_heads 8, alpha 0.9, window 3; hf without h_proj, then the gate and the readout."""

    def __init__(self, dim, num_heads=8, window_size=3, alpha=0.9):
        super().__init__()
        head_dim = dim // num_heads
        self.l_heads = int(num_heads * alpha)
        self.l_dim = self.l_heads * head_dim
        self.h_heads = num_heads - self.l_heads
        self.h_dim = self.h_heads * head_dim
        self.ws = window_size
        self.scale = head_dim ** -0.5
        self.sr = nn.AvgPool2d(kernel_size=window_size, stride=window_size)
        self.l_q = nn.Linear(dim, self.l_dim, bias=False)
        self.l_kv = nn.Linear(dim, self.l_dim * 2, bias=False)
        self.l_proj = nn.Linear(self.l_dim, self.l_dim)
        self.h_qkv = nn.Linear(dim, self.h_dim * 3, bias=False)
        self.prompt = nn.Parameter(torch.randn(dim))
        self.top_down_transform = nn.Parameter(torch.eye(dim))
        self.proj = nn.Linear(dim, dim)
        self.attn_drop = nn.Dropout(0.1)

    def hf(self, x):
        B, H, W, C = x.shape
        hg, wg = H // self.ws, W // self.ws
        x = x.reshape(B, hg, self.ws, wg, self.ws, C).transpose(2, 3)
        qkv = self.h_qkv(x).reshape(B, hg * wg, -1, 3, self.h_heads, self.h_dim // self.h_heads).permute(3, 0, 1, 4, 2, 5)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        attn = (attn @ v).transpose(2, 3).reshape(B, hg, wg, self.ws, self.ws, self.h_dim)
        return attn.transpose(2, 3).reshape(B, hg * self.ws, wg * self.ws, self.h_dim)

    def lf(self, x):
        B, H, W, C = x.shape
        q = self.l_q(x).reshape(B, H * W, self.l_heads, self.l_dim // self.l_heads).permute(0, 2, 1, 3)
        x_ = self.sr(x.permute(0, 3, 1, 2)).reshape(B, C, -1).permute(0, 2, 1)
        kv = self.l_kv(x_).reshape(B, -1, 2, self.l_heads, self.l_dim // self.l_heads).permute(2, 0, 3, 1, 4)
        k, v = kv[0], kv[1]
        attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, H, W, self.l_dim)
        return self.l_proj(x)

    def forward(self, x, H, W, tgt):
        """x [B, N, D] memory, tgt [C, B, D] queries -> (tgt2 [C, B, D], logits [B, C, N])."""
        B, N, C = x.shape
        x = x.reshape(B, H, W, C)
        pad_r = (self.ws - W % self.ws) % self.ws
        pad_b = (self.ws - H % self.ws) % self.ws
        x = F.pad(x, (0, 0, 0, pad_r, 0, pad_b))
        hi, lo = self.hf(x), self.lf(x)
        x = torch.cat([hi[:, :H, :W], lo[:, :H, :W]], dim=-1).reshape(B, N, C)
        cos = F.normalize(x, dim=-1) @ F.normalize(self.prompt[None, ..., None], dim=1)  # [B, N, 1]
        self.open_fraction = (cos > 0).double().mean().item()  # diagnostics: tokens the gate lets through
        x = (x * cos.clamp(0, 1)) @ self.top_down_transform
        logits = torch.einsum('bnd,cbd->bcn', x, tgt)
        attn = self.attn_drop(logits.softmax(dim=-1))
        out = (attn @ x).transpose(0, 1)  # [C, B, D]
        return self.proj(out), logits


class CrossAttention(nn.Module):
    """ZegCLIP's `Attention`: q/k/v Linear with bias, heads, logits = head-mean of q·kᵀ·scale."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.scale = heads, (dim // heads) ** -0.5
        self.q, self.k, self.v, self.proj = (nn.Linear(dim, dim) for _ in range(4))

    def forward(self, xq, xk, xv):
        B, Nq, C = xq.shape
        Nk = xk.shape[1]
        q = self.q(xq).reshape(B, Nq, self.heads, C // self.heads).permute(0, 2, 1, 3)
        k = self.k(xk).reshape(B, Nk, self.heads, C // self.heads).permute(0, 2, 1, 3)
        v = self.v(xv).reshape(B, Nk, self.heads, C // self.heads).permute(0, 2, 1, 3)
        attn = (q @ k.transpose(-2, -1)) * self.scale
        save = attn.sum(dim=1) / self.heads
        x = (attn.softmax(dim=-1) @ v).transpose(1, 2).reshape(B, Nq, C)
        return self.proj(x).transpose(0, 1), save


class TPN_DecoderLayer(nn.Module):
    def __init__(self, d, ffn, cross_heads=None):
        super().__init__()
        if cross_heads is None:
            self.hlfs = HiLo(d)
        else:
            self.multihead_attn = CrossAttention(d, cross_heads)
        self.linear1 = nn.Linear(d, ffn)
        self.linear2 = nn.Linear(ffn, d)
        self.norm2 = nn.LayerNorm(d)
        self.norm3 = nn.LayerNorm(d)

    def forward(self, tgt, memory, H, W):
        """tgt [C, B, D], memory [N, B, D]."""
        if hasattr(self, 'hlfs'):
            tgt2, logits = self.hlfs(memory.transpose(0, 1), H, W, tgt)
        else:
            tgt2, logits = self.multihead_attn(tgt.transpose(0, 1), memory.transpose(0, 1), memory.transpose(0, 1))
        tgt = self.norm2(tgt + tgt2)
        tgt = self.norm3(tgt + self.linear2(F.relu(self.linear1(tgt))))
        return tgt, logits


class Decoder(nn.Module):
    def __init__(self, d, layers, ffn, cross_heads=None):
        super().__init__()
        self.layers = nn.ModuleList([TPN_DecoderLayer(d, ffn, cross_heads) for _ in range(layers)])


class ATMSingleHeadSeg(nn.Module):
    def __init__(self, embed, d, layers, ffn, cross_heads=None):
        super().__init__()
        self.q_proj = nn.Linear(embed * 2, d)
        self.decoder_1 = Decoder(d, layers, ffn, cross_heads)

    def forward(self, dense, glob, text, image_size):
        B, E, H, W = dense.shape
        mem = dense.reshape(B, E, H * W).permute(2, 0, 1)  # [N, B, E]
        t = text.expand(B, -1, -1)
        q = self.q_proj(torch.cat([torch.einsum('bd,bcd->bcd', glob, t), t], dim=-1)).transpose(0, 1)
        maps = []
        for layer in self.decoder_1.layers:
            q, logits = layer(q, mem, H, W)
            maps.append(logits.reshape(B, -1, H, W))
        pred = F.interpolate(maps[-1], size=image_size, mode='bilinear', align_corners=False)
        return maps, pred


class SptSeg(nn.Module):
    def __init__(self, grid, stored_grid, cross_heads=None):
        super().__init__()
        self.backbone = VPTCLIPVisionTransformer(patch=8, width=64, layers=2, heads=1, out_dim=32, T=4,
                                                 deep_layers=1, stored_grid=stored_grid, grid=grid)
        self.decode_head = ATMSingleHeadSeg(embed=32, d=32, layers=2, ffn=128, cross_heads=cross_heads)

    def forward(self, img, text):
        dense, glob = self.backbone(img)
        maps, pred = self.decode_head(dense, glob, text, img.shape[-2:])
        return maps, pred, dense, glob


def randomise(model, name):
    """Deterministic random weights; LayerNorm affine and top_down_transform moved off 1 / identity."""
    torch.manual_seed(Rng(name).ints([1], 0, 2 ** 31).item())
    for m in model.modules():
        if isinstance(m, nn.LayerNorm):
            m.weight.data = 1 + 0.2 * torch.randn(m.weight.shape)
            m.bias.data = 0.1 * torch.randn(m.bias.shape)
        if isinstance(m, nn.MultiheadAttention):
            m.in_proj_bias.data = 0.1 * torch.randn(m.in_proj_bias.shape)
        if isinstance(m, HiLo):
            m.top_down_transform.data += 0.1 * torch.randn(m.top_down_transform.shape)
            # A large l_proj bias points every token the same way, and the gate clamp(cos, 0, 1) is then
            # 0 everywhere or nowhere; a small one (the official init is 0) keeps both kinds of token.
            m.l_proj.bias.data *= 0.05  # (see also center_gates)
    model.backbone.complex_weight.data = torch.randn(model.backbone.complex_weight.shape) * 0.5
    model.eval()


def center_gates(model, image):
    """Turn each layer's hlfs.prompt away from the mean HiLo feature, so the gate opens for some tokens
    and not others (a random prompt often closes it everywhere: the features share a direction)."""
    with torch.no_grad():
        dense, _ = model.backbone(image)
        B, E, H, W = dense.shape
        for layer in model.decode_head.decoder_1.layers:
            h = layer.hlfs
            x = F.pad(dense.permute(0, 2, 3, 1), (0, 0, 0, (3 - W % 3) % 3, 0, (3 - H % 3) % 3))
            feats = torch.cat([h.hf(x)[:, :H, :W], h.lf(x)[:, :H, :W]], dim=-1).reshape(-1, E)
            mu = F.normalize(F.normalize(feats, dim=-1).mean(0), dim=0)
            h.prompt.data -= (h.prompt.data @ mu) * mu


def is_trainable(key):
    """The official freezing (backbone keys containing 'prompt'; decode head) + the spectral filter."""
    return key.startswith('decode_head.') or (key.startswith('backbone.') and ('prompt' in key or 'complex_weight' in key))


def run_case(model, image, text, name):
    torch.manual_seed(Rng(name + '.w').ints([1], 0, 2 ** 31).item())
    maps, pred, dense, glob = model(image, text)
    ws = [torch.randn(m.shape) for m in maps]
    loss = sum((m * w).sum() for m, w in zip(maps, ws))
    model.zero_grad()
    loss.backward()
    f = lambda t: t.detach().to(torch.float32).contiguous()  # noqa: E731
    out = {'in.image': f(image), 'in.text': f(text)}
    for l, (m, w) in enumerate(zip(maps, ws)):
        out[f'in.w{l}'] = f(w)
        out[f'out.logits{l}'] = f(m)
    if name == 'grid7':  # the upsampled map, first image only (the files stay small)
        out['out.pred0'] = f(pred[0])
    out['out.dense'] = f(dense)
    out['out.global'] = f(glob)
    for key, p in model.named_parameters():
        if is_trainable(key):
            # The last layer's proj/FFN/norms do not reach any logits: their gradient is 0 (None in torch).
            out[f'grad.{key}'] = f(torch.zeros_like(p) if p.grad is None else p.grad)
    return out


def state(model, keep=lambda k: True):
    """The state dict as float16 (the weights are fp16-rounded, so this is exact and halves the files)."""
    return {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items() if keep(k)}


def main():
    torch.set_num_threads(1)  # summation order does not depend on the machine
    os.makedirs(OUT, exist_ok=True)
    rng = Rng('sptseg.inputs')
    text = F.normalize(rng.randn([5, 32]), dim=-1)

    torch.manual_seed(seed_of('sptseg.grid8'))  # the constructors draw from the global generator
    m8 = SptSeg(grid=8, stored_grid=8)
    randomise(m8, 'sptseg.grid8')
    img8 = rng.randn([2, 3, 64, 64])
    center_gates(m8, img8)
    for p in m8.parameters():  # round to float16 so that the stored (F16) weights are exactly the ones used
        p.data = p.data.to(torch.float16).to(torch.float64)
    meta = {'config': json.dumps({'patch': 8, 'width': 64, 'layers': 2, 'T': 4, 'embed': 32,
                                  'decoder_width': 32, 'decoder_layers': 2, 'ffn': 128, 'classes': 5})}
    write_safetensors(os.path.join(OUT, 'grid8.safetensors'), {**state(m8), **run_case(m8, img8, text, 'grid8')}, meta)

    m7 = SptSeg(grid=7, stored_grid=8)
    sd = m8.state_dict()
    sd['backbone.complex_weight'] = torch.randn([7, 4, 64, 2], generator=torch.Generator().manual_seed(7)) * 0.5
    sd['backbone.complex_weight'] = sd['backbone.complex_weight'].to(torch.float16).to(torch.float64)
    m7.load_state_dict(sd)
    m7.eval()
    img7 = rng.randn([2, 3, 56, 56])
    center_gates(m7, img7)  # the 7x7 features differ: re-aim the gates (grid7 stores its hlfs.prompt too)
    for p in m7.parameters():
        p.data = p.data.to(torch.float16).to(torch.float64)
    with torch.no_grad():
        m7(img7, text)
    print('grid7 gate open fraction per layer:', [layer.hlfs.open_fraction for layer in m7.decode_head.decoder_1.layers])
    own7 = lambda k: k == 'backbone.complex_weight' or k.endswith('hlfs.prompt')  # noqa: E731
    write_safetensors(os.path.join(OUT, 'grid7.safetensors'), {**state(m7, own7), **run_case(m7, img7, text, 'grid7')}, meta)

    torch.manual_seed(seed_of('sptseg.cross'))
    mc = SptSeg(grid=8, stored_grid=8, cross_heads=2)
    mc.load_state_dict({**{k: v for k, v in m8.state_dict().items() if k.startswith('backbone.')},
                        **{k: v.to(torch.float16).to(torch.float64) for k, v in mc.state_dict().items() if k.startswith('decode_head.')}})
    mc.eval()
    with torch.no_grad():
        maps, pred, _, _ = mc(img8, text)
    cross = state(mc, lambda k: k.startswith('decode_head.'))
    for l, m in enumerate(maps):
        cross[f'out.logits{l}'] = m.to(torch.float32)
    write_safetensors(os.path.join(OUT, 'cross.safetensors'), cross, {'heads': '2'})

    # How far torch's own float32 forward is from the float64 reference (the scale of a fair tolerance).
    m32 = SptSeg(grid=8, stored_grid=8).to(torch.float32)
    m32.load_state_dict({k: v.to(torch.float32) for k, v in m8.state_dict().items()})
    m32.eval()
    with torch.no_grad():
        maps32, _, _, _ = m32(img8.to(torch.float32), text.to(torch.float32))
    with torch.no_grad():
        maps64, _, _, _ = m8(img8, text)
    err = (maps32[-1].double() - maps64[-1]).abs().max() / maps64[-1].abs().max()
    print(f'torch float32 vs float64, last-layer logits: max rel err {err.item():.2e}')
    print('gate open fraction per layer:', [layer.hlfs.open_fraction for layer in m8.decode_head.decoder_1.layers],
          '| max |logits| per layer:', [m.abs().max().item() for m in maps64])
    for f in sorted(os.listdir(OUT)):
        print(f, os.path.getsize(os.path.join(OUT, f)), 'bytes')


if __name__ == '__main__':
    main()
