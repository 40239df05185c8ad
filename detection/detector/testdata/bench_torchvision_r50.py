#!/usr/bin/python3
"""Times torchvision on the workload of BenchmarkR50FPN (CPU) and
BenchmarkGPUR50FPN (GPU): Fast R-CNN R-50-FPN as MMDetection's
fast_rcnn_r50_fpn_1x_coco (pytorch-style ResNet-50 with the stem and layer1
frozen and every BN frozen, 256-channel FPN with P6 by max-pool, RoIAlign
7x7 sampling 2, two 1024-wide FCs, 80 classes) on BATCH images of 1333x800
padded to 3x800x1344 with 1000 random proposals each. The BNs are
torchvision's FrozenBatchNorm2d, scale and shift frozen too; MMDetection's
config trains those, so the Go benchmarks freeze them to match (r50Config).

    /usr/bin/python3 bench_torchvision_r50.py [--device cpu|cuda] [--batch N] [--fp32] [iterations]

Defaults: --device cpu (2 threads, as on the dev machine), --batch 1, 2
iterations; `bench_r50.sh` calls it with the iteration count only.

Passes, in the Go benchmarks' order: "predict" (no grad; score threshold
0.05, class-wise NMS 0.5, 100 detections) and "train" (forward with 512 RoIs
per image sampled at 0.25 foreground from the proposals plus 7 random GT
boxes, the losses read back as a training loop logs them, their backward,
and an SGD step). Each pass runs once to warm up, then `iterations` times.
Weights are random: the time does not depend on them.

Debian's torch runs nn.Linear on a slow generic BLAS (see REFERENCES.md), so
on the CPU the box head's FCs are written as the equivalent convolutions
(fc6 a 7x7 conv over the pooled map, fc7 a 1x1 conv), which go through
oneDNN; on cuda the head is torchvision's own TwoMLPHead (nn.Linear). The
predictor's two small Linear layers stay as they are.

On cuda the timed loop is bracketed by torch.cuda.synchronize(); before each
pass (warm-up included) the caching allocator's cache is emptied and its
peak statistics reset, so peak_mib is torch.cuda.max_memory_allocated of the
pass (weights and optimizer state included) and reserved_mib
torch.cuda.max_memory_reserved. TF32 is left at PyTorch's defaults (cuDNN
convolutions may use TF32, matmuls do not) unless --fp32 asks for IEEE FP32
everywhere, as detflow computes; an "info" line records the settings.

Prints one line per pass, for bench_r50.sh and scripts/gpu-check.sh to
parse (key=value fields after the pass):

    torch-r50 pass=<predict|train> device=<cpu|cuda> batch=<N> iters=<n> s=<wall s/iter> img_s=<images/s> cpu_s=<cpu s/iter> upload=<0|1> peak_mib=<MiB> [reserved_mib=<MiB>]

On the CPU peak_mib is the process's peak resident set so far (ru_maxrss),
so the train line's figure is the larger of the two passes', as in the Go
benchmark; on cuda it is GPU memory as above.
"""
import argparse
import resource
import time

import torch
from torch import nn
from torchvision.models.detection._utils import BoxCoder
from torchvision.models.detection.backbone_utils import resnet_fpn_backbone
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.roi_heads import RoIHeads
from torchvision.ops import MultiScaleRoIAlign

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


def build(device):
    # FrozenBatchNorm2d is resnet_fpn_backbone's default norm layer;
    # trainable_layers=3 freezes the stem and layer1 (frozen_stages=1).
    backbone = resnet_fpn_backbone(backbone_name="resnet50", weights=None, trainable_layers=3)
    # The conv form only works around Debian's slow CPU BLAS.
    head = ConvTwoMLPHead(FPN, FC) if device.type == "cpu" else TwoMLPHead(FPN * 7 * 7, FC)
    heads = RoIHeads(
        MultiScaleRoIAlign(["0", "1", "2", "3"], 7, 2),
        head,
        FastRCNNPredictor(FC, CLASSES + 1),
        0.5, 0.5, 512, 0.25, (10.0, 10.0, 5.0, 5.0), 0.05, 0.5, 100)
    heads.box_coder = BoxCoder((10.0, 10.0, 5.0, 5.0))
    return backbone.to(device), heads.to(device)


def data(gen, batch, device):
    """batch images (the padding zero) with 1000 proposals and 7 GT boxes
    each; batch 1 draws the same numbers as before --batch existed."""
    images = torch.zeros(batch, 3, H, PAD_W)
    images[:, :, :, :W] = torch.randn(batch, 3, H, W, generator=gen)
    proposals, targets = [], []
    for _ in range(batch):
        xy = torch.rand(1000, 2, generator=gen) * torch.tensor([1300.0, 780.0])
        wh = 8 + torch.rand(1000, 2, generator=gen) * (torch.tensor([1317.0, 784.0]) - xy)
        proposals.append(torch.cat([xy, xy + wh], 1).to(device))
        gxy = torch.rand(7, 2, generator=gen) * torch.tensor([1100.0, 600.0])
        gwh = 40 + torch.rand(7, 2, generator=gen) * 180
        targets.append({"boxes": torch.cat([gxy, gxy + gwh], 1).to(device),
                        "labels": torch.randint(1, CLASSES + 1, (7,), generator=gen).to(device)})
    return images.to(device), proposals, targets


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: kB


