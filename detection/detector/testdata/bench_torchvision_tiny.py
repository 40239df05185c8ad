#!/usr/bin/python3
"""Times torchvision on the workload of BenchmarkTrainStep/FastRCNN and
BenchmarkPredict: the default tiny Fast R-CNN (ResNet-18 at stem width 32,
BN trained, 64-channel FPN, RoIAlign 7x7 sampling 2, two 256-wide FCs,
9 classes) on 4 images of 320x256 with 2000 proposals each (training: 512
RoIs sampled per image; inference: the first 1000), on 2 threads.

    /usr/bin/python3 bench_torchvision_tiny.py

Debian's torch runs nn.Linear on a slow generic BLAS (see REFERENCES.md), so
the box head's FCs are written as the equivalent convolutions (fc6 a 7x7
conv over the pooled map, fc7 a 1x1 conv), which go through oneDNN. Prints
seconds per training step (forward + backward + SGD) and per inference batch,
and the process CPU seconds per step, to compare with `go test -bench`'s
cpu-s/op on a shared machine.
"""
import sys
import time

import torch
from torch import nn
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.roi_heads import RoIHeads
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor
from torchvision.models.detection._utils import BoxCoder
from torchvision.ops import MultiScaleRoIAlign
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

sys.dont_write_bytecode = True  # keep testdata free of __pycache__
from gen_torchvision_fixtures import ResNet  # noqa: E402

torch.set_num_threads(2)
WIDTH, FPN, FC, CLASSES = 32, 64, 256, 9


class ConvTwoMLPHead(nn.Module):
    """TwoMLPHead with its Linear layers as convolutions (same function)."""

    def __init__(self, c, rep):
        super().__init__()
        self.fc6 = nn.Conv2d(c, rep, 7)
        self.fc7 = nn.Conv2d(rep, rep, 1)

    def forward(self, x):
        return torch.relu(self.fc7(torch.relu(self.fc6(x)))).flatten(1)


def build():
    body = ResNet([2, 2, 2, 2], WIDTH, norm_layer=nn.BatchNorm2d)
    backbone = BackboneWithFPN(body, {"layer1": "0", "layer2": "1", "layer3": "2", "layer4": "3"},
                               [WIDTH, WIDTH * 2, WIDTH * 4, WIDTH * 8], FPN, extra_blocks=LastLevelMaxPool())
    heads = RoIHeads(
        MultiScaleRoIAlign(["0", "1", "2", "3"], 7, 2),
        ConvTwoMLPHead(FPN, FC),
        FastRCNNPredictor(FC, CLASSES + 1),
        0.5, 0.5, 512, 0.25, (10.0, 10.0, 5.0, 5.0), 0.05, 0.5, 100)
    heads.box_coder = BoxCoder((10.0, 10.0, 5.0, 5.0))
    return backbone, heads


def data(gen):
    images = torch.randn(4, 3, 256, 320, generator=gen)
    proposals, targets = [], []
    for _ in range(4):
        xy = torch.rand(2000, 2, generator=gen) * torch.tensor([300.0, 220.0])
        wh = 4 + torch.rand(2000, 2, generator=gen) * (torch.tensor([316.0, 236.0]) - xy)
        proposals.append(torch.cat([xy, xy + wh], 1))
        gxy = torch.rand(6, 2, generator=gen) * torch.tensor([260.0, 180.0])
        gwh = 20 + torch.rand(6, 2, generator=gen) * 40
        targets.append({"boxes": torch.cat([gxy, gxy + gwh], 1),
                        "labels": torch.randint(1, CLASSES + 1, (6,), generator=gen)})
    return images, proposals, targets


def main():
    gen = torch.Generator().manual_seed(0)
    backbone, heads = build()
    images, proposals, targets = data(gen)
    shapes = [(240, 320)] * 4
    params = list(backbone.parameters()) + list(heads.parameters())
    opt = torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=1e-4)

    def step():
        backbone.train()
        heads.train()
        feats = backbone(images)
        _, losses = heads(feats, [p.clone() for p in proposals], shapes, targets)
        opt.zero_grad()
        sum(losses.values()).backward()
        opt.step()

    def predict():
        backbone.eval()
        heads.eval()
        with torch.no_grad():
            feats = backbone(images)
            heads(feats, [p[:1000] for p in proposals], shapes)

    for name, fn in (("train step", step), ("predict", predict)):
        for _ in range(2):
            fn()
        n = 10
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(n):
            fn()
        wall, cpu = (time.perf_counter() - t0) / n, (time.process_time() - c0) / n
        print("torchvision tiny fast r-cnn %s: %.3f s/iter, %.3f cpu-s/iter (4 images)" % (name, wall, cpu))


if __name__ == "__main__":
    main()
