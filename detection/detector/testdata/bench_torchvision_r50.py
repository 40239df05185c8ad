#!/usr/bin/python3
"""Times torchvision on the workload of BenchmarkR50FPN: Fast R-CNN R-50-FPN
as MMDetection's fast_rcnn_r50_fpn_1x_coco (pytorch-style ResNet-50 with the
stem and layer1 frozen and every BN frozen, 256-channel FPN with P6 by
max-pool, RoIAlign 7x7 sampling 2, two 1024-wide FCs, 80 classes) on one
1333x800 image padded to 3x800x1344 with 1000 random proposals, on 2 threads.

    /usr/bin/python3 bench_torchvision_r50.py [iterations]

Passes, in BenchmarkR50FPN's order: "predict" (no grad; score threshold
0.05, class-wise NMS 0.5, 100 detections) and "train" (forward with 512 RoIs
sampled at 0.25 foreground from the proposals plus 7 random GT boxes, the
losses' backward, and an SGD step). Each pass runs once to warm up, then
`iterations` times (default 2). Weights are random: the time does not
depend on them.

Debian's torch runs nn.Linear on a slow generic BLAS (see REFERENCES.md), so
the box head's FCs are written as the equivalent convolutions (fc6 a 7x7
conv over the pooled map, fc7 a 1x1 conv), which go through oneDNN; the
predictor's two small Linear layers stay as they are.

Prints one line per pass, for bench_r50.sh to parse:

    torch-r50 pass=predict s=<wall s/iter> cpu_s=<cpu s/iter> peak_mib=<MiB>

peak_mib is the process's peak resident set so far (ru_maxrss), so the
train line's figure is the larger of the two passes', as in the Go benchmark.
"""
import resource
import sys
import time

import torch
from torch import nn
from torchvision.models.detection._utils import BoxCoder
from torchvision.models.detection.backbone_utils import resnet_fpn_backbone
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor
from torchvision.models.detection.roi_heads import RoIHeads
from torchvision.ops import MultiScaleRoIAlign

torch.set_num_threads(2)
FPN, FC, CLASSES = 256, 1024, 80
H, W, PAD_W = 800, 1333, 1344  # 1333 padded up to a multiple of 32


class ConvTwoMLPHead(nn.Module):
    """TwoMLPHead with its Linear layers as convolutions (same function)."""

    def __init__(self, c, rep):
        super().__init__()
        self.fc6 = nn.Conv2d(c, rep, 7)
        self.fc7 = nn.Conv2d(rep, rep, 1)

    def forward(self, x):
        return torch.relu(self.fc7(torch.relu(self.fc6(x)))).flatten(1)


def build():
    # FrozenBatchNorm2d is resnet_fpn_backbone's default norm layer;
    # trainable_layers=3 freezes the stem and layer1 (frozen_stages=1).
    backbone = resnet_fpn_backbone(backbone_name="resnet50", weights=None, trainable_layers=3)
    heads = RoIHeads(
        MultiScaleRoIAlign(["0", "1", "2", "3"], 7, 2),
        ConvTwoMLPHead(FPN, FC),
        FastRCNNPredictor(FC, CLASSES + 1),
        0.5, 0.5, 512, 0.25, (10.0, 10.0, 5.0, 5.0), 0.05, 0.5, 100)
    heads.box_coder = BoxCoder((10.0, 10.0, 5.0, 5.0))
    return backbone, heads


def data(gen):
    images = torch.zeros(1, 3, H, PAD_W)
    images[:, :, :, :W] = torch.randn(1, 3, H, W, generator=gen)
    xy = torch.rand(1000, 2, generator=gen) * torch.tensor([1300.0, 780.0])
    wh = 8 + torch.rand(1000, 2, generator=gen) * (torch.tensor([1317.0, 784.0]) - xy)
    proposals = torch.cat([xy, xy + wh], 1)
    gxy = torch.rand(7, 2, generator=gen) * torch.tensor([1100.0, 600.0])
    gwh = 40 + torch.rand(7, 2, generator=gen) * 180
    target = {"boxes": torch.cat([gxy, gxy + gwh], 1),
              "labels": torch.randint(1, CLASSES + 1, (7,), generator=gen)}
    return images, proposals, target


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kB


def main():
    iters = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    gen = torch.Generator().manual_seed(0)
    backbone, heads = build()
    images, proposals, target = data(gen)
    shapes = [(H, W)]
    params = [p for p in list(backbone.parameters()) + list(heads.parameters()) if p.requires_grad]
    opt = torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=1e-4)

    def predict():
        backbone.eval()
        heads.eval()
        with torch.no_grad():
            heads(backbone(images), [proposals], shapes)

    def train():
        backbone.train()
        heads.train()
        # RoIHeads appends the GT boxes to the proposals, then samples 512.
        _, losses = heads(backbone(images), [proposals.clone()], shapes, [target])
        opt.zero_grad()
        sum(losses.values()).backward()
        opt.step()

    for name, fn in (("predict", predict), ("train", train)):
        fn()
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(iters):
            fn()
        wall, cpu = (time.perf_counter() - t0) / iters, (time.process_time() - c0) / iters
        print("torch-r50 pass=%s s=%.3f cpu_s=%.3f peak_mib=%.1f" % (name, wall, cpu, peak_mib()), flush=True)


if __name__ == "__main__":
    main()
