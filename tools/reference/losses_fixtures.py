"""PyTorch references of the SPT-SEG criterion and of the segmentation metrics.

  test/fixtures/train/losses.safetensors          focal, dice, SSIM and the whole sptLoss, with gradients
  test/fixtures/train/losses_metrics.safetensors  mmseg-style intersect-and-union over a small "dataset"

The loss functions below copy the semantics of the official code (method.md §3):
  - sigmoid_focal_loss / dice_loss: [SPT] models/losses/criterion.py (the DETR / MaskFormer functions);
  - ssim: the pytorch-ssim code in criterion.py: an 11-tap Gaussian (σ 1.5) window, its 2-D outer
    product applied with F.conv2d(groups=C, padding=5), C1 = 0.01², C2 = 0.03², mean over everything;
  - targets: one-hot [B, C, H, W] with all-zero vectors at label 255 (prepare_targets), num_masks = Σ over
    images of the distinct non-255 labels, clamped to 1; logits upsampled with F.interpolate(bilinear,
    align_corners=False) to the label size; total = 100·focal + 1·(1 − ssim).
The 'mask' ignore mode of train/losses/spt-loss.ts is not official; `spt_loss(..., mask=True)` below is
its definition written in torch, so the two implementations check each other.

SSIM is also compared with skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=1, win_size=11). skimage filters with reflected borders and then
averages over the interior only (pad (11−1)/2 = 5 cropped on each side); there every window lies inside
the image, so zero and reflect padding agree: the test compares the interior of our SSIM map with
skimage's full map (`full=True`) cropped the same way, and its mean with skimage's mssim.

Metrics follow mmseg's `intersect_and_union` / `total_intersect_and_union` / `eval_metrics`: pixels
labelled 255 are dropped, per-class areas via histc, IoU = ΣI / ΣU (NaN when a class is absent from
both), aAcc = ΣI / Σ area_label, Acc = I / area_label, nanmean for mIoU(S) and mIoU(U), hIoU = 2SU/(S+U).

Run with Debian's torch:  /usr/bin/python3 tools/reference/losses_fixtures.py
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import REPO, Rng, write_safetensors  # noqa: E402

IGNORE = 255


# -- the official functions -----------------------------------------------------------------------

def sigmoid_focal_loss(inputs, targets, num_masks, alpha=0.25, gamma=2):
    prob = inputs.sigmoid()
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction='none')
    p_t = prob * targets + (1 - prob) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return loss.mean(1).sum() / num_masks


def dice_loss(inputs, targets, num_masks):
    inputs = inputs.sigmoid().flatten(1)
    numerator = 2 * (inputs * targets).sum(-1)
    denominator = inputs.sum(-1) + targets.sum(-1)
    loss = 1 - (numerator + 1) / (denominator + 1)
    return loss.sum() / num_masks


def gaussian(window_size, sigma, dtype):
    g = torch.tensor([math.exp(-(x - window_size // 2) ** 2 / float(2 * sigma ** 2)) for x in range(window_size)],
                     dtype=dtype)
    return g / g.sum()


def create_window(window_size, channel, dtype):
    w1 = gaussian(window_size, 1.5, dtype).unsqueeze(1)
    w2 = w1.mm(w1.t()).unsqueeze(0).unsqueeze(0)
    return w2.expand(channel, 1, window_size, window_size).contiguous()


def ssim_map(img1, img2, window_size=11):
    channel = img1.shape[1]
    window = create_window(window_size, channel, img1.dtype)
    pad = window_size // 2
    mu1 = F.conv2d(img1, window, padding=pad, groups=channel)
    mu2 = F.conv2d(img2, window, padding=pad, groups=channel)
    mu1_sq, mu2_sq, mu1_mu2 = mu1.pow(2), mu2.pow(2), mu1 * mu2
    sigma1_sq = F.conv2d(img1 * img1, window, padding=pad, groups=channel) - mu1_sq
    sigma2_sq = F.conv2d(img2 * img2, window, padding=pad, groups=channel) - mu2_sq
    sigma12 = F.conv2d(img1 * img2, window, padding=pad, groups=channel) - mu1_mu2
    C1, C2 = 0.01 ** 2, 0.03 ** 2
    return ((2 * mu1_mu2 + C1) * (2 * sigma12 + C2)) / ((mu1_sq + mu2_sq + C1) * (sigma1_sq + sigma2_sq + C2))


def ssim(img1, img2):
    return ssim_map(img1, img2).mean()


def prepare_targets(labels, num_classes, dtype):
    """One-hot [B, C, H, W] (zero at 255) and num_masks, as prepare_targets + the criterion's forward."""
    B, H, W = labels.shape
    onehot = torch.zeros(B, num_classes, H, W, dtype=dtype)
    num_masks = 0
    for b in range(B):
        gt_cls = labels[b].unique()
        gt_cls = gt_cls[gt_cls != IGNORE]
        num_masks += len(gt_cls)
        for c in gt_cls.tolist():
            onehot[b, c] = (labels[b] == c).to(dtype)
    return onehot, max(float(num_masks), 1.0)


