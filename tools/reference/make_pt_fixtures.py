"""Write the fixtures of test/engine/io: small PyTorch archives, a hand-made safetensors file and a
malicious pickle, each with a JSON of the values the TypeScript readers must find.

Run from the repository root with the Debian torch:  /usr/bin/python3 tools/reference/make_pt_fixtures.py
Writes test/fixtures/io/:
  state_dict.pt (+ .expected.json)   torch.save of an OrderedDict: fp32/fp16/bf16/f64/int tensors, a
                                     transposed (non-contiguous) tensor, two views of one storage with
                                     offsets, a 0-d scalar and an empty tensor
  torchscript.pt (+ .expected.json)  torch.jit.save(torch.jit.script(m)) of a tiny CLIP-shaped module:
                                     visual.conv1, visual.transformer.resblocks.N.attn.in_proj_weight, ...,
                                     fp16 weights as in OpenAI's checkpoints, int attributes (the
                                     code/*.debug_pkl entries are dropped to keep it under 50 KB)
  handmade.safetensors (+ .expected.json)  written with struct + json; header length not a multiple of
                                     8, so every tensor is unaligned
  malicious.pt                       a zip whose data.pkl calls os.system (must be refused)
Expected values: F16/BF16 as raw uint16 bits, floats as Python floats (exact for f32), ints as ints.
"""
import collections
import json
import math
import os
import struct
import zipfile

import torch
import torch.nn as nn

from common import half_like_clip, strip_debug_info

OUT = os.path.join('test', 'fixtures', 'io')


def expected_entry(t):
    t = t.detach().contiguous()
    dtype = {torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.float64: 'F64',
             torch.int64: 'I64', torch.int32: 'I32', torch.uint8: 'U8'}[t.dtype]
    flat = t.reshape(-1)
    if dtype in ('F16', 'BF16'):
        values = [v & 0xFFFF for v in flat.view(torch.int16).tolist()]
    else:
        values = flat.tolist()
    return {'dtype': dtype, 'shape': list(t.shape), 'values': values}


def write_json(name, obj):
    """One line per tensor, so the file stays readable and diffs stay small."""
    def section(d):
        return '{\n' + ',\n'.join('  %s: %s' % (json.dumps(k), json.dumps(v)) for k, v in d.items()) + '\n }'
    text = '{\n' + ',\n'.join(' %s: %s' % (json.dumps(k), section(v) if k == 'tensors' else json.dumps(v))
                               for k, v in obj.items()) + '\n}\n'
    json.loads(text)
    with open(os.path.join(OUT, name), 'w') as f:
        f.write(text)


# --- (a) torch.save(state_dict) ------------------------------------------------------------------

def make_state_dict():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4))
    sd = net.state_dict()  # carries a _metadata attribute, as real state dicts do
    sd['half.weight'] = torch.randn(2, 3).half()
    sd['bf16'] = torch.tensor([1.5, -2.0, 0.15625], dtype=torch.bfloat16)
    sd['f64'] = torch.randn(2, dtype=torch.float64)
    sd['ids'] = torch.tensor([1, -2, 3, 2**40], dtype=torch.int64)
    sd['i32'] = torch.tensor([7, -8], dtype=torch.int32)
    sd['transposed'] = torch.randn(3, 4).t()  # strides (1, 4)
    base = torch.randn(24)
    sd['shared.a'] = base[2:8].view(2, 3)  # offset 2
    sd['shared.b'] = base[10:22].view(3, 4)[:, 1:3]  # offset 11, strides (4, 1), non-contiguous
    sd['half.t'] = torch.randn(2, 3).half().t()
    sd['scalar'] = torch.tensor(3.5)
    sd['empty'] = torch.zeros(0, 3)
    assert not sd['transposed'].is_contiguous() and not sd['shared.b'].is_contiguous()
    torch.save(sd, os.path.join(OUT, 'state_dict.pt'))
    write_json('state_dict.expected.json',
               {'tensors': {k: expected_entry(v) for k, v in sd.items()}, 'scalars': {}})


# --- (b) a TorchScript module shaped like OpenAI CLIP ----------------------------------------------

class ResidualAttentionBlock(nn.Module):
    def __init__(self, d: int, heads: int):
        super().__init__()
        self.attn = nn.MultiheadAttention(d, heads)
        self.ln_1 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(collections.OrderedDict([
            ('c_fc', nn.Linear(d, d * 2)), ('c_proj', nn.Linear(d * 2, d))]))
        self.ln_2 = nn.LayerNorm(d)

    def forward(self, x):
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, d: int, layers: int, heads: int):
        super().__init__()
        self.resblocks = nn.Sequential(*[ResidualAttentionBlock(d, heads) for _ in range(layers)])

    def forward(self, x):
        return self.resblocks(x)


