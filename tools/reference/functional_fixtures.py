"""PyTorch golden values for the functional pieces of engine/functional/ that SPT-SEG adds:
test/fixtures/functional/<family>.safetensors, read by test/engine/functional/*.test.ts.

  interpolate  F.interpolate(mode='bilinear', align_corners=False): up, down, mixed, 1-pixel sides
  normalize    F.normalize(p=2): default dim 1, dim -1, a zero row (the eps branch)
  pool         F.avg_pool2d: kernel = stride, stride < kernel, sizes that leave a remainder
  window       Swin's window_partition after F.pad (right/bottom), and window_reverse + crop
  fft          torch.fft.rfft2 / irfft2 (last two dims, all three norms, H, W in 1..33), complexMul

The same OpFixture format as ops_fixtures.py (see common.py): every case in float32 and float64, with
inputs, outputs, an upstream gradient and the input gradients. Complex outputs are stored as
torch.view_as_real (last axis = real, imaginary), the engine's layout.

Run with Debian's torch:  /usr/bin/python3 tools/reference/functional_fixtures.py
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import REPO, OpFixture, Rng  # noqa: E402

FOLDER = os.path.join(REPO, 'test', 'fixtures', 'functional')


def interpolate_family():
    ff = OpFixture('interpolate')
    for name, shape, size in [('up_14to32', [1, 1, 14, 14], [32, 32]), ('down_17to7', [1, 1, 17, 17], [7, 7]),
                              ('mixed_7x5to5x9', [2, 3, 7, 5], [5, 9]), ('one_1x4to3x8', [1, 1, 1, 4], [3, 8]),
                              ('to_one_4x3to1x1', [1, 2, 4, 3], [1, 1])]:
        r = Rng(f'interpolate.{name}')
        ff.case(name, 'interpolate', [r.randn(shape)],
                lambda x, size=size: F.interpolate(x, size=size, mode='bilinear', align_corners=False),
                args={'size': size})
    return ff


def normalize_family():
    ff = OpFixture('normalize')
    r = Rng('normalize.default')
    ff.case('default_dim1', 'normalize', [r.randn([2, 5, 3])], lambda x: F.normalize(x), args={})
    r = Rng('normalize.last')
    ff.case('dim_last', 'normalize', [r.randn([4, 6])], lambda x: F.normalize(x, dim=-1), args={'dim': -1})
    r = Rng('normalize.zero')
    x = r.randn([3, 4])
    x[1] = 0.0
    ff.case('zero_row', 'normalize', [x], lambda x: F.normalize(x, dim=-1), args={'dim': -1})
    r = Rng('normalize.eps')
    x = r.randn([3, 4])
    x[2] *= 1e-3  # norm below eps = 0.1: divided by eps, no gradient through the norm
    ff.case('big_eps', 'normalize', [x], lambda x: F.normalize(x, dim=1, eps=0.1), args={'dim': 1, 'eps': 0.1})
    r = Rng('normalize.perm')
    ff.case('perm', 'normalize', [r.randn([3, 2, 4])], lambda x: F.normalize(x, dim=0), args={'dim': 0}, perm={0: [2, 0, 1]})
    return ff


def pool_family():
    ff = OpFixture('pool')
    for name, shape, k, s in [('k3_12', [1, 2, 12, 12], 3, None), ('k2_s1', [2, 3, 5, 4], 2, 1),
                              ('k3_s2_rem', [1, 2, 8, 7], 3, 2), ('k2_rem', [1, 1, 5, 7], 2, None),
                              ('chw_k2', [3, 4, 6], 2, None)]:
        r = Rng(f'pool.{name}')
        ff.case(name, 'avgPool2d', [r.randn(shape)],
                lambda x, k=k, s=s: F.avg_pool2d(x, k, s),
                args={'kernelSize': k, 'stride': s})
    return ff


def window_partition(x, ws):
    """Swin's window_partition after F.pad on the right and bottom (SPT-SEG's HiLo, method.md §2.4)."""
    B, H, W, C = x.shape
    x = F.pad(x, (0, 0, 0, (-W) % ws, 0, (-H) % ws))
    Hp, Wp = x.shape[1], x.shape[2]
    x = x.view(B, Hp // ws, ws, Wp // ws, ws, C)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, ws, ws, C)


def window_reverse(windows, ws, H, W):
    nH, nW = -(-H // ws), -(-W // ws)
    B = windows.shape[0] // (nH * nW)
    x = windows.view(B, nH, nW, ws, ws, -1).permute(0, 1, 3, 2, 4, 5).contiguous().view(B, nH * ws, nW * ws, -1)
    return x[:, :H, :W, :]


def window_family():
    ff = OpFixture('window')
    for name, shape, ws in [('pad_5x7_ws3', [2, 5, 7, 2], 3), ('exact_6x4_ws2', [1, 6, 4, 2], 2),
                            ('pad_10x11_ws3', [1, 10, 11, 1], 3), ('ws1', [1, 2, 3, 2], 1)]:
        r = Rng(f'window.partition.{name}')
        ff.case(f'partition_{name}', 'windowPartition', [r.randn(shape)],
                lambda x, ws=ws: window_partition(x, ws), args={'ws': ws})
        B, H, W, C = shape
        n = B * (-(-H // ws)) * (-(-W // ws))
        r = Rng(f'window.reverse.{name}')
        ff.case(f'reverse_{name}', 'windowReverse', [r.randn([n, ws, ws, C])],
                lambda w, ws=ws, H=H, W=W: window_reverse(w, ws, H, W), args={'ws': ws, 'H': H, 'W': W})
    return ff


def rfft2_fn(norm):
    return lambda x: torch.view_as_real(torch.fft.rfft2(x, norm=norm))


def irfft2_fn(s, norm):
    return lambda X: torch.fft.irfft2(torch.view_as_complex(X), s=s, norm=norm)


def complex_mul(a, b):
    return torch.view_as_real(torch.view_as_complex(a) * torch.view_as_complex(b))


# Lengths of the H sweep (the complex axis): every length 1..33, as along W (where odd / even matter).
SWEEP_H = tuple(range(1, 34))


def fft_family():
    """rfft2 / irfft2: every length 1..33 along W and along H (the other dim 2), all three norms, odd and
    even, the ViT grids 14x14 and 32x32, irfft2's crop / zero-pad to s, and SPT's filter chain."""
    ff = OpFixture('fft')
    norms = ['backward', 'ortho', 'forward']
    for n in range(1, 34):
        norm = norms[n % 3]
        r = Rng(f'fft.sweep.{n}')
        if n in SWEEP_H:
            ff.case(f'rfft2_sweepH_{n:02d}x2', 'rfft2', [r.randn([n, 2])], rfft2_fn(norm), args={'norm': norm}, grad=[])
            ff.case(f'irfft2_sweepH_{n:02d}x2', 'irfft2', [r.randn([n, 2, 2])], irfft2_fn([n, 2], norm),
                    args={'s': [n, 2], 'norm': norm}, grad=[])
        ff.case(f'rfft2_sweepW_2x{n:02d}', 'rfft2', [r.randn([2, n])], rfft2_fn(norm), args={'norm': norm}, grad=[])
        ff.case(f'irfft2_sweepW_2x{n:02d}', 'irfft2', [r.randn([2, n // 2 + 1, 2])], irfft2_fn([2, n], norm),
                args={'s': [2, n], 'norm': norm}, grad=[])
    for norm in norms:
        for H, W in [(5, 6), (4, 7), (1, 1), (2, 2)] + ([(14, 14)] if norm == 'ortho' else []):
            r = Rng(f'fft.grad.{norm}.{H}x{W}')
            ff.case(f'rfft2_{norm}_{H}x{W}', 'rfft2', [r.randn([2, H, W] if H < 14 else [H, W])], rfft2_fn(norm), args={'norm': norm})
            ff.case(f'irfft2_{norm}_{H}x{W}', 'irfft2', [r.randn([2, H, W // 2 + 1, 2] if H < 14 else [H, W // 2 + 1, 2])],
                    irfft2_fn([H, W], norm), args={'s': [H, W], 'norm': norm})
    r = Rng('fft.vit32')  # the SPT grid, forward only (the 14x14 case above checks the gradients)
    ff.case('rfft2_ortho_32x32', 'rfft2', [r.randn([32, 32])], rfft2_fn('ortho'), args={'norm': 'ortho'}, grad=[])
    ff.case('irfft2_ortho_32x32', 'irfft2', [r.randn([32, 17, 2])], irfft2_fn([32, 32], 'ortho'),
            args={'s': [32, 32], 'norm': 'ortho'}, grad=[])
    # s different from the input's size: crop / zero-pad rows to s0 and columns to s1/2+1.
    for tag, shape, s in [('crop', [6, 5, 2], [4, 6]), ('pad', [3, 2, 2], [5, 7]), ('mixed', [3, 6, 2], [5, 4])]:
        r = Rng(f'fft.s.{tag}')
        ff.case(f'irfft2_s_{tag}', 'irfft2', [r.randn(shape)], irfft2_fn(s, 'backward'), args={'s': s, 'norm': 'backward'})
    r = Rng('fft.complexMul')
    ff.case('complexMul_broadcast', 'complexMul', [r.randn([2, 3, 4, 2]), r.randn([3, 1, 2])], complex_mul)
    # SPT's fre_filter core (method.md §1.2): irfft2(rfft2(x, ortho) * w, s, ortho).
    r = Rng('fft.spt')
    ff.case('spt_filter_6x6', 'sptFilter', [r.randn([1, 2, 6, 6]), r.randn([2, 6, 4, 2])],
            lambda x, w: torch.fft.irfft2(torch.fft.rfft2(x, norm='ortho') * torch.view_as_complex(w), s=(6, 6), norm='ortho'))
    return ff


FAMILIES = [interpolate_family, normalize_family, pool_family, window_family, fft_family]


def main():
    torch.set_num_threads(1)
    wanted = sys.argv[1:]
    total = sum(make().save(FOLDER) for make in FAMILIES if not wanted or make.__name__.split('_')[0] in wanted)
    print(f'functional fixtures: {total / 1024:.1f} KiB in all')


if __name__ == '__main__':
    main()