def spt_loss(logits, labels, mask=False, dice_weight=0.0):
    B, C = logits.shape[:2]
    H, W = labels.shape[1:]
    target, num_masks = prepare_targets(labels, C, logits.dtype)
    x = F.interpolate(logits, size=(H, W), mode='bilinear', align_corners=False)
    if not mask:
        focal = sigmoid_focal_loss(x.reshape(B * C, -1), target.reshape(B * C, -1), num_masks)
        s = 1 - ssim(x, target)
        dice = dice_loss(x.reshape(B * C, -1), target.reshape(B * C, -1), num_masks)
    else:  # the corrected mode of spt-loss.ts: means over valid pixels only
        valid = (labels != IGNORE).to(logits.dtype)[:, None].expand(B, C, H, W)
        ce = F.binary_cross_entropy_with_logits(x, target, reduction='none')
        p = x.sigmoid()
        p_t = p * target + (1 - p) * (1 - target)
        alpha_t = 0.25 * target + 0.75 * (1 - target)
        per = (alpha_t * ce * (1 - p_t) ** 2 * valid).reshape(B * C, -1)
        focal = (per.sum(1) / valid.reshape(B * C, -1).sum(1).clamp(min=1)).sum() / num_masks
        s = 1 - (ssim_map(x, target) * valid).sum() / valid.sum()
        pv, tv = (p * valid).reshape(B * C, -1), (target * valid).reshape(B * C, -1)
        dice = (1 - (2 * (pv * tv).sum(1) + 1) / (pv.sum(1) + tv.sum(1) + 1)).sum() / num_masks
    total = 100 * focal + 1 * s + dice_weight * dice
    return focal, s, dice, total, num_masks


# -- inputs ---------------------------------------------------------------------------------------

def blob_labels(r, B, H, W, C, ignore_frac=0.15):
    """Piecewise-constant labels (a few rectangles per image) with ignored pixels sprinkled in."""
    labels = torch.full((B, H, W), IGNORE, dtype=torch.int64)
    for b in range(B):
        labels[b] = r.ints([1], 0, C).item()
        for _ in range(4):
            y0, x0 = r.ints([2], 0, H - 3).tolist()
            h, w = r.ints([2], 3, 9).tolist()
            labels[b, y0:y0 + h, x0:x0 + w] = r.ints([1], 0, C).item()
        labels[b][r.uniform([H, W]) < ignore_frac] = IGNORE
        labels[b, :, :2] = IGNORE  # an ignored band, like padding
    return labels


def with_grad(fn, x):
    leaf = x.clone().requires_grad_(True)
    out = fn(leaf)
    first = out[0] if isinstance(out, tuple) else out
    first.backward()
    return out, leaf.grad.clone()


