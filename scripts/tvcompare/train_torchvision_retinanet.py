#!/usr/bin/python3
"""Train torchvision's RetinaNet on detflow's retinanet_tiny_synth experiment.

The reference for issue 17 item 3: the same images, architecture and
schedule as configs/retinanet_tiny_synth.yaml, trained with torchvision's
RetinaNet parts (FPN, RetinaNetHead, AnchorGenerator, Matcher, focal loss,
postprocess_detections) so that detflow's mAP at equal iterations can be
compared with it on the same cores.

Run with Debian's python3 (torch 1.13, torchvision 0.14):

    /usr/bin/python3 scripts/tvcompare/train_torchvision_retinanet.py --run RUN --out OUTDIR

RUN is a detflow run of `pipeline run retinanet` (its dataset folder
supplies the images and COCO annotations). Prints mAP (with pycocotools on
PYTHONPATH; otherwise evaluate OUTDIR/results_val.json with `pipeline
coco-eval`), s/iter and peak RSS; writes OUTDIR/summary.json. Not run by CI.

Mirrored from detflow: the half-width ResNet-18 and its init
(train_torchvision.py's half_resnet18), BN trained; FPN on C3-C5, 64
channels, Xavier-uniform, P6 a stride-2 conv on C5 and P7 one on P6 with no
ReLU between (MMDetection's add_extra_convs on_input; torchvision's own
LastLevelP6P7 puts a ReLU there); a RetinaNetHead with 1 stacked conv per
branch (the tiny config's), N(0, 0.01) init and prior 0.01; anchors of
sides stride*2*2^(k/3) at strides 8-128, ratios 0.5/1/2; MaxIoU 0.5 / 0.4
with low-quality matches; focal loss gamma 2, alpha 0.25 and smooth-L1 with
beta 0.11, each over an image's positives, averaged over the images (both
systems); batch 4, SGD lr 0.01, momentum 0.9, weight decay 1e-4, clip 35,
linear warmup 50 iterations from 0.1, no lr step, 2 epochs;
flip 0.5. Known differences: torchvision rounds base anchors to integers
and at inference keeps the top 1000 (anchor, class) pairs per level
(detflow: the top 1000 anchors by best class score), then the same score
0.05, class-wise NMS 0.5 and 100 detections.
"""

import argparse
import json
import math
import os
import random
import sys
import time
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection import retinanet as tv_retinanet
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.retinanet import RetinaNet, RetinaNetHead
from torchvision.ops.feature_pyramid_network import ExtraFPNBlock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_torchvision import coco_eval, flip_boxes, half_resnet18, load_image, load_split, lr_at, peak_rss_mib  # noqa: E402

SMOOTH_L1_BETA = 0.11


