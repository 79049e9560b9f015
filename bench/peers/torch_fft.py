"""PyTorch peer for bench/engine/fft.bench.ts: torch.fft.rfft2 / irfft2 times on this machine's cores.

Prints JSON: median seconds of rfft2 and irfft2 (norm='ortho', last two dims, float32) on
[1, 768, H, W] for each grid side given (default 14 and 32, the SPT shapes), and of SPT's filter
irfft2(rfft2(x) * w) forward + backward. Run by the bench with Debian's /usr/bin/python3.
"""
import json
import os
import sys

import torch

from timing import median_seconds  # bench/peers/timing.py (the script's folder is on sys.path)


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else os.cpu_count()
    sides = [int(s) for s in sys.argv[2:]] or [14, 32]
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    out = {'version': torch.__version__, 'threads': threads, 'cases': {}}
    for n in sides:
        x = torch.randn(1, 768, n, n)
        X = torch.fft.rfft2(x, norm='ortho')
        xg = x.clone().requires_grad_(True)
        w = torch.randn(768, n, n // 2 + 1, dtype=torch.complex64, requires_grad=True)

        def spt_step():
            xg.grad = None
            w.grad = None
            torch.fft.irfft2(torch.fft.rfft2(xg, norm='ortho') * w, s=(n, n), norm='ortho').sum().backward()

        out['cases'][str(n)] = {
            'rfft2': median_seconds(lambda: torch.fft.rfft2(x, norm='ortho')),
            'irfft2': median_seconds(lambda: torch.fft.irfft2(X, s=(n, n), norm='ortho')),
            'spt_fwd_bwd': median_seconds(spt_step),
        }
    print(json.dumps(out))


if __name__ == '__main__':
    main()