def loss_fixtures():
    tensors, meta = {}, {}

    # focal and dice on [B, C, H, W] (rows = the (b, c) masks), float64 and float32.
    r = Rng('losses.focal')
    x = r.randn([2, 3, 6, 7], 2.0)
    t = (r.uniform([2, 3, 6, 7]) < 0.3).to(torch.float64)
    tensors.update({'focal.logits': x, 'focal.targets': t})  # the inputs of every focal / dice case (f32: cast)
    for dtype, sfx in ((torch.float64, 'f64'), (torch.float32, 'f32')):
        xd, td = x.to(dtype), t.to(dtype)
        rows = lambda z: z.reshape(6, -1)  # noqa: E731
        for name, kw in (('focal', {}), ('focal_a50_g1.5', {'alpha': 0.5, 'gamma': 1.5}), ('focal_noalpha_g0', {'alpha': -1, 'gamma': 0})):
            out, grad = with_grad(lambda z: sigmoid_focal_loss(rows(z), rows(td), 4.0, **kw), xd)
            c = f'{name}_{sfx}'
            tensors.update({f'{c}.out': out.detach().reshape(1), f'{c}.grad': grad})
            meta[c] = json.dumps({'op': 'focal', 'numMasks': 4, 'alpha': kw.get('alpha', 0.25), 'gamma': kw.get('gamma', 2)})
        out, grad = with_grad(lambda z: dice_loss(rows(z), rows(td), 3.0), xd)
        c = f'dice_{sfx}'
        tensors.update({f'{c}.out': out.detach().reshape(1), f'{c}.grad': grad})
        meta[c] = json.dumps({'op': 'dice', 'numMasks': 3})

    # SSIM of logits-like values against a binary target, through F.conv2d(groups=C, padding=5).
    r = Rng('losses.ssim')
    x = r.randn([2, 3, 13, 16], 1.5)
    y = (r.uniform([2, 3, 13, 16]) < 0.4).to(torch.float64)
    tensors.update({'ssim.x': x, 'ssim.y': y})
    for dtype, sfx in ((torch.float64, 'f64'), (torch.float32, 'f32')):
        xd, yd = x.to(dtype), y.to(dtype)
        out, grad = with_grad(lambda z: ssim(z, yd), xd)
        c = f'ssim_{sfx}'
        tensors.update({f'{c}.out': out.detach().reshape(1), f'{c}.grad': grad,
                        f'{c}.map': ssim_map(xd, yd).detach()})
        meta[c] = json.dumps({'op': 'ssim'})

    # SSIM against skimage on images in [0, 1] (smooth + noise so that SSIM is far from 0 and 1).
    r = Rng('losses.skimage')
    base = r.uniform([1, 1, 24, 27])
    img1 = F.avg_pool2d(F.pad(base, (1, 1, 1, 1), mode='replicate'), 3, 1)
    img2 = (img1 + 0.1 * r.randn([1, 1, 24, 27])).clamp(0, 1)
    from skimage.metrics import structural_similarity  # here, so the bench twin can import the loss functions without it
    mssim, smap = structural_similarity(img1[0, 0].numpy(), img2[0, 0].numpy(), gaussian_weights=True, sigma=1.5,
                                        use_sample_covariance=False, data_range=1.0, win_size=11, full=True)
    tensors.update({'skimage.x': img1, 'skimage.y': img2, 'skimage.mssim': torch.tensor([mssim], dtype=torch.float64),
                    'skimage.map': torch.from_numpy(np.ascontiguousarray(smap)).to(torch.float64)})
    meta['skimage'] = json.dumps({'op': 'skimage', 'crop': 5})

    # The whole criterion: logits at half the label resolution, several classes per image, ignored
    # pixels, one class present in both images; in both ignore modes, with and without dice.
    r = Rng('losses.spt')
    C = 5
    logits = r.randn([2, C, 8, 9], 2.0)
    labels = blob_labels(r, 2, 16, 18, C)
    labels[0, 4:8, 6:12] = 2  # class 2 present in both images: it counts twice in num_masks
    labels[1, 10:14, 5:10] = 2
    tensors.update({'spt.logits': logits, 'spt.labels': labels.to(torch.int32)})
    for dtype, sfx in ((torch.float64, 'f64'), (torch.float32, 'f32')):
        for mode in ('reference', 'mask'):
            for dw in (0.0, 1.0):
                c = f'spt_{mode}_dice{int(dw)}_{sfx}'
                (focal, s, dice, total, nm), grad = spt_case(logits.to(dtype), labels, mode == 'mask', dw)
                tensors.update({f'{c}.focal': focal.reshape(1), f'{c}.ssim': s.reshape(1), f'{c}.dice': dice.reshape(1),
                                f'{c}.total': total.reshape(1), f'{c}.grad': grad})
                meta[c] = json.dumps({'op': 'spt', 'ignoreMode': mode, 'diceWeight': dw, 'numMasks': nm})

    # An image with only ignored pixels next to a normal one, at the label resolution (no upsampling).
    r = Rng('losses.spt_empty')
    logits = r.randn([2, 3, 12, 12])
    labels = blob_labels(r, 2, 12, 12, 3)
    labels[1] = IGNORE
    (focal, s, dice, total, nm), grad = spt_case(logits, labels, False, 0.0)
    c = 'spt_empty_f64'  # inputs: spt_empty.*
    tensors.update({'spt_empty.logits': logits, 'spt_empty.labels': labels.to(torch.int32), f'{c}.focal': focal.reshape(1),
                    f'{c}.ssim': s.reshape(1), f'{c}.dice': dice.reshape(1), f'{c}.total': total.reshape(1), f'{c}.grad': grad})
    meta[c] = json.dumps({'op': 'spt', 'ignoreMode': 'reference', 'diceWeight': 0.0, 'numMasks': nm})
    return tensors, meta


