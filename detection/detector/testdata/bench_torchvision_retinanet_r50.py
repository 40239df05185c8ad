#!/usr/bin/python3
"""Times torchvision's RetinaNet on the workload of BenchmarkRetinaNetR50FPN:
retinanet_resnet50_fpn's model (random weights, stem and layer1 frozen,
every BN a FrozenBatchNorm2d, P6 on P5, 80 classes) on one 1333x800 image padded to
3x800x1344 with 7 random GT boxes, on 2 CPU threads.

    /usr/bin/python3 bench_torchvision_retinanet_r50.py [iterations]

The model's parts are called directly (backbone, head, anchor generator,
compute_loss, postprocess_detections), as the Go benchmark feeds a padded,
normalised batch: GeneralizedRCNNTransform's resize and normalisation are
data loading, which neither side times. Passes, in the Go benchmark's
order: "predict" (no grad; score 0.05, top 1000 per level, NMS 0.5) and
"train" (forward, the losses read back, backward, SGD step). Each runs once
to warm up, then `iterations` times (default 2). Prints bench_r50.sh's
lines:

    torch-r50 pass=<predict|train> device=cpu batch=1 iters=<n> s=<wall s/iter> img_s=<images/s> cpu_s=<cpu s/iter> upload=0 peak_mib=<MiB>
"""
import os
import sys

import torch
from torchvision.models.detection.backbone_utils import resnet_fpn_backbone
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.retinanet import RetinaNet
from torchvision.ops.feature_pyramid_network import LastLevelP6P7

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_torchvision_r50 import time_cpu_passes  # noqa: E402

H, W, PAD_W = 800, 1333, 1344


def main():
    iters = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    torch.set_num_threads(2)
    gen = torch.Generator().manual_seed(0)
    # retinanet_resnet50_fpn's backbone, built as it is with pretrained
    # weights: without them torchvision trains every layer with plain BN,
    # which is not the workload of MMDetection's config.
    backbone = resnet_fpn_backbone(backbone_name="resnet50", weights=None, trainable_layers=3,
                                   returned_layers=[2, 3, 4], extra_blocks=LastLevelP6P7(256, 256))
    model = RetinaNet(backbone, num_classes=80)
    images = torch.zeros(1, 3, H, PAD_W)
    images[:, :, :, :W] = torch.randn(1, 3, H, W, generator=gen)
    gxy = torch.rand(7, 2, generator=gen) * torch.tensor([1100.0, 600.0])
    gwh = 40 + torch.rand(7, 2, generator=gen) * 180
    targets = [{"boxes": torch.cat([gxy, gxy + gwh], 1), "labels": torch.randint(0, 80, (7,), generator=gen)}]
    image_list = ImageList(images, [(H, W)])
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=1e-4)

    def forward():
        feats = list(model.backbone(images).values())
        return feats, model.head(feats), model.anchor_generator(image_list, feats)

    def predict():
        model.eval()
        with torch.no_grad():
            feats, out, anchors = forward()
            counts = [x.size(2) * x.size(3) * 9 for x in feats]
            split = {k: list(v.split(counts, dim=1)) for k, v in out.items()}
            model.postprocess_detections(split, [list(a.split(counts)) for a in anchors], image_list.image_sizes)

    def train():
        model.train()
        _, out, anchors = forward()
        losses = model.compute_loss(targets, out, anchors)
        total = sum(losses.values())
        total.item()  # a training loop reads the loss back to log it
        opt.zero_grad()
        total.backward()
        opt.step()

    time_cpu_passes((("predict", predict), ("train", train)), iters)


if __name__ == "__main__":
    main()