class VisionTransformer(nn.Module):
    def __init__(self, resolution: int, patch: int, d: int, out: int):
        super().__init__()
        self.input_resolution = resolution
        self.output_dim = out
        self.conv1 = nn.Conv2d(3, d, kernel_size=patch, stride=patch, bias=False)
        self.class_embedding = nn.Parameter(torch.randn(d))
        self.positional_embedding = nn.Parameter(torch.randn((resolution // patch) ** 2 + 1, d))
        self.ln_pre = nn.LayerNorm(d)
        self.transformer = Transformer(d, 2, 2)
        self.ln_post = nn.LayerNorm(d)
        self.proj = nn.Parameter(torch.randn(d, out))

    def forward(self, x):
        x = self.conv1(x).flatten(2).permute(2, 0, 1)
        x = self.transformer(self.ln_pre(x + self.positional_embedding[1:].unsqueeze(1)))
        return self.ln_post(x[0]) @ self.proj


class TinyCLIP(nn.Module):
    def __init__(self):
        super().__init__()
        self.context_length = 5
        self.vocab_size = 11
        self.visual = VisionTransformer(resolution=4, patch=2, d=8, out=4)
        self.token_embedding = nn.Embedding(11, 8)
        self.positional_embedding = nn.Parameter(torch.randn(5, 8))
        self.ln_final = nn.LayerNorm(8)
        self.text_projection = nn.Parameter(torch.randn(4, 8).t())  # non-contiguous parameter
        self.logit_scale = nn.Parameter(torch.ones([]) * math.log(1 / 0.07))
        # OpenAI's JIT checkpoints carry these as 0-d int64 tensors (clip.py calls .item() on them)
        self.register_buffer('input_resolution', torch.tensor(4))

    def forward(self, image):
        return self.visual(image) * self.logit_scale.exp()


def make_torchscript():
    torch.manual_seed(1)
    m = TinyCLIP()
    half_like_clip(m)
    path = os.path.join(OUT, 'torchscript.pt')
    torch.jit.save(torch.jit.script(m), path)
    strip_debug_info(path)
    loaded = torch.jit.load(path)  # still a valid TorchScript archive
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in m.state_dict().items())
    scalars = {'context_length': 5, 'vocab_size': 11, 'visual.input_resolution': 4,
               'visual.output_dim': 4, 'visual.transformer.resblocks.0.attn.num_heads': 2}
    write_json('torchscript.expected.json',
               {'tensors': {k: expected_entry(v) for k, v in m.state_dict().items()}, 'scalars': scalars})


# --- (c) hand-made safetensors ---------------------------------------------------------------------

def make_handmade_safetensors():
    # (name, dtype, shape, struct format, values); BF16 values are exact in bfloat16
    tensors = [
        ('a.f16', 'F16', [3], 'e', [1.0, -2.5, 0.0999755859375]),
        ('b.f32', 'F32', [2, 2], 'f', [0.5, -1.25, 3.0, 1e-3]),
        ('c.bf16', 'BF16', [2], None, [1.5, -0.15625]),
        ('d.f64', 'F64', [2], 'd', [math.pi, -1e300]),
        ('e.i64', 'I64', [3], 'q', [-1, 2**53, 7]),
        ('f.i32', 'I32', [2], 'i', [-5, 2**31 - 1]),
        ('g.u8', 'U8', [3], 'B', [0, 128, 255]),
        ('h.scalar', 'F32', [], 'f', [2.0]),
        ('i.empty', 'F32', [0, 4], 'f', []),
    ]
    header, data, expected = {'__metadata__': {'format': 'pt', 'note': 'hand made'}}, b'', {}
    for name, dtype, shape, fmt, values in tensors:
        if dtype == 'BF16':
            raw = b''.join(struct.pack('<f', v)[2:] for v in values)
            bits = [struct.unpack('<H', struct.pack('<f', v)[2:])[0] for v in values]
        else:
            raw = struct.pack('<%d%s' % (len(values), fmt), *values)
            bits = [struct.unpack('<H', struct.pack('<e', v))[0] for v in values] if dtype == 'F16' else values
        header[name] = {'dtype': dtype, 'shape': shape, 'data_offsets': [len(data), len(data) + len(raw)]}
        expected[name] = {'dtype': dtype, 'shape': shape, 'values': bits}
        data += raw
    text = json.dumps(header).encode()
    if len(text) % 8 == 0:
        text += b' '  # keep it unaligned on purpose
    with open(os.path.join(OUT, 'handmade.safetensors'), 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + data)
    write_json('handmade.expected.json', {'metadata': header['__metadata__'], 'tensors': expected})


# --- (d) a malicious pickle ------------------------------------------------------------------------

def make_malicious():
    # PROTO 2; GLOBAL 'os system'; 'echo pwned'; TUPLE1; REDUCE; STOP  (never unpickle this in Python)
    payload = b'\x80\x02cos\nsystem\nq\x00X\x0a\x00\x00\x00echo pwnedq\x01\x85q\x02Rq\x03.'
    with zipfile.ZipFile(os.path.join(OUT, 'malicious.pt'), 'w', zipfile.ZIP_STORED) as z:
        z.writestr('malicious/data.pkl', payload)
        z.writestr('malicious/version', '3\n')


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    make_state_dict()
    make_torchscript()
    make_handmade_safetensors()
    make_malicious()
    for name in sorted(os.listdir(OUT)):
        print('%8d  %s' % (os.path.getsize(os.path.join(OUT, name)), os.path.join(OUT, name)))
