#!/usr/bin/python3
"""Train torchvision's Mask R-CNN parts on detflow's mask_rcnn_tiny_synth experiment.

The reference for issue 16 item 6: the same images, architecture and
schedule as configs/mask_rcnn_tiny_synth.yaml, trained with torchvision's
Mask R-CNN parts (RegionProposalNetwork, RoIHeads with MultiScaleRoIAlign,
TwoMLPHead, FastRCNNPredictor, MaskRCNNHeads, MaskRCNNPredictor,
paste_masks_in_image) so that detflow's box and mask mAP at equal
iterations can be compared with it on the same cores.

Run with Debian's python3 (torch 1.13, torchvision 0.14) and pycocotools
(masks are read and written as COCO RLE):

    PYTHONPATH=/tmp/cocoapi/PythonAPI /usr/bin/python3 \
        scripts/tvcompare/train_torchvision_mask.py --run RUN --out OUTDIR

RUN is a detflow run of `pipeline run mask_rcnn` (its dataset folder
supplies the images and COCO annotations; `--stages dataset` is enough).
Writes OUTDIR/results_val.bbox.json, OUTDIR/results_val.segm.json and
OUTDIR/summary.json, and prints both COCO summaries. Not run by CI.

Mirrored from detflow's config:
- Backbone and neck: train_torchvision.py's half-width ResNet-18 (BN
  trained, zero-init residual) and 64-channel FPN on P2-P5 plus P6 by
  max-pool, Xavier-uniform.
- RPN: one 3x3 conv of 64 and sigmoid objectness (torchvision's RPNHead,
  N(0, 0.01) as MMDetection), anchors of sides 16 to 256 at strides 4 to
  64, ratios 0.5/1/2; IoU 0.7 / 0.3 with low-quality matches, 256 anchors
  per image half positive; BCE over the sampled anchors and smooth-L1 beta
  1/9 over positives divided by the sampled count; unit box-coder weights;
  2000 proposals per level before NMS 0.7 and 2000 kept in training,
  1000 / 1000 at test.
- RoI heads: MultiScaleRoIAlign 7x7, sampling ratio 2 (torchvision's level
  rule equals MMDetection's finest_scale 56); two FCs of 256 (Xavier);
  classifier N(0, 0.01), regressor N(0, 0.001); IoU 0.5, 256 RoIs per
  image (the tiny mask config's sampler), 25% positives, gts added as
  proposals; cross-entropy and smooth-L1 beta 1.0 over positives divided
  by the sampled RoIs (train_torchvision.py's fast_rcnn_loss_beta1);
  stds 0.1/0.1/0.2/0.2; score 0.05, class-wise NMS 0.5, 100 per image.
- Mask branch: MultiScaleRoIAlign 7x7 (sampling 2), MaskRCNNHeads of two
  3x3 convs of 32, a 2x2 stride-2 deconvolution of 32 and 1x1 logits:
  14x14 masks (Kaiming fan-out init, as MMDetection); trained on at most
  32 random positives per image (train_cfg.rcnn.mask_max_rois), with the
  binary cross-entropy averaged over all their pixels (maskrcnn_loss).
- Data and schedule: MMDetection's pipeline at scale 1 (320x240), RGB
  normalised, flip 0.5 (masks too), padding to a multiple of 32; crowd
  regions dropped from the targets; batch 4, SGD lr 0.02, momentum 0.9,
  weight decay 1e-4, clip 35, linear warmup 100 iterations from 0.001,
  lr x0.1 from epoch 3, 3 epochs of 250 iterations.

Known differences: mask targets are torchvision's (each gt mask
roi_aligned to 14x14) binarised at 0.5, where detflow's mmdet mode crops
the mask to the integer RoI and resizes it; masks are pasted with
torchvision's padded paste (detflow's config: MMDetection v0's); anchors
are centred as torchvision's; the RPN keeps anchors crossing the border
(detflow's allowed_border 0 drops them) and ranks proposals over all
levels together after NMS; the mask cap is applied in the loss (the head
still runs on all positives), and the RPN and RoI losses divide by the
batch's sampled count, where detflow averages per image.
"""

import argparse
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from pycocotools import mask as mask_utils
from torch import nn
from torchvision.models.detection import roi_heads as tv_roi_heads
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from torchvision.models.detection.roi_heads import RoIHeads, paste_masks_in_image, project_masks_on_boxes
from torchvision.models.detection.rpn import RegionProposalNetwork, RPNHead
from torchvision.ops import MultiScaleRoIAlign

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_torchvision import (build_backbone, coco_eval, fast_rcnn_loss_beta1, flip_boxes,  # noqa: E402
                               load_image, load_split, lr_at, peak_rss_mib, two_mlp_head)

MASK_MAX_ROIS = 32
if not hasattr(np, "float"):
    np.float = float  # pycocotools before 2.0.3 (as /tmp/cocoapi) calls np.float, gone in NumPy 1.24


