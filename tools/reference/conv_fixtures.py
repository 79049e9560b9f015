"""PyTorch reference for engine/functional/conv.ts: torch.nn.functional.conv2d cases.

Writes test/fixtures/functional/conv.safetensors in the OpFixture layout (see common.py): each case in
float32 and float64, with the gradients of every input (input, weight, bias) for a random upstream
gradient. Cases cover stride 1 and 2, zero padding, non-square kernels and inputs, no bias, a
non-contiguous (permuted) input, and an output side that drops the last rows (floor division).

Run: /usr/bin/python3 tools/reference/conv_fixtures.py
"""
import os

import torch
import torch.nn.functional as F

from common import REPO, OpFixture, Rng


def conv(stride, padding):
    def f(x, w, b=None):
        return F.conv2d(x, w, b, stride=stride, padding=padding)
    return f


def conv_family():
    ff = OpFixture('conv')
    r = Rng('conv.conv2d')
    ff.case('conv_basic', 'conv2d', [r.randn([2, 3, 5, 5]), r.randn([4, 3, 3, 3]), r.randn([4])], conv(1, 0),
            args={'stride': 1, 'padding': 0})
    ff.case('conv_stride2_pad1', 'conv2d', [r.randn([2, 3, 8, 8]), r.randn([4, 3, 3, 3]), r.randn([4])], conv(2, 1),
            args={'stride': 2, 'padding': 1})
    ff.case('conv_stride2_odd', 'conv2d', [r.randn([1, 2, 7, 6]), r.randn([3, 2, 3, 3]), r.randn([3])], conv(2, 1),
            args={'stride': 2, 'padding': 1})
    ff.case('conv_rect_kernel', 'conv2d', [r.randn([2, 2, 6, 5]), r.randn([3, 2, 3, 2]), r.randn([3])],
            conv((2, 1), (1, 0)), args={'stride': [2, 1], 'padding': [1, 0]})
    ff.case('conv_nobias_1x1', 'conv2d', [r.randn([2, 4, 3, 3]), r.randn([5, 4, 1, 1])], conv(1, 0),
            args={'stride': 1, 'padding': 0})
    ff.case('conv_patchify', 'conv2d', [r.randn([1, 3, 8, 8]), r.randn([4, 3, 4, 4])], conv(4, 0),
            args={'stride': 4, 'padding': 0})
    ff.case('conv_perm', 'conv2d', [r.randn([5, 5, 2, 2]), r.randn([3, 2, 3, 3]), r.randn([3])], conv(1, 1),
            args={'stride': 1, 'padding': 1}, perm={0: [2, 3, 0, 1]})
    return ff


def main():
    torch.set_num_threads(1)
    conv_family().save(os.path.join(REPO, 'test', 'fixtures', 'functional'))


if __name__ == '__main__':
    main()
