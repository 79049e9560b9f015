"""PyTorch peer for bench/model/vit.bench.ts: ViT-B/16 times on this machine's cores.

Prints JSON: median seconds of (a) one residual block forward + backward on [1, 197, 768] and
(b) the full image tower forward at 224, batch 1. Uses the same architecture as our reference
script (tools/reference/clip_fixtures.py), random weights, float32, torch.set_num_threads(cores).
Run by the bench with Debian's /usr/bin/python3.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'tools', 'reference'))
from clip_fixtures import ResidualAttentionBlock, VisionTransformer  # noqa: E402
from timing import median_seconds  # noqa: E402  (bench/peers/timing.py)


def blas_library():
    """Which BLAS the process loaded: Debian's torch uses whatever libblas.so.3 points to
    (the slow reference BLAS unless libopenblas0 is installed)."""
    torch.matmul(torch.rand(8, 8), torch.rand(8, 8))
    with open('/proc/self/maps') as f:
        libs = {line.split()[-1] for line in f if 'blas' in line.lower() and line.split()[-1].startswith('/')}
    names = sorted(os.path.basename(os.path.dirname(p)) + '/' + os.path.basename(p) for p in libs)
    return ', '.join(names) or 'unknown'


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else os.cpu_count()
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    block = ResidualAttentionBlock(768, 12)
    x = torch.randn(197, 1, 768, requires_grad=True)  # sequence-first, as OpenAI's blocks

    def block_step():
        block.zero_grad()
        block(x).sum().backward()

    vit = VisionTransformer(224, 16, 768, 12, 12, 512).eval()
    image = torch.randn(1, 3, 224, 224)

    def forward():
        with torch.no_grad():
            vit(image)

    print(json.dumps({
        'version': torch.__version__, 'threads': threads, 'blas': blas_library(),
        'block_fwd_bwd': median_seconds(block_step, 5, 2.0), 'vit_forward_224': median_seconds(forward, 3, 3.0),
    }))


if __name__ == '__main__':
    main()
