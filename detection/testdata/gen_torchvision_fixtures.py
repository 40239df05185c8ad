#!/usr/bin/python3
"""Writes the torchvision parity fixtures of package detection.

Run with Debian's python3 (torch 1.13, torchvision 0.14) from the repository root:

    /usr/bin/python3 detection/testdata/gen_torchvision_fixtures.py

Inputs are random with fixed seeds; every fixture holds inputs and torchvision's
outputs as JSON. CI never runs this script; the JSON files are committed.
"""
import json
import math
import os

import torch
import torchvision
from torchvision.models.detection._utils import BoxCoder
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.ops import batched_nms, box_iou, nms, roi_align

OUT = os.path.dirname(os.path.abspath(__file__))


def flat(t):
    # 9 significant digits round-trip float32 exactly and keep the files small.
    return [float("%.9g" % v) for v in t.reshape(-1).tolist()]


def random_boxes(g, n, size, min_wh=1.0, max_wh=None):
    max_wh = max_wh or size / 2
    xy = torch.rand(n, 2, generator=g) * size
    wh = min_wh + torch.rand(n, 2, generator=g) * (max_wh - min_wh)
    return torch.cat([xy - wh / 2, xy + wh / 2], dim=1)


def write(name, obj):
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
    print(path, os.path.getsize(path), "bytes")


def roi_align_fixture():
    g = torch.Generator().manual_seed(1)
    n, c, h, w = 2, 3, 10, 12
    feat = torch.randn(n, c, h, w, generator=g)
    scale = 0.5  # image is 20 x 24 pixels
    boxes = random_boxes(g, 10, 24.0, min_wh=0.2, max_wh=20.0)
    # Boxes partly and wholly outside the image, degenerate and inverted boxes.
    extra = torch.tensor([[-6.0, -4.0, 5.0, 7.0], [18.0, 15.0, 31.0, 29.0],
                          [30.0, 30.0, 40.0, 36.0], [3.0, 3.0, 3.0, 3.0],
                          [8.0, 6.0, 5.0, 4.0], [0.0, 0.0, 24.0, 20.0]])
    boxes = torch.cat([boxes, extra])
    bidx = torch.randint(0, n, (boxes.shape[0], 1), generator=g).float()
    rois = torch.cat([bidx, boxes], dim=1)
    cases = []
    for aligned in (False, True):
        for sr in (2, 0):
            for oh, ow in ((7, 7), (3, 2)):
                x = feat.clone().requires_grad_(True)
                y = roi_align(x, rois, (oh, ow), spatial_scale=scale, sampling_ratio=sr, aligned=aligned)
                gy = torch.randn(y.shape, generator=g)
                (y * gy).sum().backward()
                cases.append({"aligned": aligned, "sampling_ratio": sr, "out_h": oh, "out_w": ow,
                              "output": flat(y.detach()), "grad_output": flat(gy), "grad_input": flat(x.grad)})
    write("roi_align.json", {"n": n, "c": c, "h": h, "w": w, "spatial_scale": scale,
                             "input": flat(feat), "rois": flat(rois), "cases": cases})


def nms_fixture():
    g = torch.Generator().manual_seed(2)
    boxes = random_boxes(g, 300, 100.0, min_wh=2.0, max_wh=40.0)
    scores = torch.rand(300, generator=g)
    # Quantised scores make ties, to pin down the tie-breaking.
    tied = torch.floor(scores * 20) / 20
    classes = torch.randint(0, 5, (300,), generator=g)
    cases = []
    for thr in (0.3, 0.5, 0.7):
        for name, s in (("random", scores), ("tied", tied)):
            cases.append({"iou_threshold": thr, "scores_name": name,
                          "keep": nms(boxes, s, thr).tolist(),
                          "batched_keep": batched_nms(boxes, s, classes, thr).tolist()})
    write("nms.json", {"boxes": flat(boxes), "scores": flat(scores), "tied": flat(tied),
                       "classes": classes.tolist(), "cases": cases})


def box_iou_fixture():
    g = torch.Generator().manual_seed(3)
    a = random_boxes(g, 20, 50.0, min_wh=1.0, max_wh=30.0)
    b = torch.cat([random_boxes(g, 29, 50.0, min_wh=1.0, max_wh=30.0), a[:1]])
    write("box_iou.json", {"a": flat(a), "b": flat(b), "iou": flat(box_iou(a, b))})


