"""References for the segmentation data pipeline (train/data, engine/io/image.ts).

  test/fixtures/train/data.safetensors     resize and normalisation references, with PIL-written label PNGs
  test/fixtures/train/data_palette.png     a palette ('P') PNG written by PIL with the VOC colour map
  test/fixtures/train/data_gray.png        a grayscale ('L') label PNG written by PIL

Resize: mmcv resizes with cv2 INTER_LINEAR (images) and INTER_NEAREST (labels). Neither antialiases, and
their sampling geometry equals torch's F.interpolate(mode='bilinear', align_corners=False) and
F.interpolate(mode='nearest'); the bilinear result is rounded half up (floor(x + 0.5)) to uint8 here, as
train/data/augment.ts does (cv2 rounds through 11-bit fixed point, so it may differ by 1 level).
Normalisation: (x - mean) / std per RGB channel, mmseg's ImageNet constants and CLIP's (× 255), CHW.
Palette PNGs: PIL's own encoder; `palette_labels` holds the indices PIL wrote (255 = border/ignore).

Run with Debian's torch:  /usr/bin/python3 tools/reference/data_fixtures.py
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import REPO, Rng, write_safetensors  # noqa: E402

OUT = os.path.join(REPO, 'test', 'fixtures', 'train')
IMAGENET = ([123.675, 116.28, 103.53], [58.395, 57.12, 57.375])
CLIP = ([0.48145466 * 255, 0.4578275 * 255, 0.40821073 * 255], [0.26862954 * 255, 0.26130258 * 255, 0.27577711 * 255])


def voc_palette():
    pal = []
    for i in range(256):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        pal += [r, g, b]
    return pal


def main():
    tensors = {}
    rng = Rng('data.resize')
    src = rng.ints((7, 9, 3), 0, 256).to(torch.int32)  # [H, W, 3]
    tensors['resize.src'] = src
    x = src.permute(2, 0, 1)[None].to(torch.float64)  # [1, 3, H, W]
    for h, w in [(13, 5), (4, 17), (3, 4), (7, 9)]:
        y = F.interpolate(x, size=(h, w), mode='bilinear', align_corners=False)
        tensors[f'resize.bilinear_{h}x{w}'] = torch.floor(y + 0.5)[0].permute(1, 2, 0).to(torch.int32)
    lab = Rng('data.nearest').ints((6, 5), 0, 21).to(torch.int32)  # [H, W]
    tensors['nearest.src'] = lab
    for h, w in [(13, 4), (3, 11), (6, 5)]:
        y = F.interpolate(lab[None, None].to(torch.float64), size=(h, w), mode='nearest')
        tensors[f'nearest.{h}x{w}'] = y[0, 0].to(torch.int32)
    img = Rng('data.norm').ints((4, 5, 3), 0, 256).to(torch.float64)  # [H, W, 3]
    tensors['norm.src'] = img.to(torch.int32)
    for name, (mean, std) in [('imagenet', IMAGENET), ('clip', CLIP)]:
        m = torch.tensor(mean, dtype=torch.float64)
        s = torch.tensor(std, dtype=torch.float64)
        tensors[f'norm.{name}'] = ((img - m) / s).permute(2, 0, 1).to(torch.float32)  # [3, H, W]

    # Label PNGs written by PIL.
    idx = np.array(Rng('data.palette').ints((6, 7), 0, 21).to(torch.int32).numpy(), dtype=np.uint8)
    idx[0, :3] = 255
    idx[5, 6] = 0
    p = Image.fromarray(idx, mode='P')
    p.putpalette(voc_palette())
    os.makedirs(OUT, exist_ok=True)
    p.save(os.path.join(OUT, 'data_palette.png'))
    tensors['palette_labels'] = torch.from_numpy(idx.astype(np.int32))
    gray = np.array(Rng('data.gray').ints((5, 4), 0, 171).to(torch.int32).numpy(), dtype=np.uint8)
    gray[1, 1] = 255
    Image.fromarray(gray, mode='L').save(os.path.join(OUT, 'data_gray.png'))
    tensors['gray_labels'] = torch.from_numpy(gray.astype(np.int32))
    tensors['voc_palette'] = torch.tensor(voc_palette(), dtype=torch.int32)
    write_safetensors(os.path.join(OUT, 'data.safetensors'), tensors, {'generator': 'tools/reference/data_fixtures.py'})
    print('wrote', os.path.join(OUT, 'data.safetensors'))


if __name__ == '__main__':
    main()