def capped_mask_loss(mask_logits, proposals, gt_masks, gt_labels, mask_matched_idxs):
    """maskrcnn_loss on at most MASK_MAX_ROIS random positives per image, with
    binary targets (roi_aligned gt masks thresholded at 0.5)."""
    size = mask_logits.shape[-1]
    rows, labels, targets, first = [], [], [], 0
    for m, p, lab, idx in zip(gt_masks, proposals, gt_labels, mask_matched_idxs):
        keep = torch.randperm(len(p))[:MASK_MAX_ROIS].sort().values
        rows.append(keep + first)
        first += len(p)
        labels.append(lab[idx[keep]])
        targets.append((project_masks_on_boxes(m, p[keep], idx[keep], size) >= 0.5).float())
    rows, labels, targets = torch.cat(rows), torch.cat(labels), torch.cat(targets)
    if targets.numel() == 0:
        return mask_logits.sum() * 0
    return F.binary_cross_entropy_with_logits(mask_logits[rows, labels], targets)


class MaskRCNN(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.backbone = build_backbone()
        anchors = AnchorGenerator(((16,), (32,), (64,), (128,), (256,)), ((0.5, 1.0, 2.0),) * 5)
        self.rpn = RegionProposalNetwork(
            anchors, RPNHead(64, 3), fg_iou_thresh=0.7, bg_iou_thresh=0.3, batch_size_per_image=256,
            positive_fraction=0.5, pre_nms_top_n={"training": 2000, "testing": 1000},
            post_nms_top_n={"training": 2000, "testing": 1000}, nms_thresh=0.7)
        pred = FastRCNNPredictor(256, num_classes + 1)
        nn.init.normal_(pred.cls_score.weight, std=0.01)
        nn.init.normal_(pred.bbox_pred.weight, std=0.001)
        nn.init.zeros_(pred.cls_score.bias)
        nn.init.zeros_(pred.bbox_pred.bias)
        names = ["0", "1", "2", "3"]
        self.roi_heads = RoIHeads(
            MultiScaleRoIAlign(names, 7, 2), two_mlp_head(64, 7, 256), pred,
            fg_iou_thresh=0.5, bg_iou_thresh=0.5, batch_size_per_image=256, positive_fraction=0.25,
            bbox_reg_weights=(10.0, 10.0, 5.0, 5.0), score_thresh=0.05, nms_thresh=0.5, detections_per_img=100,
            mask_roi_pool=MultiScaleRoIAlign(names, 7, 2), mask_head=MaskRCNNHeads(64, (32, 32), 1),
            mask_predictor=MaskRCNNPredictor(32, 32, num_classes + 1))

    def forward(self, images, targets=None):
        feats = self.backbone(images.tensors)
        proposals, rpn_losses = self.rpn(images, feats, targets)
        dets, roi_losses = self.roi_heads(feats, proposals, images.image_sizes, targets)
        return dets, {**rpn_losses, **roi_losses}


def gt_masks(anns, h, w):
    """H x W uint8 masks of the annotations (polygons as pycocotools
    rasterises them)."""
    if not anns:
        return torch.zeros(0, h, w, dtype=torch.uint8)
    rles = [mask_utils.merge(mask_utils.frPyObjects(a["segmentation"], h, w)) if isinstance(a["segmentation"], list)
            else mask_utils.frPyObjects(a["segmentation"], h, w) for a in anns]
    return torch.from_numpy(mask_utils.decode(rles)).permute(2, 0, 1).contiguous()


def make_batch(entries, rng, flip_ratio):
    imgs, shapes, targets = [], [], []
    for im, anns, path in entries:
        img = load_image(path)
        h, w = img.shape[1:]
        gts = [a for a in anns if not a.get("iscrowd", 0)]
        gt = torch.tensor([[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]]
                           for a in gts], dtype=torch.float32).view(-1, 4)
        labels = torch.tensor([a["category_id"] for a in gts], dtype=torch.int64)
        masks = gt_masks(gts, h, w) if rng is not None else None
        if rng is not None and rng.random() < flip_ratio:
            img, gt, masks = img.flip(-1), flip_boxes(gt, w), masks.flip(-1)
        imgs.append(img)
        shapes.append((h, w))
        targets.append({"boxes": gt, "labels": labels, "masks": masks})
    ph = -(-max(i.shape[1] for i in imgs) // 32) * 32
    pw = -(-max(i.shape[2] for i in imgs) // 32) * 32
    batch = torch.zeros(len(imgs), 3, ph, pw)
    for i, img in enumerate(imgs):
        batch[i, :, : img.shape[1], : img.shape[2]] = img
    return ImageList(batch, shapes), targets


def train(model, train_set, a):
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=a.lr, momentum=a.momentum, weight_decay=a.weight_decay)
    rng = random.Random(a.seed)
    per_epoch = len(train_set) // a.batch
    total = per_epoch * a.epochs if not a.max_iters else min(per_epoch * a.epochs, a.max_iters)
    it, times, start = 0, [], time.perf_counter()
    model.train()
    for epoch in range(a.epochs):
        order = list(range(len(train_set)))
        rng.shuffle(order)
        for b in range(per_epoch):
            if it >= total:
                break
            t0 = time.perf_counter()
            lr = lr_at(it, epoch, a)
            for g in opt.param_groups:
                g["lr"] = lr
            images, targets = make_batch([train_set[i] for i in order[b * a.batch:(b + 1) * a.batch]], rng, a.flip_ratio)
            _, losses = model(images, targets)
            loss = sum(losses.values())
            if not math.isfinite(loss.item()):
                sys.exit(f"iteration {it}: loss {loss.item()}")
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, a.grad_clip)
            opt.step()
            times.append(time.perf_counter() - t0)
            it += 1
            if it % a.log_interval == 0 or it == total:
                print(json.dumps({"epoch": epoch + 1, "iter": it, "lr": round(lr, 6),
                                  **{k: round(v.item(), 4) for k, v in losses.items()},
                                  "time": round(sum(times[-a.log_interval:]) / len(times[-a.log_interval:]), 3),
                                  "rss_mib": round(peak_rss_mib())}), flush=True)
    return it, times, time.perf_counter() - start


