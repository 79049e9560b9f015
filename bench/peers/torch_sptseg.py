"""PyTorch peer for bench/model/sptseg.bench.ts: the SPT-SEG ViT-B/16 forward at 512x512 on this machine.

Prints JSON: seconds of one eval forward (batch 1, 20 VOC classes: image encoder with 10 prompt tokens,
11 deep prompt sets and the 32x32 spectral filter, then the 3-layer HiLo decoder and the upsampling
to 512x512) and the process's peak RSS in MiB. The modules are those of our reference script
(tools/reference/sptseg_fixtures.py) at the VOC ViT-B/16 sizes, random weights, float32,
torch.set_num_threads(cores). Run by the bench with Debian's /usr/bin/python3.
"""
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'tools', 'reference'))
from sptseg_fixtures import ATMSingleHeadSeg, VPTCLIPVisionTransformer  # noqa: E402


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else os.cpu_count()
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    torch.set_default_dtype(torch.float32)  # the reference module sets float64
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    backbone = VPTCLIPVisionTransformer(patch=16, width=768, layers=12, heads=12, out_dim=512, T=10,
                                        deep_layers=11, stored_grid=32, grid=32).eval()
    head = ATMSingleHeadSeg(embed=512, d=512, layers=3, ffn=2048).eval()
    image = torch.randn(1, 3, 512, 512)
    text = F.normalize(torch.randn(20, 512), dim=-1)

    def forward():
        with torch.no_grad():
            dense, glob = backbone(image)
            _, pred = head(dense, glob, text, (512, 512))
            return pred

    forward()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        forward()
        times.append(time.perf_counter() - t0)
    times.sort()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    print(json.dumps({'version': torch.__version__, 'forward_512': times[len(times) // 2], 'peak_rss_mib': peak}))


if __name__ == '__main__':
    main()