class P6P7OnInput(ExtraFPNBlock):
    """MMDetection's extra convs: P6 = conv(C5), P7 = conv(P6), no ReLU."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.p6 = nn.Conv2d(in_channels, out_channels, 3, 2, 1)
        self.p7 = nn.Conv2d(out_channels, out_channels, 3, 2, 1)

    def forward(self, p, c, names):
        p6 = self.p6(c[-1])
        p.extend([p6, self.p7(p6)])
        names.extend(["p6", "p7"])
        return p, names


def box_loss(type, box_coder, anchors, matched_gt, regression, cnf=None):
    return det_utils._box_loss("smooth_l1", box_coder, anchors, matched_gt, regression, {"beta": SMOOTH_L1_BETA})


def build(num_classes, stacked):
    body = half_resnet18()
    bb = BackboneWithFPN(body, return_layers={"layer2": "0", "layer3": "1", "layer4": "2"},
                         in_channels_list=[64, 128, 256], out_channels=64, extra_blocks=P6P7OnInput(256, 64))
    for m in bb.fpn.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    head = RetinaNetHead(64, 9, num_classes)
    for branch in (head.classification_head, head.regression_head):
        branch.conv = branch.conv[:stacked]
    sizes = tuple(tuple(s * 2 * 2 ** (k / 3) for k in range(3)) for s in (8, 16, 32, 64, 128))
    anchors = AnchorGenerator(sizes, ((0.5, 1.0, 2.0),) * 5)
    return RetinaNet(bb, num_classes, anchor_generator=anchors, head=head, score_thresh=0.05,
                     nms_thresh=0.5, detections_per_img=100, topk_candidates=1000)


def make_batch(entries, rng, flip_ratio):
    imgs, shapes, targets = [], [], []
    for im, anns, path in entries:
        img = load_image(path)
        h, w = img.shape[1:]
        gts = [a for a in anns if not a.get("iscrowd", 0)]
        gt = torch.tensor([[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]]
                           for a in gts], dtype=torch.float32).view(-1, 4)
        labels = torch.tensor([a["category_id"] - 1 for a in gts], dtype=torch.int64)
        if rng is not None and rng.random() < flip_ratio:
            img, gt = img.flip(-1), flip_boxes(gt, w)
        imgs.append(img)
        shapes.append((h, w))
        targets.append({"boxes": gt, "labels": labels})
    ph = -(-max(i.shape[1] for i in imgs) // 32) * 32
    pw = -(-max(i.shape[2] for i in imgs) // 32) * 32
    batch = torch.zeros(len(imgs), 3, ph, pw)
    for i, img in enumerate(imgs):
        batch[i, :, : img.shape[1], : img.shape[2]] = img
    return ImageList(batch, shapes), targets


def forward(model, images):
    feats = list(model.backbone(images.tensors).values())
    return feats, model.head(feats), model.anchor_generator(images, feats)


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
            _, out, anchors = forward(model, images)
            losses = model.compute_loss(targets, out, anchors)
            loss = losses["classification"] + losses["bbox_regression"]
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
                                  "loss_cls": round(losses["classification"].item(), 4),
                                  "loss_bbox": round(losses["bbox_regression"].item(), 4),
                                  "time": round(sum(times[-a.log_interval:]) / len(times[-a.log_interval:]), 3),
                                  "rss_mib": round(peak_rss_mib())}), flush=True)
    return it, times, time.perf_counter() - start


@torch.no_grad()
def evaluate(model, val_set, a):
    model.eval()
    results, t0 = [], time.perf_counter()
    for b in range(0, len(val_set), a.eval_batch):
        entries = val_set[b:b + a.eval_batch]
        images, _ = make_batch(entries, None, 0)
        feats, out, anchors = forward(model, images)
        counts = [f.size(2) * f.size(3) * 9 for f in feats]
        split = {k: list(v.split(counts, dim=1)) for k, v in out.items()}
        dets = model.postprocess_detections(split, [list(x.split(counts)) for x in anchors], images.image_sizes)
        for (im, _, _), d in zip(entries, dets):
            for box, score, label in zip(d["boxes"].tolist(), d["scores"].tolist(), d["labels"].tolist()):
                x1, y1, x2, y2 = box
                results.append({"image_id": im["id"], "category_id": int(label) + 1,
                                "bbox": [x1, y1, x2 - x1, y2 - y1], "score": score})
    return results, len(val_set) / (time.perf_counter() - t0)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="detflow run folder (holds dataset/)")
    p.add_argument("--out", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--num-classes", type=int, default=9)
    p.add_argument("--stacked-convs", type=int, default=1)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--max-iters", type=int, default=0, help="stop after this many iterations (0: all)")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--eval-batch", type=int, default=4)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--base-batch", type=int, default=4)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--grad-clip", type=float, default=35.0)
    p.add_argument("--warmup-iters", type=int, default=50)
    p.add_argument("--warmup-ratio", type=float, default=0.1)
    p.add_argument("--lr-steps", type=int, nargs="*", default=[])
    p.add_argument("--gamma", type=float, default=0.1)
    p.add_argument("--flip-ratio", type=float, default=0.5)
    p.add_argument("--log-interval", type=int, default=10)
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    tv_retinanet._box_loss = box_loss  # RetinaNetRegressionHead looks it up here
    os.makedirs(a.out, exist_ok=True)
    train_set, val_set = load_split(a.run, "train"), load_split(a.run, "val")
    model = build(a.num_classes, a.stacked_convs)
    iters, times, train_s = train(model, train_set, a)
    results, ips = evaluate(model, val_set, a)
    res_path = os.path.join(a.out, "results_val.json")
    json.dump(results, open(res_path, "w"))
    stats = coco_eval(os.path.join(a.run, "dataset", "annotations", "instances_val.json"), res_path)
    summary = {
        "iterations": iters, "train_seconds": round(train_s, 1),
        "s_per_iter_median": round(sorted(times)[len(times) // 2], 4),
        "inference_images_per_s": round(ips, 2), "peak_rss_mib": round(peak_rss_mib()),
        "bbox_mAP": None if stats is None else round(float(stats[0]), 4),
        "bbox_AP50": None if stats is None else round(float(stats[1]), 4),
    }
    json.dump(summary, open(os.path.join(a.out, "summary.json"), "w"), indent=1)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