def time_cpu_passes(passes, iters):
    """Runs each (name, fn) of passes once to warm up, then iters timed
    times, and prints its "torch-r50 pass=..." line for one CPU image: the
    line the single-model scripts (Faster, Mask R-CNN, RetinaNet) share."""
    for name, fn in passes:
        fn()
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(iters):
            fn()
        wall, cpu = (time.perf_counter() - t0) / iters, (time.process_time() - c0) / iters
        print("torch-r50 pass=%s device=cpu batch=1 iters=%d s=%.4f img_s=%.2f cpu_s=%.3f upload=0 peak_mib=%.1f" % (
            name, iters, wall, 1 / wall, cpu, peak_rss_mib()), flush=True)


def strict_fp32():
    """Turns TF32 off for cuDNN convolutions and cuBLAS matmuls, with the
    fp32_precision settings where this torch has them (2.9+), else the
    allow_tf32 flags."""
    conv = getattr(torch.backends.cudnn, "conv", None)
    if conv is not None and hasattr(conv, "fp32_precision"):
        conv.fp32_precision = "ieee"
        torch.backends.cuda.matmul.fp32_precision = "ieee"
    else:
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False


def precision_info():
    """The TF32 settings in force, as key=value fields; reading can fail
    where torch refuses to mix its legacy and new settings."""
    fields = []
    for key, get in (
            ("conv_fp32", lambda: torch.backends.cudnn.conv.fp32_precision),
            ("matmul_fp32", lambda: torch.backends.cuda.matmul.fp32_precision),
            ("cudnn_allow_tf32", lambda: torch.backends.cudnn.allow_tf32),
            ("matmul_allow_tf32", lambda: torch.backends.cuda.matmul.allow_tf32)):
        try:
            fields.append("%s=%s" % (key, get()))
        except Exception:  # absent in this torch, or refused
            pass
    return " ".join(fields)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("iterations", nargs="?", type=int, default=2, help="timed iterations per pass (default 2)")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--batch", type=int, default=1, help="images per step (default 1)")
    ap.add_argument("--fp32", action="store_true", help="cuda: no TF32 anywhere (IEEE FP32, as detflow)")
    ap.add_argument("--upload", action="store_true",
                    help="cuda: keep the padded images in pinned host memory and copy them to the GPU in every "
                         "step (non_blocking), as a training loop does, instead of once before timing")
    ap.add_argument("--profile", action="store_true",
                    help="after each pass, profile one more step and print its top GPU ops (torch-prof lines)")
    args = ap.parse_args()
    if args.iterations < 1 or args.batch < 1:
        ap.error("iterations and --batch must be at least 1")
    return args


def main():
    args = parse_args()
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if cuda:
        if args.fp32:
            strict_fp32()
        print("torch-r50 info torch=%s gpu=%s %s" % (
            torch.__version__, torch.cuda.get_device_name(device).replace(" ", "_"), precision_info()), flush=True)
    else:
        torch.set_num_threads(2)
    iters = args.iterations
    gen = torch.Generator().manual_seed(0)
    backbone, heads = build(device)
    images, proposals, targets = data(gen, args.batch, device)
    if cuda and args.upload:
        host = images.cpu().pin_memory()

        def batch_images():
            return host.to(device, non_blocking=True)
    else:
        def batch_images():
            return images
    shapes = [(H, W)] * args.batch
    params = [p for p in list(backbone.parameters()) + list(heads.parameters()) if p.requires_grad]
    opt = torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=1e-4)

    def predict():
        backbone.eval()
        heads.eval()
        with torch.no_grad():
            heads(backbone(batch_images()), proposals, shapes)

    def train():
        backbone.train()
        heads.train()
        # RoIHeads appends the GT boxes to the proposals, then samples 512.
        _, losses = heads(backbone(batch_images()), [p.clone() for p in proposals], shapes, targets)
        total = sum(losses.values())
        total.item()  # a training loop reads the loss back to log it
        opt.zero_grad()
        total.backward()
        opt.step()

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    for name, fn in (("predict", predict), ("train", train)):
        if cuda:
            sync()
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(device)
        fn()
        sync()
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(iters):
            fn()
        sync()
        wall, cpu = (time.perf_counter() - t0) / iters, (time.process_time() - c0) / iters
        line = "torch-r50 pass=%s device=%s batch=%d iters=%d s=%.4f img_s=%.2f cpu_s=%.3f upload=%d" % (
            name, device.type, args.batch, iters, wall, args.batch / wall, cpu, cuda and args.upload)
        if cuda:
            line += " peak_mib=%.1f reserved_mib=%.1f" % (
                torch.cuda.max_memory_allocated(device) / 2**20, torch.cuda.max_memory_reserved(device) / 2**20)
        else:
            line += " peak_mib=%.1f" % peak_rss_mib()
        print(line, flush=True)
        if args.profile:
            profile(name, fn, sync, cuda)


def profile(name, fn, sync, cuda):
    """Runs fn once under torch.profiler and prints the ops that took the
    most device time (host time on the CPU), each line prefixed with
    "torch-prof pass=NAME", the counterpart of detflow's DETFLOW_GPU_PROFILE."""
    from torch.profiler import ProfilerActivity, profile as prof
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    t0 = time.perf_counter()
    with prof(activities=acts) as p:
        fn()
        sync()
    wall = time.perf_counter() - t0
    events = p.key_averages()
    table = None
    for key in (("self_device_time_total", "self_cuda_time_total") if cuda else ("self_cpu_time_total",)):
        try:
            table = events.table(sort_by=key, row_limit=25)
            break
        except (AttributeError, KeyError, ValueError):
            continue
    print("torch-prof pass=%s wall_ms=%.2f" % (name, wall * 1e3))
    for row in (table or "no table").splitlines():
        print("torch-prof pass=%s %s" % (name, row))


if __name__ == "__main__":
    main()