def spt_case(logits, labels, mask, dice_weight):
    leaf = logits.clone().requires_grad_(True)
    focal, s, dice, total, nm = spt_loss(leaf, labels, mask, dice_weight)
    total.backward()
    return (focal.detach(), s.detach(), dice.detach(), total.detach(), nm), leaf.grad.clone()


# -- metrics --------------------------------------------------------------------------------------

def intersect_and_union(pred, label, num_classes, ignore_index=IGNORE):
    """mmseg/core/evaluation/metrics.py intersect_and_union (torch, label_map and reduce_zero_label off)."""
    mask = label != ignore_index
    pred, label = pred[mask], label[mask]
    intersect = pred[pred == label]
    area_intersect = torch.histc(intersect.float(), bins=num_classes, min=0, max=num_classes - 1)
    area_pred = torch.histc(pred.float(), bins=num_classes, min=0, max=num_classes - 1)
    area_label = torch.histc(label.float(), bins=num_classes, min=0, max=num_classes - 1)
    return area_intersect, area_pred + area_label - area_intersect, area_pred, area_label


def metric_fixtures():
    r = Rng('metrics')
    C = 8  # class 7 is neither labelled nor predicted: IoU NaN, skipped by nanmean
    seen, unseen = [0, 1, 2, 4], [3, 5, 6, 7]
    tensors, inter, union, apred, alabel = {}, 0, 0, 0, 0
    shapes = [[9, 11], [2, 8, 10], [13, 7]]  # [H, W] or [B, H, W] updates
    for k, shape in enumerate(shapes):
        label = r.ints(shape, 0, C - 2)  # classes 6 and 7 never in the labels ...
        label[r.uniform(shape) < 0.2] = IGNORE
        pred = torch.where(r.uniform(shape) < 0.6, label, r.ints(shape, 0, C - 1))
        pred[pred == IGNORE] = 0
        pred[pred == 5] = 4  # ... and class 5 never predicted
        if k == 0:
            label[label == 5] = 2  # class 5 only in the later labels
        tensors[f'update{k}.pred'] = pred.to(torch.int32)
        tensors[f'update{k}.label'] = label.to(torch.int32)
        i, u, p, l = intersect_and_union(pred, label, C)
        inter, union, apred, alabel = inter + i.double(), union + u.double(), apred + p.double(), alabel + l.double()
    label3 = torch.full([4, 4], IGNORE, dtype=torch.int64)  # class 6 only predicted, never labelled:
    label3[0, 0] = 1  # its IoU is 0, not NaN; class 6 absent from both would be NaN
    pred3 = torch.full([4, 4], 6, dtype=torch.int64)
    tensors['update3.pred'], tensors['update3.label'] = pred3.to(torch.int32), label3.to(torch.int32)
    i, u, p, l = intersect_and_union(pred3, label3, C)
    inter, union, apred, alabel = inter + i.double(), union + u.double(), apred + p.double(), alabel + l.double()
    iou = inter / union
    acc = inter / alabel
    s = float(np.nanmean(iou[seen].numpy()))
    un = float(np.nanmean(iou[unseen].numpy()))
    tensors.update({
        'intersect': inter, 'union': union, 'area_pred': apred, 'area_label': alabel, 'iou': iou, 'acc': acc,
        'summary': torch.tensor([s, un, 2 * s * un / (s + un), float(np.nanmean(iou.numpy())),
                                 float(inter.sum() / alabel.sum()), float(np.nanmean(acc.numpy()))], dtype=torch.float64),
    })
    meta = {'classes': json.dumps({'numClasses': C, 'seen': seen, 'unseen': unseen, 'updates': 4,
                                   'summary': ['mIoUSeen', 'mIoUUnseen', 'hIoU', 'mIoU', 'aAcc', 'mAcc']})}
    return tensors, meta


def main():
    folder = os.path.join(REPO, 'test', 'fixtures', 'train')
    for name, (tensors, meta) in (('losses', loss_fixtures()), ('losses_metrics', metric_fixtures())):
        path = os.path.join(folder, f'{name}.safetensors')
        write_safetensors(path, tensors, meta)
        print(f'wrote {os.path.relpath(path, REPO)}: {len(tensors)} tensors, {os.path.getsize(path) / 1024:.1f} KiB')


if __name__ == '__main__':
    main()
