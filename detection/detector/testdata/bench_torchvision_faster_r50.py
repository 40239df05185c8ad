#!/usr/bin/python3
"""Times torchvision's Faster R-CNN on the workload of
BenchmarkFasterRCNNR50FPN: fasterrcnn_resnet50_fpn's model (random weights,
stem and layer1 frozen, every BN a FrozenBatchNorm2d, 256-channel FPN with
P6 by max-pool, RPN, RoIAlign 7x7 box head, 80 classes) end to end on a real
photo, grace_hopper.jpg of Debian's python3-matplotlib (512x600), on 2 CPU
threads.

    /usr/bin/python3 bench_torchvision_faster_r50.py [iterations]

The photo is read with PIL and put through the model's own
GeneralizedRCNNTransform once before timing (resize to 800x937, as
min_size 800 / max_size 1333 give, normalisation, padding to 800x960,
the GT boxes scaled with it): that is data loading, which neither side
times, as the Go benchmark's batch.Prepare. The backbone, RPN, RoI heads
and (predict) the postprocess back to photo pixels are then called as
GeneralizedRCNN.forward calls them. Settings are torchvision's defaults:
RPN 1000 anchors per level before NMS and 1000 proposals at test, 2000 /
2000 in training, NMS 0.7, 256 anchors per image at 0.5 positive; RoI heads
512 RoIs at 0.25 foreground, class-wise NMS 0.5, 100 detections, and the
box score threshold at 0 as the Go side sets it (with random weights every
score is about 1/81, under the default 0.05: nothing would reach NMS). As bench_torchvision_r50.py, the box head's FCs are the
equivalent convolutions (Debian's torch runs nn.Linear on a slow generic
BLAS). The ground truth is three boxes of the photo (the person, her head,
her tie), as hopperGT in detector_bench_test.go.

Passes, in the Go benchmark's order: "predict" (no grad) and "train" (RPN
and RoI losses, read back, backward, SGD step). Each runs once to warm up,
then `iterations` times (default 2). Prints bench_r50.sh's lines:

    torch-r50 pass=<predict|train> device=cpu batch=1 iters=<n> s=<wall s/iter> img_s=<images/s> cpu_s=<cpu s/iter> upload=0 peak_mib=<MiB>
"""
import os
import sys

import torch
from PIL import Image
from torchvision.models.detection.backbone_utils import resnet_fpn_backbone
from torchvision.models.detection.faster_rcnn import FasterRCNN, FastRCNNPredictor
from torchvision.transforms.functional import to_tensor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_torchvision_r50 import CLASSES, FC, FPN, ConvTwoMLPHead, time_cpu_passes  # noqa: E402

PHOTO = "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg"
# xyxy in photo pixels and 1-based COCO labels (person, person, tie).
GT_BOXES = [[10, 20, 512, 600], [150, 25, 375, 335], [215, 405, 300, 470]]
GT_LABELS = [1, 1, 28]


def build():
    # fasterrcnn_resnet50_fpn's backbone as built with pretrained weights:
    # without them torchvision trains every layer with plain BN.
    backbone = resnet_fpn_backbone(backbone_name="resnet50", weights=None, trainable_layers=3)
    return FasterRCNN(backbone, box_head=ConvTwoMLPHead(FPN, FC), box_predictor=FastRCNNPredictor(FC, CLASSES + 1),
                      box_score_thresh=0.0)


def main():
    iters = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    if not os.path.exists(PHOTO):
        sys.exit(f"{PHOTO} is missing: install Debian's python3-matplotlib for the photo")
    torch.set_num_threads(2)
    torch.manual_seed(0)
    model = build()
    photo = to_tensor(Image.open(PHOTO).convert("RGB"))
    target = {"boxes": torch.tensor(GT_BOXES, dtype=torch.float32), "labels": torch.tensor(GT_LABELS)}
    model.eval()
    images, targets = model.transform([photo], [target])
    orig_sizes = [tuple(photo.shape[-2:])]
    print("torch-r50 info photo=%s resized=%s padded=%s" % (
        os.path.basename(PHOTO), images.image_sizes[0], tuple(images.tensors.shape[-2:])), flush=True)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=1e-4)

    def predict():
        model.eval()
        with torch.no_grad():
            feats = model.backbone(images.tensors)
            proposals, _ = model.rpn(images, feats)
            dets, _ = model.roi_heads(feats, proposals, images.image_sizes)
            model.transform.postprocess(dets, images.image_sizes, orig_sizes)

    def train():
        model.train()
        feats = model.backbone(images.tensors)
        proposals, rpn_losses = model.rpn(images, feats, targets)
        _, roi_losses = model.roi_heads(feats, proposals, images.image_sizes, targets)
        total = sum(rpn_losses.values()) + sum(roi_losses.values())
        total.item()  # a training loop reads the loss back to log it
        opt.zero_grad()
        total.backward()
        opt.step()

    time_cpu_passes((("predict", predict), ("train", train)), iters)


if __name__ == "__main__":
    main()
