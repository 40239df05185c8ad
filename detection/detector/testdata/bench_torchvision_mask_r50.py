#!/usr/bin/python3
"""Times torchvision's Mask R-CNN on the workload of BenchmarkMaskRCNNR50FPN:
maskrcnn_resnet50_fpn's parts (random weights, stem and layer1 frozen,
every BN a FrozenBatchNorm2d, 256-channel FPN with P6 by max-pool, RPN,
RoIAlign 7x7 box head, RoIAlign 14x14 mask head of 4 convs, a 2x
deconvolution and 28x28 logits per class, 80 classes) on one 1333x800 image
padded to 3x800x1344 with 7 random GT boxes whose masks are their inscribed
ellipses, on 2 CPU threads.

    /usr/bin/python3 bench_torchvision_mask_r50.py [iterations]

The backbone, RPN and RoI heads are called directly on the padded,
normalised batch: GeneralizedRCNNTransform's resize and normalisation are
data loading, which neither side times; its mask pasting is inference and
is timed (paste_masks_in_image into the 800x1333 image, thresholded at 0.5;
detflow also RLE-encodes its masks). As bench_torchvision_r50.py, the box
head's FCs are the equivalent convolutions (Debian's torch runs nn.Linear
on a slow generic BLAS). RPN as torchvision's defaults and MMDetection's v1
config: 2000 proposals per level and 2000 kept in training, 1000 / 1000 at
test, NMS 0.7, 256 anchors per image.

Passes, in the Go benchmark's order: "predict" (no grad; score threshold 0
as the Go side sets it, so that 100 detections reach the mask head;
class-wise NMS 0.5) and "train" (RPN and RoI losses with 512 sampled RoIs
and the mask loss on their positives, read back, backward, SGD step).
Each runs once to warm up, then `iterations` times (default 2). Prints
bench_r50.sh's lines:

    torch-r50 pass=<predict|train> device=cpu batch=1 iters=<n> s=<wall s/iter> img_s=<images/s> cpu_s=<cpu s/iter> upload=0 peak_mib=<MiB>
"""
import os
import sys

import torch
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.backbone_utils import resnet_fpn_backbone
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from torchvision.models.detection.roi_heads import RoIHeads, paste_masks_in_image
from torchvision.models.detection.rpn import RegionProposalNetwork, RPNHead
from torchvision.ops import MultiScaleRoIAlign

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_torchvision_r50 import CLASSES, FC, FPN, H, PAD_W, W, ConvTwoMLPHead, time_cpu_passes  # noqa: E402


def build():
    backbone = resnet_fpn_backbone(backbone_name="resnet50", weights=None, trainable_layers=3)
    anchors = AnchorGenerator(((32,), (64,), (128,), (256,), (512,)), ((0.5, 1.0, 2.0),) * 5)
    rpn = RegionProposalNetwork(anchors, RPNHead(FPN, 3), 0.7, 0.3, 256, 0.5,
                                {"training": 2000, "testing": 1000}, {"training": 2000, "testing": 1000}, 0.7)
    names = ["0", "1", "2", "3"]
    heads = RoIHeads(
        MultiScaleRoIAlign(names, 7, 2), ConvTwoMLPHead(FPN, FC), FastRCNNPredictor(FC, CLASSES + 1),
        0.5, 0.5, 512, 0.25, (10.0, 10.0, 5.0, 5.0), 0.0, 0.5, 100,
        mask_roi_pool=MultiScaleRoIAlign(names, 14, 2), mask_head=MaskRCNNHeads(FPN, (256,) * 4, 1),
        mask_predictor=MaskRCNNPredictor(256, 256, CLASSES + 1))
    return backbone, rpn, heads


def data(gen):
    images = torch.zeros(1, 3, H, PAD_W)
    images[:, :, :, :W] = torch.randn(1, 3, H, W, generator=gen)
    gxy = torch.rand(7, 2, generator=gen) * torch.tensor([1100.0, 600.0])
    boxes = torch.cat([gxy, gxy + 40 + torch.rand(7, 2, generator=gen) * 180], 1)
    ys, xs = torch.meshgrid(torch.arange(H) + 0.5, torch.arange(W) + 0.5, indexing="ij")
    masks = torch.stack([(((xs - (x1 + x2) / 2) / ((x2 - x1) / 2)) ** 2 +
                          ((ys - (y1 + y2) / 2) / ((y2 - y1) / 2)) ** 2 <= 1).to(torch.uint8)
                         for x1, y1, x2, y2 in boxes.tolist()])
    labels = torch.randint(1, CLASSES + 1, (7,), generator=gen)
    return images, [{"boxes": boxes, "labels": labels, "masks": masks}]


def main():
    iters = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    torch.set_num_threads(2)
    gen = torch.Generator().manual_seed(0)
    backbone, rpn, heads = build()
    images, targets = data(gen)
    image_list = ImageList(images, [(H, W)])
    modules = (backbone, rpn, heads)
    params = [p for m in modules for p in m.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=1e-4)

    def mode(train):
        for m in modules:
            m.train(train)

    def predict():
        mode(False)
        with torch.no_grad():
            feats = backbone(images)
            proposals, _ = rpn(image_list, feats)
            dets, _ = heads(feats, proposals, image_list.image_sizes)
            for d in dets:
                paste_masks_in_image(d["masks"], d["boxes"], (H, W)) > 0.5

    def train():
        mode(True)
        feats = backbone(images)
        proposals, rpn_losses = rpn(image_list, feats, targets)
        _, roi_losses = heads(feats, proposals, image_list.image_sizes, targets)
        total = sum(rpn_losses.values()) + sum(roi_losses.values())
        total.item()  # a training loop reads the loss back to log it
        opt.zero_grad()
        total.backward()
        opt.step()

    time_cpu_passes((("predict", predict), ("train", train)), iters)


if __name__ == "__main__":
    main()
