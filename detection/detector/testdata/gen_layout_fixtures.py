#!/usr/bin/python3
"""Writes the checkpoint-layout fixtures of package detection/detector.

Run from this folder with Debian's python3 (torch 1.13, numpy):

    /usr/bin/python3 gen_layout_fixtures.py

It renames the keys of tv_faster_rcnn_tiny.pth (the random-weight tiny
torchvision Faster R-CNN of gen_torchvision_fixtures.py) into two other
layouts, by the rules of those projects' checkpoints:

  mmdet_v1_tiny.pth   an MMDetection v0/v1 checkpoint, torch.save'd as
                      {"meta": ..., "state_dict": ...}: backbone.*,
                      neck.lateral_convs.i.conv.*, neck.fpn_convs.i.conv.*,
                      rpn_head.rpn_{conv,cls,reg}.*, bbox_head.shared_fcs.i.*,
                      bbox_head.fc_cls/fc_reg.* (background first, as v1)
  detectron2_tiny.pkl a Detectron2 model-zoo pickle, {"model": {name: numpy
                      array}, "__author__": ...}: backbone.bottom_up.stem/resN,
                      backbone.fpn_lateralN/fpn_outputN,
                      proposal_generator.rpn_head.*, roi_heads.box_head.fcN,
                      roi_heads.box_predictor.* (background last, no
                      background deltas, as Detectron2)

Go (load_from_test.go) loads both with model.load_from and must get the
model LoadTorchvisionFasterRCNN gets from tv_faster_rcnn_tiny.pth.
"""
import pickle
import re
from collections import OrderedDict

import torch

V1 = [
    (r"^backbone\.body\.", "backbone."),
    (r"^backbone\.fpn\.inner_blocks\.(\d)\.0\.", r"neck.lateral_convs.\1.conv."),
    (r"^backbone\.fpn\.layer_blocks\.(\d)\.0\.", r"neck.fpn_convs.\1.conv."),
    (r"^rpn\.head\.conv\.0\.0\.", "rpn_head.rpn_conv."),
    (r"^rpn\.head\.cls_logits\.", "rpn_head.rpn_cls."),
    (r"^rpn\.head\.bbox_pred\.", "rpn_head.rpn_reg."),
    (r"^roi_heads\.box_head\.fc6\.", "bbox_head.shared_fcs.0."),
    (r"^roi_heads\.box_head\.fc7\.", "bbox_head.shared_fcs.1."),
    (r"^roi_heads\.box_predictor\.cls_score\.", "bbox_head.fc_cls."),
    (r"^roi_heads\.box_predictor\.bbox_pred\.", "bbox_head.fc_reg."),
]


def detectron2_name(k):
    for a, b in [(r"^backbone\.body\.conv1\.", "backbone.bottom_up.stem.conv1."),
                 (r"^backbone\.body\.bn1\.", "backbone.bottom_up.stem.conv1.norm.")]:
        if re.match(a, k):
            return re.sub(a, b, k)
    m = re.match(r"^backbone\.body\.layer(\d)\.(\d+)\.(.*)$", k)
    if m:
        res, rest = "backbone.bottom_up.res%d.%s." % (int(m.group(1)) + 1, m.group(2)), m.group(3)
        rest = re.sub(r"^bn(\d)\.", r"conv\1.norm.", rest)
        rest = re.sub(r"^downsample\.0\.", "shortcut.", rest)
        rest = re.sub(r"^downsample\.1\.", "shortcut.norm.", rest)
        return res + rest
    m = re.match(r"^backbone\.fpn\.(inner|layer)_blocks\.(\d)\.0\.(.*)$", k)
    if m:
        kind = "lateral" if m.group(1) == "inner" else "output"
        return "backbone.fpn_%s%d.%s" % (kind, int(m.group(2)) + 2, m.group(3))
    for a, b in [(r"^rpn\.head\.conv\.0\.0\.", "proposal_generator.rpn_head.conv."),
                 (r"^rpn\.head\.cls_logits\.", "proposal_generator.rpn_head.objectness_logits."),
                 (r"^rpn\.head\.bbox_pred\.", "proposal_generator.rpn_head.anchor_deltas."),
                 (r"^roi_heads\.box_head\.fc6\.", "roi_heads.box_head.fc1."),
                 (r"^roi_heads\.box_head\.fc7\.", "roi_heads.box_head.fc2."),
                 (r"^roi_heads\.box_predictor\.", "roi_heads.box_predictor.")]:
        if re.match(a, k):
            return re.sub(a, b, k)
    raise KeyError(k)


def rename(k, rules):
    for a, b in rules:
        if re.match(a, k):
            return re.sub(a, b, k)
    raise KeyError(k)


def main():
    sd = torch.load("tv_faster_rcnn_tiny.pth")
    v1 = OrderedDict((rename(k, V1), v) for k, v in sd.items())
    torch.save({"meta": {"mmdet_version": "1.0.0"}, "state_dict": v1}, "mmdet_v1_tiny.pth")
    d2 = {}
    for k, v in sd.items():
        v = v.numpy()
        if k.startswith("roi_heads.box_predictor.cls_score."):
            v = v[list(range(1, v.shape[0])) + [0]]  # background last
        elif k.startswith("roi_heads.box_predictor.bbox_pred."):
            v = v[4:]  # no background deltas
        d2[detectron2_name(k)] = v
    with open("detectron2_tiny.pkl", "wb") as f:
        pickle.dump({"model": d2, "__author__": "detflow fixture", "matching_heuristics": True}, f, protocol=2)


if __name__ == "__main__":
    main()
