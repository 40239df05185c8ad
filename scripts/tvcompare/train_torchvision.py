#!/usr/bin/python3
"""Train torchvision's Fast R-CNN RoI heads on detflow's default experiment.

The reference for issue 7 item 6: the same data, proposals, architecture and
schedule as configs/fast_rcnn_tiny_synth.yaml, trained with torchvision's
RoIHeads (MultiScaleRoIAlign, a two-FC box head, FastRCNNPredictor) so that
detflow's mAP and s/iter can be compared with it on the same cores.

Run with Debian's python3 (torch 1.13, torchvision 0.14):

    go run scripts/tvcompare/export_proposals.go -run RUN -out props.json
    /usr/bin/python3 scripts/tvcompare/train_torchvision.py \
        --run RUN --proposals props.json --out OUTDIR

RUN is a finished detflow run (runs/fast_rcnn_tiny_synth): its dataset
folder supplies the images and COCO annotations. The script prints mAP,
AP50, s/iter and peak RSS, and writes OUTDIR/results_val.json (COCO
detections) and OUTDIR/summary.json. It is not run by CI.

What mirrors detflow / MMDetection (and where torchvision differs by default):
- Backbone: ResNet-18 at half width (stem 32, stages 32/64/128/256), BN
  trained in train mode, torchvision init (Kaiming normal fan_out, BN 1/0)
  with the last BN of each block zero-initialised.
- Neck: FPN, 64 channels, P2-P5 plus P6 by max-pool; Xavier-uniform init
  (MMDetection) instead of torchvision's Kaiming-uniform.
- RoI extractor: MultiScaleRoIAlign over P2-P5, 7x7, sampling ratio 2,
  aligned=False; torchvision's level mapping floor(4 + log2(sqrt(area)/224))
  equals MMDetection's floor(log2(sqrt(area)/56)) (finest_scale 56).
- Box head: torchvision's TwoMLPHead (two shared FCs of 256 with ReLU),
  Xavier-uniform init (kept as nn.Linear: on 2 threads, fc6+fc7 forward and
  backward for 2048 RoIs took 0.20 s as Linear and 0.35 s as 7x7 + 1x1
  convs, so the generic-BLAS caveat does not slow this head);
  FastRCNNPredictor with the classifier
  N(0, 0.01) and regressor N(0, 0.001), zero biases.
- Sampler/assigner: IoU >= 0.5 positive, < 0.5 negative, 512 RoIs per image,
  25% positives, ground truth added as proposals; crowd boxes are dropped
  from the targets (MMDetection ignores them).
- Losses: cross-entropy averaged over the sampled RoIs, smooth-L1 with
  beta 1.0 (MMDetection's Fast R-CNN; torchvision uses 1/9) summed over
  positives and divided by the number of sampled RoIs; target stds
  0.1/0.1/0.2/0.2 (torchvision weights 10/10/5/5).
- Test: score 0.05, class-wise NMS 0.5, 100 detections per image.
- Data: MMDetection's pipeline for 320x240 images at img_scale 320x240
  (scale factor 1), RGB normalised with mean 123.675/116.28/103.53 and std
  58.395/57.12/57.375, horizontal flip 0.5 (boxes and proposals flipped as
  W - x), zero padding to a multiple of 32; first 2000 (train) / 1000 (test)
  proposals per image.
- Schedule: batch 4, SGD lr 0.02 (0.02 x 4/4), momentum 0.9, weight decay
  1e-4 on every parameter, gradient clipping at norm 35, linear warmup over
  100 iterations from ratio 0.001, lr x0.1 from epoch 3 (lr_steps [2]),
  3 epochs of 250 iterations.
"""

import argparse
import json
import math
import os
import random
import resource
import sys
import time

import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torchvision.io import ImageReadMode, read_image
from torchvision.models import resnet
from torchvision.models.detection import roi_heads as tv_roi_heads
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.ops import MultiScaleRoIAlign
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

MEAN = torch.tensor([123.675, 116.28, 103.53]).view(3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1)


def half_resnet18():
    """ResNet-18 with a 32-channel stem and stages of 32, 64, 128, 256."""
    r = resnet.ResNet(resnet.BasicBlock, [2, 2, 2, 2])
    r.inplanes = 32
    r.conv1 = nn.Conv2d(3, 32, 7, 2, 3, bias=False)
    r.bn1 = nn.BatchNorm2d(32)
    r.layer1 = r._make_layer(resnet.BasicBlock, 32, 2)
    r.layer2 = r._make_layer(resnet.BasicBlock, 64, 2, stride=2)
    r.layer3 = r._make_layer(resnet.BasicBlock, 128, 2, stride=2)
    r.layer4 = r._make_layer(resnet.BasicBlock, 256, 2, stride=2)
    r.fc = nn.Identity()
    for m in r.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    for m in r.modules():
        if isinstance(m, resnet.BasicBlock):
            nn.init.zeros_(m.bn2.weight)  # zero_init_residual
    return r


