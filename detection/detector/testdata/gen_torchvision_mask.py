#!/usr/bin/python3
"""Writes tv_mask_head_tiny.json, the torchvision Mask R-CNN mask-branch
parity fixture (mask_parity_test.go).

Run from this folder with Debian's python3 (torch 1.13, torchvision 0.14):

    /usr/bin/python3 gen_torchvision_mask.py

It uses the parts maskrcnn_resnet50_fpn builds, at width 8 instead of 256
so the fixture stays small: MultiScaleRoIAlign over P2-P5 (14x14, sampling
ratio 2, not aligned), MaskRCNNHeads (4 3x3 convs + ReLU),
MaskRCNNPredictor (2x2 stride-2 deconvolution + ReLU, 1x1 conv to 3
classes + background at channel 0), then paste_masks_in_image (one-pixel
padding) thresholded at 0.5 as torchvision's COCO evaluation does. Weights
are random (Kaiming as torchvision, biases N(0, 0.1^2) so they count).
Fed fixed random P2-P5 features of one 128x192 image, it records the mask
logits of six RoIs on two levels, and each RoI's mask pasted at twice its
box into the 256x384 original image (as pycocotools RLE counts: runs of 0s
and 1s in column-major order), and the training targets maskrcnn_loss
makes from each RoI's gt mask (project_masks_on_boxes: roi_align 28x28,
adaptive sampling, soft values), and maskrcnn_loss with the first two
RoIs in one image and the other four in a second (its mean over all six
RoIs' pixels, unlike a mean of per-image means). Float arrays are base64
little-endian float32. CI does not run this script.
"""
import base64
import json
from collections import OrderedDict

import torch
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from torchvision.models.detection.roi_heads import maskrcnn_loss, paste_masks_in_image, project_masks_on_boxes
from torchvision.ops import MultiScaleRoIAlign

torch.manual_seed(20261207)
WIDTH, CLASSES, H, W = 8, 3, 128, 192


def f32(x):
    a = x.detach().to(torch.float32).contiguous().numpy()
    return {"shape": list(a.shape), "b64": base64.b64encode(a.astype("<f4").tobytes()).decode()}


def rle(mask):
    """pycocotools' counts of a binary H x W mask (column-major runs)."""
    flat = mask.t().reshape(-1).tolist()
    counts, prev, run = [], 0, 0
    for v in flat:
        if v != prev:
            counts.append(run)
            prev, run = v, 0
        run += 1
    counts.append(run)
    return counts


def ellipses(rois):
    """One H x W mask per RoI: the ellipse inscribed in the RoI moved by a
    quarter of its size right and down, so it crosses the RoI's edges."""
    ys, xs = torch.meshgrid(torch.arange(H) + 0.5, torch.arange(W) + 0.5, indexing="ij")
    out = []
    for x1, y1, x2, y2 in rois.tolist():
        rx, ry = (x2 - x1) / 2, (y2 - y1) / 2
        cx, cy = x1 + rx * 1.5, y1 + ry * 1.5
        out.append((((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2 <= 1).float())
    return torch.stack(out)


def main():
    head, predictor = MaskRCNNHeads(WIDTH, (WIDTH,) * 4, 1), MaskRCNNPredictor(WIDTH, WIDTH, CLASSES + 1)
    for m in (head, predictor):
        for name, p in m.named_parameters():
            if name.endswith("bias"):
                torch.nn.init.normal_(p, 0, 0.1)
    pool = MultiScaleRoIAlign(["0", "1", "2", "3"], 14, 2)
    feats = OrderedDict((str(i), torch.randn(1, WIDTH, H // s, W // s)) for i, s in enumerate((4, 8, 16, 32)))
    # sqrt(area) 20 to 150: levels P2 and P3 by both level rules, away from their boundary.
    rois = torch.tensor([[10.0, 12, 30, 34], [3.5, 7.25, 40.5, 29], [60, 20, 95, 70],
                         [100, 10, 180, 120], [20.5, 40, 150, 110], [150, 90, 191, 127]])
    labels = torch.tensor([0, 2, 1, 1, 0, 2])
    with torch.no_grad():
        logits = predictor(head(pool(feats, [rois], [(H, W)])))  # [R, K+1, 28, 28]
        probs = logits[torch.arange(len(rois)), labels + 1].sigmoid()[:, None]
        orig = rois * 2
        pasted = paste_masks_in_image(probs, orig, (2 * H, 2 * W)) > 0.5
        gt_masks = ellipses(rois)
        targets = project_masks_on_boxes(gt_masks, rois, torch.arange(len(rois)), 28)
        split = lambda x: [x[:2], x[2:]]  # noqa: E731
        loss = maskrcnn_loss(logits, split(rois), split(gt_masks), split(labels + 1),
                             [torch.arange(2), torch.arange(4)])
    sd = {k: f32(v) for k, v in head.state_dict().items()}
    sd.update({k: f32(v) for k, v in predictor.state_dict().items()})
    out = {
        "torchvision": __import__("torchvision").__version__,
        "state_dict": sd,
        "features": [f32(v) for v in feats.values()],
        "rois": f32(rois), "labels": labels.tolist(),
        "logits": f32(logits[:, 1:]),  # background dropped: detflow has K channels
        "orig_boxes": f32(orig), "orig_size": [2 * H, 2 * W],
        "pasted": [rle(m[0].to(torch.uint8)) for m in pasted],
        # Training targets (maskrcnn_loss): each RoI's gt mask, the ellipse
        # inscribed in a box shifted off the RoI, projected by roi_align.
        "gt_masks": [rle(m.to(torch.uint8)) for m in gt_masks],
        "targets": f32(targets),
        "loss_two_images": loss.item(),
    }
    with open("tv_mask_head_tiny.json", "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
