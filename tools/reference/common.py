"""Shared helpers for the PyTorch reference generators in tools/reference/.

  write_safetensors(path, tensors, metadata)  the safetensors format written by hand (no dependency on
                                              the `safetensors` package): u64 little-endian header
                                              length, JSON header padded with spaces to a multiple of 8,
                                              raw little-endian data, tensors in name order
  half_like_clip(model)                       clip/model.py convert_weights: the fp16 parts of a CLIP .pt
  strip_debug_info(path)                      drop a TorchScript zip's code/*.debug_pkl source maps
  Rng(name)                                   a torch generator seeded from a case name (crc32), so
                                              adding a case never changes the numbers of another
  OpFixture(family)                           one fixture file of op cases (see `case` below for the
                                              tensor names and the per-case metadata)

Run with Debian's torch: /usr/bin/python3 (the PATH python has no torch).
"""
import json
import os
import struct
import zipfile
import zlib

import torch
import torch.nn as nn

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))

# torch dtype -> (safetensors dtype, struct format letter)
_CODES = {
    torch.float32: ('F32', 'f'),
    torch.float64: ('F64', 'd'),
    torch.float16: ('F16', 'e'),
    torch.int64: ('I64', 'q'),
    torch.int32: ('I32', 'i'),
    torch.uint8: ('U8', 'B'),
}