def build_backbone():
    body = half_resnet18()
    bb = BackboneWithFPN(
        body,
        return_layers={"layer1": "0", "layer2": "1", "layer3": "2", "layer4": "3"},
        in_channels_list=[32, 64, 128, 256],
        out_channels=64,
        extra_blocks=LastLevelMaxPool(),
    )
    for m in bb.fpn.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return bb


def two_mlp_head(in_channels, size, representation):
    """torchvision's TwoMLPHead with MMDetection's Xavier-uniform init."""
    head = TwoMLPHead(in_channels * size * size, representation)
    for fc in (head.fc6, head.fc7):
        nn.init.xavier_uniform_(fc.weight)
        nn.init.zeros_(fc.bias)
    return head


def fast_rcnn_loss_beta1(class_logits, box_regression, labels, regression_targets):
    """torchvision's Fast R-CNN loss with MMDetection's smooth-L1 beta 1.0:
    mean cross-entropy, and the box loss of positives summed and divided by
    the number of sampled RoIs."""
    labels = torch.cat(labels, 0)
    targets = torch.cat(regression_targets, 0)
    loss_cls = F.cross_entropy(class_logits, labels)
    pos = torch.where(labels > 0)[0]
    n = class_logits.shape[0]
    deltas = box_regression.reshape(n, box_regression.size(-1) // 4, 4)
    pred = deltas[pos, labels[pos]]
    loss_box = F.smooth_l1_loss(pred, targets[pos], beta=1.0, reduction="sum") / labels.numel()
    return loss_cls, loss_box


class FastRCNN(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.backbone = build_backbone()
        pool = MultiScaleRoIAlign(["0", "1", "2", "3"], output_size=7, sampling_ratio=2)
        head = two_mlp_head(64, 7, 256)
        pred = FastRCNNPredictor(256, num_classes + 1)
        nn.init.normal_(pred.cls_score.weight, std=0.01)
        nn.init.normal_(pred.bbox_pred.weight, std=0.001)
        nn.init.zeros_(pred.cls_score.bias)
        nn.init.zeros_(pred.bbox_pred.bias)
        self.roi_heads = tv_roi_heads.RoIHeads(
            pool, head, pred,
            fg_iou_thresh=0.5, bg_iou_thresh=0.5,
            batch_size_per_image=512, positive_fraction=0.25,
            bbox_reg_weights=(10.0, 10.0, 5.0, 5.0),
            score_thresh=0.05, nms_thresh=0.5, detections_per_img=100,
        )

    def forward(self, images, proposals, image_shapes, targets=None):
        feats = self.backbone(images)
        return self.roi_heads(feats, proposals, image_shapes, targets)


def load_split(run, split):
    ds = os.path.join(run, "dataset")
    coco = json.load(open(os.path.join(ds, "annotations", f"instances_{split}.json")))
    anns = {}
    for a in coco["annotations"]:
        anns.setdefault(a["image_id"], []).append(a)
    images = sorted(coco["images"], key=lambda im: im["id"])
    return [(im, anns.get(im["id"], []), os.path.join(ds, split, im["file_name"])) for im in images]


def load_image(path):
    """Normalised RGB float image [3,H,W] (MMDetection's Normalize, to_rgb)."""
    img = read_image(path, ImageReadMode.RGB).float()
    return (img - MEAN) / STD


def flip_boxes(b, width):
    b = b.clone()
    b[:, 0], b[:, 2] = width - b[:, 2], width - b[:, 0]
    return b


def make_batch(entries, props, topk, rng, flip_ratio):
    """Images padded to a multiple of 32, proposals, shapes and targets."""
    imgs, proposals, shapes, targets = [], [], [], []
    for im, anns, path in entries:
        img = load_image(path)
        h, w = img.shape[1:]
        p = props[str(im["id"])]
        boxes = torch.tensor(p["boxes"][: 4 * topk], dtype=torch.float32).view(-1, 4)
        gts = [a for a in anns if not a.get("iscrowd", 0)]
        gt = torch.tensor([[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]]
                           for a in gts], dtype=torch.float32).view(-1, 4)
        labels = torch.tensor([a["category_id"] for a in gts], dtype=torch.int64)
        if rng is not None and rng.random() < flip_ratio:
            img = img.flip(-1)
            boxes = flip_boxes(boxes, w)
            gt = flip_boxes(gt, w)
        imgs.append(img)
        proposals.append(boxes)
        shapes.append((h, w))
        targets.append({"boxes": gt, "labels": labels})
    ph = max(i.shape[1] for i in imgs)
    pw = max(i.shape[2] for i in imgs)
    ph, pw = -(-ph // 32) * 32, -(-pw // 32) * 32
    batch = torch.zeros(len(imgs), 3, ph, pw)
    for i, img in enumerate(imgs):
        batch[i, :, : img.shape[1], : img.shape[2]] = img
    return batch, proposals, shapes, targets


def lr_at(it, epoch, a):
    lr = a.lr * a.batch / a.base_batch
    lr *= a.gamma ** sum(1 for s in a.lr_steps if epoch >= s)
    if it < a.warmup_iters:
        lr *= 1 - (1 - it / a.warmup_iters) * (1 - a.warmup_ratio)
    return lr


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def train(model, train_set, props, a):
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=a.lr, momentum=a.momentum, weight_decay=a.weight_decay)
    rng = random.Random(a.seed)
    iters_per_epoch = len(train_set) // a.batch
    total = iters_per_epoch * a.epochs
    if a.max_iters:
        total = min(total, a.max_iters)
    it, times = 0, []
    model.train()
    start = time.perf_counter()
    for epoch in range(a.epochs):
        order = list(range(len(train_set)))
        rng.shuffle(order)
        for b in range(iters_per_epoch):
            if it >= total:
                break
            t0 = time.perf_counter()
            lr = lr_at(it, epoch, a)
            for g in opt.param_groups:
                g["lr"] = lr
            entries = [train_set[i] for i in order[b * a.batch:(b + 1) * a.batch]]
            images, proposals, shapes, targets = make_batch(entries, props, a.top_train, rng, a.flip_ratio)
            _, losses = model(images, proposals, shapes, targets)
            loss = losses["loss_classifier"] + losses["loss_box_reg"]
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
                                  "loss_cls": round(losses["loss_classifier"].item(), 4),
                                  "loss_bbox": round(losses["loss_box_reg"].item(), 4),
                                  "time": round(sum(times[-a.log_interval:]) / len(times[-a.log_interval:]), 3),
                                  "elapsed_s": round(time.perf_counter() - start, 1),
                                  "rss_mib": round(peak_rss_mib())}), flush=True)
    return it, times, time.perf_counter() - start