@torch.no_grad()
def evaluate(model, val_set, a):
    model.eval()
    boxes, segms, t0 = [], [], time.perf_counter()
    for b in range(0, len(val_set), a.eval_batch):
        entries = val_set[b:b + a.eval_batch]
        images, _ = make_batch(entries, None, 0)
        dets, _ = model(images)
        for (im, _, _), d, (h, w) in zip(entries, dets, images.image_sizes):
            pasted = paste_masks_in_image(d["masks"], d["boxes"], (h, w))[:, 0] > 0.5
            for box, score, label, m in zip(d["boxes"].tolist(), d["scores"].tolist(), d["labels"].tolist(), pasted):
                x1, y1, x2, y2 = box
                boxes.append({"image_id": im["id"], "category_id": int(label),
                              "bbox": [x1, y1, x2 - x1, y2 - y1], "score": score})
                rle = mask_utils.encode(np.asfortranarray(m.numpy().astype(np.uint8)))
                rle["counts"] = rle["counts"].decode()
                segms.append({"image_id": im["id"], "category_id": int(label), "segmentation": rle, "score": score})
    return boxes, segms, len(val_set) / (time.perf_counter() - t0)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="detflow run folder (holds dataset/)")
    p.add_argument("--out", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--num-classes", type=int, default=9)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--max-iters", type=int, default=0, help="stop after this many iterations (0: all)")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--eval-batch", type=int, default=4)
    p.add_argument("--lr", type=float, default=0.02)
    p.add_argument("--base-batch", type=int, default=4)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--grad-clip", type=float, default=35.0)
    p.add_argument("--warmup-iters", type=int, default=100)
    p.add_argument("--warmup-ratio", type=float, default=0.001)
    p.add_argument("--lr-steps", type=int, nargs="*", default=[2])
    p.add_argument("--gamma", type=float, default=0.1)
    p.add_argument("--flip-ratio", type=float, default=0.5)
    p.add_argument("--log-interval", type=int, default=10)
    p.add_argument("--max-val", type=int, default=0, help="evaluate the first N val images only (a smoke test; 0: all)")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    tv_roi_heads.fastrcnn_loss = fast_rcnn_loss_beta1  # RoIHeads.forward looks them up here
    tv_roi_heads.maskrcnn_loss = capped_mask_loss
    os.makedirs(a.out, exist_ok=True)
    train_set, val_set = load_split(a.run, "train"), load_split(a.run, "val")
    val_set = val_set[:a.max_val] if a.max_val else val_set
    model = MaskRCNN(a.num_classes)
    iters, times, train_s = train(model, train_set, a)
    boxes, segms, ips = evaluate(model, val_set, a)
    gt = os.path.join(a.run, "dataset", "annotations", "instances_val.json")
    summary = {"iterations": iters, "train_seconds": round(train_s, 1),
               "s_per_iter_median": round(sorted(times)[len(times) // 2], 4) if times else None,
               "inference_images_per_s": round(ips, 2), "peak_rss_mib": round(peak_rss_mib())}
    for kind, res in (("bbox", boxes), ("segm", segms)):
        path = os.path.join(a.out, f"results_val.{kind}.json")
        json.dump(res, open(path, "w"))
        stats = coco_eval(gt, path, kind) if res else None
        summary[f"{kind}_mAP"] = None if stats is None else round(float(stats[0]), 4)
        summary[f"{kind}_AP50"] = None if stats is None else round(float(stats[1]), 4)
    json.dump(summary, open(os.path.join(a.out, "summary.json"), "w"), indent=1)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
