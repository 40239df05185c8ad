#!/usr/bin/python3
"""Writes tv_retinanet_tiny.json, the torchvision RetinaNet parity fixture.

Run from this folder with Debian's python3 (torch 1.13, torchvision 0.14):

    /usr/bin/python3 gen_torchvision_retinanet.py

It builds torchvision's own RetinaNet parts at a small width: the
FeaturePyramidNetwork on C3-C5 (16, 32, 64 channels) with LastLevelP6P7
(P6 on P5, torchvision's choice, since in and out channels are equal, 16),
the RetinaNetHead (4 convs per branch, 9 anchors, 3 classes) and an
AnchorGenerator with MMDetection's octave sizes stride*4*2^(k/3) (torchvision's
default truncates them to integers, which no stride*scale reproduces). Every
weight is random (normal, std 0.1; the classifier's bias -1.5, so that many
scores pass 0.05). Fed fixed random C3-C5 features of two 64x128 images, it
records the FPN levels, the head outputs, the losses (focal loss and L1, each
over an image's positives, averaged over the images) for fixed boxes, and the
detections of postprocess_detections (score 0.05, top 1000 pairs per level,
NMS 0.5, 300 per image). The backbone is left out: its parity is
gen_torchvision_fixtures.py's. The images are 64x128 because torchvision
takes a level's stride as image size // feature size: at 64x96, P6's would
be 48, not 64.

retina_parity_test.go loads it. CI does not run this script.
"""
import json
import math
from collections import OrderedDict

import torch
from torch import nn
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.retinanet import RetinaNet, RetinaNetHead
from torchvision.ops.feature_pyramid_network import FeaturePyramidNetwork, LastLevelP6P7

torch.manual_seed(20261207)


def t(x):
    x = x.detach().float()
    # Nine significant digits round-trip a float32 and keep the file small.
    return {"shape": list(x.shape), "data": [float("%.9g" % v) for v in x.reshape(-1).tolist()]}


class Features(nn.Module):
    """Stands in for the backbone: RetinaNet only reads out_channels."""

    out_channels = 16


fpn = FeaturePyramidNetwork([16, 32, 64], 16, extra_blocks=LastLevelP6P7(16, 16))
head = RetinaNetHead(16, 9, 3)
for name, p in list(fpn.named_parameters()) + list(head.named_parameters()):
    with torch.no_grad():
        p.normal_(0, 0.1)
with torch.no_grad():
    head.classification_head.cls_logits.bias.fill_(-1.5)

sizes = tuple(tuple(s * 4 * 2 ** (k / 3) for k in range(3)) for s in (8, 16, 32, 64, 128))
anchor_gen = AnchorGenerator(sizes, ((0.5, 1.0, 2.0),) * 5)
model = RetinaNet(Features(), num_classes=3, anchor_generator=anchor_gen, head=head)
model.eval()

c = [torch.randn(2, 16, 8, 16), torch.randn(2, 32, 4, 8), torch.randn(2, 64, 2, 4)]
targets = [
    {"boxes": torch.tensor([[8.0, 8.0, 40.0, 36.0], [50.0, 20.0, 90.0, 60.0]]), "labels": torch.tensor([0, 2])},
    {"boxes": torch.tensor([[30.0, 10.0, 70.0, 50.0]]), "labels": torch.tensor([1])},
]
images = ImageList(torch.zeros(2, 3, 64, 128), [(64, 128), (64, 128)])

with torch.no_grad():
    p = list(fpn(OrderedDict([("c3", c[0]), ("c4", c[1]), ("c5", c[2])])).values())
    out = model.head(p)
    anchors = model.anchor_generator(images, p)
    losses = model.compute_loss(targets, out, anchors)
    counts = [x.shape[2] * x.shape[3] * 9 for x in p]
    split = {k: list(v.split(counts, dim=1)) for k, v in out.items()}
    split_anchors = [list(a.split(counts)) for a in anchors]
    dets = model.postprocess_detections(split, split_anchors, images.image_sizes)

state = OrderedDict()
for prefix, m in (("fpn.", fpn), ("head.", head)):
    for k, v in m.state_dict().items():
        state[prefix + k] = t(v)
fixture = {
    "torch": torch.__version__,
    "state_dict": state,
    "c": [t(x) for x in c],
    "p": [t(x) for x in p],
    "cls_logits": t(out["cls_logits"]),
    "bbox_regression": t(out["bbox_regression"]),
    "anchors": t(anchors[0]),
    "gt": [{"boxes": t(g["boxes"]), "labels": [int(v) for v in g["labels"]]} for g in targets],
    "losses": {k: float(v) for k, v in losses.items()},
    "detections": [{"boxes": t(d["boxes"]), "scores": t(d["scores"]), "labels": [int(v) for v in d["labels"]]} for d in dets],
}
with open("tv_retinanet_tiny.json", "w") as f:
    json.dump(fixture, f)
print({k: float(v) for k, v in losses.items()}, [len(d["scores"]) for d in dets], list(state)[:4], list(state)[-4:])