def safetensors_bytes(tensors, metadata=None):
    """The bytes of a safetensors file holding `tensors` (name -> torch.Tensor) and string metadata."""
    header = {}
    if metadata:
        header['__metadata__'] = {k: str(v) for k, v in metadata.items()}
    blobs, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        code, _ = _CODES[t.dtype]
        # Raw little-endian bytes (numpy has no bfloat16, but every dtype here is one numpy knows).
        raw = t.numpy().astype(t.numpy().dtype.newbyteorder('<'), copy=False).tobytes()
        header[name] = {'dtype': code, 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    return struct.pack('<Q', len(text)) + text + b''.join(blobs)


def write_safetensors(path, tensors, metadata=None):
    """Write atomically (a temp file renamed into place), creating the folder if needed."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(safetensors_bytes(tensors, metadata))
    os.replace(tmp, path)


def half_like_clip(model):
    """clip/model.py convert_weights: conv, linear and attention weights and the projections to fp16."""
    def convert(layer):
        if isinstance(layer, (nn.Conv1d, nn.Conv2d, nn.Linear)):
            layer.weight.data = layer.weight.data.half()
            if layer.bias is not None:
                layer.bias.data = layer.bias.data.half()
        if isinstance(layer, nn.MultiheadAttention):
            for name in ('in_proj_weight', 'in_proj_bias'):
                getattr(layer, name).data = getattr(layer, name).data.half()
        for name in ('text_projection', 'proj'):
            if hasattr(layer, name) and isinstance(getattr(layer, name), torch.Tensor):
                getattr(layer, name).data = getattr(layer, name).data.half()
    model.apply(convert)


def strip_debug_info(path):
    """Drop the code/*.debug_pkl source maps of a TorchScript zip (torch.jit.load does not need them)."""
    with zipfile.ZipFile(path) as z:
        entries = [(info, z.read(info)) for info in z.infolist() if not info.filename.endswith('.debug_pkl')]
    with zipfile.ZipFile(path, 'w') as z:
        for info, data in entries:
            z.writestr(info, data)


def seed_of(name):
    return zlib.crc32(name.encode('utf-8'))


class Rng:
    """float64 random inputs from a generator seeded by a name. Shapes are passed as lists."""

    def __init__(self, name):
        self.g = torch.Generator().manual_seed(seed_of(name))

    def randn(self, shape, scale=1.0):
        return torch.randn(shape, generator=self.g, dtype=torch.float64) * scale

    def uniform(self, shape, lo=0.0, hi=1.0):
        return lo + (hi - lo) * torch.rand(shape, generator=self.g, dtype=torch.float64)

    def away(self, shape, gap=0.2):
        """Normal samples pushed at least `gap` away from 0 (no kinks for relu / abs, safe divisors)."""
        x = self.randn(shape)
        return torch.where(x < 0, x - gap, x + gap)

    def pos(self, shape, lo=0.5, hi=2.0):
        return self.uniform(shape, lo, hi)

    def distinct(self, shape, spread=4.0):
        """Values at least spread/(2n) apart, in random order: no ties for max / argmax."""
        n = 1
        for s in shape:
            n *= s
        perm = torch.randperm(n, generator=self.g).to(torch.float64)
        jitter = torch.rand(n, generator=self.g, dtype=torch.float64) * 0.5
        return ((perm + jitter) / n * spread - spread / 2).reshape(shape)

    def ints(self, shape, lo, hi):
        return torch.randint(lo, hi, shape, generator=self.g, dtype=torch.int64)

    def mask(self, shape):
        """0/1 floats (a condition for `where`)."""
        return (torch.rand(shape, generator=self.g, dtype=torch.float64) < 0.5).to(torch.float64)


DTYPES = {'f32': torch.float32, 'f64': torch.float64}
DTYPE_NAMES = {torch.float32: 'float32', torch.float64: 'float64'}


class OpFixture:
    """The cases of one op family, written to test/fixtures/ops/<family>.safetensors.

    Each case runs twice, in float32 and float64 (case names get a `_f32` / `_f64` suffix). For a case
    `c` the file holds
      c.in0, c.in1, ...     the inputs (float inputs in the case dtype, integer inputs as I64)
      c.out  (c.out0, ...)  the output(s); boolean outputs are stored as 0/1 in the case dtype
      c.gout (c.gout0, ...) the upstream gradient used for backward (only when some input has a grad)
      c.grad0, ...          d(sum(out * gout))/d(in_i) for every i listed in the metadata's `grad`
    and __metadata__[c] is a JSON string: {op, args, dtype, grad: [i...], perm: [p or null per input],
    outs: number of outputs (0 = a single tensor named `out`)}. A `perm` p means the op was applied
    to in_i.permute(p) (a non-contiguous view in torch) while the gradient is taken w.r.t. in_i.
    """

    def __init__(self, family):
        self.family = family
        self.tensors = {}
        self.meta = {}

    def case(self, name, op, inputs, fn, args=None, grad=None, perm=None):
        """Run `fn(*inputs)` (inputs: float64 or int64 tensors) in both dtypes and record everything.

        grad: indices of inputs to differentiate (default: every floating-point input; [] = forward only).
        perm: {input index: permutation} applied before `fn`.
        """
        if grad is None:
            grad = [i for i, x in enumerate(inputs) if x.is_floating_point()]
        perm = perm or {}
        for suffix, dtype in DTYPES.items():
            cname = f'{name}_{suffix}'
            if cname in self.meta:
                raise ValueError(f'{self.family}: duplicate case {cname}')
            leaves = []
            for i, x in enumerate(inputs):
                leaf = x.to(dtype).clone() if x.is_floating_point() else x.clone()
                if i in grad:
                    leaf.requires_grad_(True)
                leaves.append(leaf)
            views = [leaf.permute(perm[i]) if i in perm else leaf for i, leaf in enumerate(leaves)]
            result = fn(*views)
            outs = list(result) if isinstance(result, (list, tuple)) else [result]
            single = not isinstance(result, (list, tuple))
            onames = ['out'] if single else [f'out{k}' for k in range(len(outs))]
            for oname, o in zip(onames, outs):
                stored = o.detach()
                if stored.dtype == torch.bool:
                    stored = stored.to(dtype)
                self.tensors[f'{cname}.{oname}'] = stored.clone()
            for i, leaf in enumerate(leaves):
                self.tensors[f'{cname}.in{i}'] = leaf.detach().clone()
            if grad:
                g = torch.Generator().manual_seed(seed_of(name + '.gout'))
                gouts = [torch.randn(list(o.shape), generator=g, dtype=torch.float64).to(dtype) for o in outs]
                diff = [(o, go) for o, go in zip(outs, gouts) if o.requires_grad]
                torch.autograd.backward([o for o, _ in diff], [go for _, go in diff])
                for oname, go in zip(onames, gouts):
                    self.tensors[f'{cname}.g{oname}'] = go
                for i in grad:
                    gi = leaves[i].grad
                    self.tensors[f'{cname}.grad{i}'] = torch.zeros_like(leaves[i]) if gi is None else gi.clone()
            self.meta[cname] = json.dumps({
                'op': op,
                'args': args or {},
                'dtype': DTYPE_NAMES[dtype],
                'grad': grad,
                'perm': [perm.get(i) for i in range(len(inputs))],
                'outs': 0 if single else len(outs),
            }, separators=(',', ':'))

    def save(self, folder=os.path.join(REPO, 'test', 'fixtures', 'ops')):
        path = os.path.join(folder, f'{self.family}.safetensors')
        write_safetensors(path, self.tensors, self.meta)
        size = os.path.getsize(path)
        print(f'wrote {os.path.relpath(path, REPO)}: {len(self.meta)} cases, {size / 1024:.1f} KiB')
        return size