def box_coder_fixture():
    g = torch.Generator().manual_seed(4)
    ref = random_boxes(g, 40, 200.0, min_wh=4.0, max_wh=120.0)
    gt = random_boxes(g, 40, 200.0, min_wh=4.0, max_wh=120.0)
    cases = []
    for weights in ((10.0, 10.0, 5.0, 5.0), (1.0, 1.0, 1.0, 1.0)):
        coder = BoxCoder(weights)
        enc = coder.encode_single(gt, ref)
        # Two boxes per reference (per-class regression); deltas stay inside
        # the clamp, where torchvision and MMDetection agree.
        rel = torch.randn(40, 8, generator=g) * 0.5
        dec = coder.decode(rel, [ref])
        cases.append({"weights": list(weights), "encoded": flat(enc),
                      "rel_codes": flat(rel), "decoded": flat(dec)})
    write("box_coder.json", {"ref": flat(ref), "gt": flat(gt), "cases": cases})


def anchors_fixture():
    sizes = ((32,), (64,), (128,))
    ratios = ((0.5, 1.0, 2.0),) * 3
    gen = AnchorGenerator(sizes, ratios)
    images = torch.zeros(2, 3, 64, 96)
    il = ImageList(images, [(60, 90), (64, 80)])
    feats = [torch.zeros(2, 8, 64 // s, 96 // s) for s in (4, 8, 16)]
    anchors = gen(il, feats)
    # torchvision places the same anchors on every image of the batch.
    assert torch.equal(anchors[0], anchors[1])
    write("anchors.json", {"image_h": 64, "image_w": 96, "strides": [4, 8, 16],
                           "sizes": [s[0] for s in sizes], "ratios": list(ratios[0]),
                           "feature_sizes": [[f.shape[2], f.shape[3]] for f in feats],
                           "anchors": flat(anchors[0])})


def proposals_fixture():
    """RegionProposalNetwork.filter_proposals: per-level top-n, sigmoid, clip,
    remove small boxes, NMS per level, top-n after: MMDetection v2's flow."""
    from torchvision.models.detection.rpn import RegionProposalNetwork, RPNHead
    g = torch.Generator().manual_seed(6)
    gen = AnchorGenerator(((32,), (64,)), ((0.5, 1.0, 2.0),) * 2)
    rpn = RegionProposalNetwork(gen, RPNHead(8, 3), 0.7, 0.3, 256, 0.5,
                                dict(training=100, testing=100), dict(training=60, testing=60), 0.7)
    rpn.eval()
    images = torch.zeros(1, 3, 48, 64)
    il = ImageList(images, [(45, 64)])
    feats = [torch.zeros(1, 8, 12, 16), torch.zeros(1, 8, 6, 8)]
    anchors = gen(il, feats)[0]
    n = anchors.shape[0]
    logits = torch.randn(n, 1, generator=g) * 2
    deltas = torch.randn(n, 4, generator=g) * 0.3
    proposals = rpn.box_coder.decode(deltas, [anchors]).view(1, -1, 4)
    per_level = [12 * 16 * 3, 6 * 8 * 3]
    boxes, scores = rpn.filter_proposals(proposals, logits, il.image_sizes, per_level)
    # The anchors are those of anchors_fixture's generator (strides 4, 8):
    # the Go test regenerates them.
    write("proposals.json", {"image_h": 45, "image_w": 64, "strides": [4, 8], "feature_sizes": [[12, 16], [6, 8]],
                             "per_level": per_level, "pre_nms_top_n": 100, "post_nms_top_n": 60, "nms_thresh": 0.7,
                             "logits": flat(logits), "deltas": flat(deltas),
                             "boxes": flat(boxes[0]), "scores": flat(scores[0])})


def main():
    torch.set_num_threads(1)
    print("torch", torch.__version__, "torchvision", torchvision.__version__)
    roi_align_fixture()
    nms_fixture()
    box_iou_fixture()
    box_coder_fixture()
    anchors_fixture()
    proposals_fixture()


if __name__ == "__main__":
    main()