@torch.no_grad()
def evaluate(model, val_set, props, a):
    model.eval()
    results = []
    t0 = time.perf_counter()
    for b in range(0, len(val_set), a.eval_batch):
        entries = val_set[b:b + a.eval_batch]
        images, proposals, shapes, _ = make_batch(entries, props, a.top_val, None, 0)
        dets, _ = model(images, proposals, shapes)
        for (im, _, _), d in zip(entries, dets):
            for box, score, label in zip(d["boxes"].tolist(), d["scores"].tolist(), d["labels"].tolist()):
                x1, y1, x2, y2 = box
                results.append({"image_id": im["id"], "category_id": int(label),
                                "bbox": [x1, y1, x2 - x1, y2 - y1], "score": score})
    return results, len(val_set) / (time.perf_counter() - t0)


def coco_eval(gt_path, results_path, iou_type="bbox"):
    try:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    except ImportError:
        print("pycocotools not importable (set PYTHONPATH=/tmp/cocoapi/PythonAPI); "
              f"evaluate {results_path} with `pipeline coco-eval`", flush=True)
        return None
    import numpy as np
    if not hasattr(np, "float"):
        np.float = float  # older pycocotools' accumulate uses the alias NumPy 1.24 removed
    gt = COCO(gt_path)
    dt = gt.loadRes(results_path)
    ev = COCOeval(gt, dt, iou_type)
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return ev.stats


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="detflow run folder (holds dataset/)")
    p.add_argument("--proposals", required=True, help="JSON from export_proposals.go")
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
    p.add_argument("--top-train", type=int, default=2000)
    p.add_argument("--top-val", type=int, default=1000)
    p.add_argument("--log-interval", type=int, default=50)
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    tv_roi_heads.fastrcnn_loss = fast_rcnn_loss_beta1  # RoIHeads.forward looks it up here
    os.makedirs(a.out, exist_ok=True)
    print(f"torch {torch.__version__} torchvision {torchvision.__version__} threads {torch.get_num_threads()}", flush=True)

    props = json.load(open(a.proposals))
    train_set, val_set = load_split(a.run, "train"), load_split(a.run, "val")
    model = FastRCNN(a.num_classes)
    iters, times, train_s = train(model, train_set, props["train"], a)
    results, infer_ips = evaluate(model, val_set, props["val"], a)
    res_path = os.path.join(a.out, "results_val.json")
    json.dump(results, open(res_path, "w"))
    stats = coco_eval(os.path.join(a.run, "dataset", "annotations", "instances_val.json"), res_path)
    json.dump(times, open(os.path.join(a.out, "iter_times.json"), "w"))
    summary = {
        "iterations": iters,
        "train_seconds": round(train_s, 1),
        "s_per_iter_mean": round(sum(times) / len(times), 4),
        "s_per_iter_median": round(sorted(times)[len(times) // 2], 4),  # as detflow's train_s_per_iter
        "inference_images_per_s": round(infer_ips, 2),
        "peak_rss_mib": round(peak_rss_mib()),
        "bbox_mAP": None if stats is None else round(float(stats[0]), 4),
        "bbox_AP50": None if stats is None else round(float(stats[1]), 4),
        "threads": torch.get_num_threads(),
    }
    json.dump(summary, open(os.path.join(a.out, "summary.json"), "w"), indent=1)
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
