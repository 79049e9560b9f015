"""PyTorch golden values for correlate1d (engine/ops/correlate.ts): test/fixtures/ops/correlate.safetensors,
read by test/engine/ops/correlate.test.ts. Same OpFixture format as ops_fixtures.py (common.py): each case in
float32 and float64, with an upstream gradient and the input's gradient.

The reference is a one-channel conv1d along the filtered dim with zero padding K // 2 (conv1d is a
correlation: no kernel flip). Cases: every dim of a 3-D tensor, asymmetric taps (so a backward that forgot
to reverse them fails), an axis shorter than the window, one tap, SSIM's Gaussian along H and along W, inner
sizes 2 and 6, and a permuted (non-contiguous) input.

Run with Debian's torch:  /usr/bin/python3 tools/reference/correlate_fixtures.py  (or `npm run fixtures`)
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import OpFixture, Rng  # noqa: E402
from losses_fixtures import gaussian  # noqa: E402


def torch_correlate1d(x, weights, dim):
    """correlate1d(x, weights, dim) in torch terms: a 1-channel conv1d along `dim`, zero padding K // 2."""
    K = len(weights)
    xm = x.movedim(dim, -1)
    w = torch.tensor(weights, dtype=x.dtype).view(1, 1, K)
    y = F.conv1d(xm.reshape(-1, 1, xm.shape[-1]), w, padding=K // 2)
    return y.reshape(xm.shape).movedim(-1, dim)


def correlate_family():
    """A fixed filter along one dim: every dim of a 3-D tensor, asymmetric taps (the backward reverses
    them), an axis shorter than the window, one tap, SSIM's Gaussian along H and W, a permuted input."""
    ff = OpFixture('correlate')
    g11 = gaussian(11, 1.5, torch.float64).tolist()  # SSIM's window, as losses_fixtures builds it
    for tag, shape, weights, dim in (
        ('last_3taps', [2, 3, 9], [0.5, -1.0, 2.0], -1), ('mid_5taps', [2, 13, 5], [0.25, -0.5, 1.0, 2.0, -1.5], 1),
        ('first_5taps', [7, 4, 3], [1.0, 0.0, -2.0, 0.5, 0.75], 0), ('short_axis_11', [3, 4], g11, -1),
        ('one_tap', [2, 5], [-1.25], 0), ('ssim_H', [1, 2, 16, 12], g11, -2), ('ssim_W', [1, 2, 16, 12], g11, -1),
        ('inner_2', [3, 8, 2], [1.0, 2.0, 3.0], 1), ('inner_6', [2, 9, 6], [0.5, -1.0, 2.0], 1),
    ):
        r = Rng(f'correlate.{tag}')
        ff.case(tag, 'correlate1d', [r.randn(shape)], lambda x, w=weights, d=dim: torch_correlate1d(x, w, d),
                args={'weights': weights, 'dim': dim})
    r = Rng('correlate.perm')
    ff.case('perm', 'correlate1d', [r.randn([5, 4])], lambda x: torch_correlate1d(x, [1.0, -2.0, 0.5], 1),
            args={'weights': [1.0, -2.0, 0.5], 'dim': 1}, perm={0: [1, 0]})
    return ff


def main():
    torch.set_num_threads(1)
    print(f'correlate fixtures: {correlate_family().save() / 1024:.1f} KiB')


if __name__ == '__main__':
    main()
