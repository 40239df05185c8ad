#!/usr/bin/python3
"""Writes the torchvision parity fixtures of package detection/detector.

Run from this folder with Debian's python3 (torch 1.13, torchvision 0.14):

    /usr/bin/python3 gen_torchvision_fixtures.py

It builds a torchvision Faster R-CNN around a reduced-width ResNet-18 (the
ResNet below mirrors torchvision.models.resnet with a `width` parameter; the
FPN, RPN head, MultiScaleRoIAlign, TwoMLPHead and FastRCNNPredictor are
torchvision's own), gives every parameter and BN statistic random values, and
saves:

  tv_faster_rcnn_tiny.pth   the detector's state dict under torchvision's
                            names (backbone.body.*, backbone.fpn.*, rpn.head.*,
                            roi_heads.box_head.*, roi_heads.box_predictor.*)
  tv_outputs.pth            a 1x3x64x64 input and what torchvision computes
                            from it: FPN levels p2..p6, RPN objectness and
                            deltas per level, the RPN's proposals and
                            scores (torchvision's proposal layer, top 1000,
                            NMS 0.7), and for fixed RoIs the box head's
                            class logits and box regression
  tv_resnet_keys.json       state-dict names and shapes of torchvision's
                            resnet18 and resnet50 (the backbone's naming)
  tv_fasterrcnn_r50_keys.json  names and shapes of the full
                            fasterrcnn_resnet50_fpn (91 classes), for the
                            whole-detector name mapping

Go (fixtures_test.go) loads the state dict through nn/pth and
TorchvisionFasterRCNNStateDict and must match the outputs to 1e-4 relative.
CI does not run this script; the outputs are committed (well under 1 MB).
"""
import json
from collections import OrderedDict

import torch
import torchvision
from torch import nn
from torchvision.models.detection import FasterRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.rpn import concat_box_prediction_layers
from torchvision.ops import MultiScaleRoIAlign
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool
from torchvision.ops.misc import FrozenBatchNorm2d

WIDTH = 4          # stem width (64 in torchvision's ResNet-18)
FPN_CHANNELS = 8
FC = 32
NUM_CLASSES = 3    # foreground; torchvision adds background at index 0


class BasicBlock(nn.Module):
    """torchvision.models.resnet.BasicBlock."""

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, norm_layer=FrozenBatchNorm2d):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class ResNet(nn.Module):
    """torchvision.models.resnet.ResNet with the stem width as a parameter
    and no classifier."""

    def __init__(self, layers, width, norm_layer=FrozenBatchNorm2d):
        super().__init__()
        self.inplanes = width
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = norm_layer(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(width, layers[0], 1, norm_layer)
        self.layer2 = self._make_layer(width * 2, layers[1], 2, norm_layer)
        self.layer3 = self._make_layer(width * 4, layers[2], 2, norm_layer)
        self.layer4 = self._make_layer(width * 8, layers[3], 2, norm_layer)

    def _make_layer(self, planes, blocks, stride, norm_layer):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), norm_layer(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample, norm_layer)]
        self.inplanes = planes
        for _ in range(1, blocks):
            layers.append(BasicBlock(planes, planes, norm_layer=norm_layer))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


def build():
    body = ResNet([2, 2, 2, 2], WIDTH)
    backbone = BackboneWithFPN(
        body,
        return_layers={"layer1": "0", "layer2": "1", "layer3": "2", "layer4": "3"},
        in_channels_list=[WIDTH, WIDTH * 2, WIDTH * 4, WIDTH * 8],
        out_channels=FPN_CHANNELS,
        extra_blocks=LastLevelMaxPool(),
    )
    anchors = AnchorGenerator(sizes=((16,), (32,), (64,), (128,), (256,)), aspect_ratios=((0.5, 1.0, 2.0),) * 5)
    return FasterRCNN(
        backbone,
        num_classes=None,
        rpn_anchor_generator=anchors,
        box_roi_pool=MultiScaleRoIAlign(["0", "1", "2", "3"], output_size=7, sampling_ratio=2),
        box_head=TwoMLPHead(FPN_CHANNELS * 7 * 7, FC),
        box_predictor=FastRCNNPredictor(FC, NUM_CLASSES + 1),
    )


def randomise(model, gen):
    """Random weights, biases and BN statistics (positive variances), so that
    every tensor matters for parity."""
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith("running_var"):
                t.copy_(0.5 + torch.rand(t.shape, generator=gen))
            elif name.endswith("num_batches_tracked"):
                continue
            elif name.endswith("weight") and t.dim() > 1:
                fan_in = t[0].numel()
                t.copy_(torch.randn(t.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
            else:
                t.copy_(0.2 * torch.randn(t.shape, generator=gen))


def main():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    model = build().eval()
    randomise(model, gen)
    torch.save(model.state_dict(), "tv_faster_rcnn_tiny.pth")

    x = torch.randn(1, 3, 64, 64, generator=gen)
    # RoIs (image pixels) chosen away from level boundaries (sqrt(area) 112,
    # 224) so that MMDetection's and torchvision's level formulas agree.
    rois = torch.tensor([
        [2.0, 3.0, 30.0, 40.0],
        [10.5, 4.25, 60.0, 33.0],
        [0.0, 0.0, 63.0, 63.0],
        [20.0, 18.0, 28.0, 30.0],
    ])
    out = OrderedDict(input=x, rois=rois)
    with torch.no_grad():
        feats = model.backbone(x)
        for i, (k, v) in enumerate(feats.items()):
            out["p%d" % (i + 2)] = v
        objectness, deltas = model.rpn.head(list(feats.values()))
        for i, (o, d) in enumerate(zip(objectness, deltas)):
            out["rpn_cls%d" % i] = o
            out["rpn_reg%d" % i] = d
        # The proposal layer, as RegionProposalNetwork.forward runs it in
        # eval mode (pre/post NMS top 1000, NMS 0.7), keeping the scores.
        rpn = model.rpn
        images = ImageList(x, [(64, 64)])
        anchors = rpn.anchor_generator(images, list(feats.values()))
        per_level = [o[0].numel() for o in objectness]
        obj, dlt = concat_box_prediction_layers(objectness, deltas)
        props = rpn.box_coder.decode(dlt.detach(), anchors).view(1, -1, 4)
        boxes, scores = rpn.filter_proposals(props, obj, images.image_sizes, per_level)
        out["proposals"] = boxes[0]
        out["proposal_scores"] = scores[0]
        pooled = model.roi_heads.box_roi_pool(feats, [rois], [(64, 64)])
        cls, reg = model.roi_heads.box_predictor(model.roi_heads.box_head(pooled))
        out["class_logits"] = cls
        out["box_regression"] = reg
    torch.save(out, "tv_outputs.pth")

    keys = {}
    for name in ("resnet18", "resnet50"):
        m = getattr(torchvision.models, name)()
        keys[name] = [[k, list(v.shape)] for k, v in m.state_dict().items()]
    with open("tv_resnet_keys.json", "w") as f:
        json.dump(keys, f, separators=(",", ":"))
        f.write("\n")

    full = torchvision.models.detection.fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None)
    with open("tv_fasterrcnn_r50_keys.json", "w") as f:
        json.dump([[k, list(v.shape)] for k, v in full.state_dict().items()], f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
