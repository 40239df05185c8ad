#!/usr/bin/python3
"""Times torchvision's roi_align (forward, backward) and nms on the sizes of
detection's Go benchmarks (roi_align_bench_test.go, nms_bench_test.go), with
two threads, so that the two can be compared side by side on one machine:

    /usr/bin/python3 detection/testdata/bench_torchvision_ops.py
    go test -run XXX -bench 'RoIAlign(Forward|Backward)|NMS' -benchtime 3x ./detection/

Inputs are drawn from the same distributions as the Go benchmarks (not the same
random numbers): one 1333x800 image padded to 1344x800, a 256-channel FPN level
at stride 4..32, 1000 RoIs sized for that level, output 7x7, aligned=True;
NMS of 500/2000/5000 proposal-like boxes.
"""
import math
import sys
import time

import torch
from torchvision.ops import batched_nms, nms, roi_align

IMG_H, IMG_W = 800, 1344
CHANNELS = 256
ROIS = 1000
LEVEL_RANGE = {4: (32, 112), 8: (112, 224), 16: (224, 448), 32: (448, 800)}


def level_rois(g, n, lo, hi):
    s = lo + torch.rand(n, generator=g, dtype=torch.float64) * (hi - lo)
    ratio = torch.exp((torch.rand(n, generator=g, dtype=torch.float64) - 0.5) * math.log(4))
    w, h = s / ratio.sqrt(), s * ratio.sqrt()
    cx = torch.rand(n, generator=g, dtype=torch.float64) * IMG_W
    cy = torch.rand(n, generator=g, dtype=torch.float64) * IMG_H
    return torch.stack([torch.zeros(n, dtype=torch.float64), cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1).float()


def timeit(fn, reps):
    """Best and mean wall time and mean process CPU time (all threads; on a
    shared machine the steadier figure), in seconds."""
    fn()  # warm up
    best, total, cpu = float("inf"), 0.0, 0.0
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        dt = time.perf_counter() - t0
        cpu += time.process_time() - c0
        best, total = min(best, dt), total + dt
    return best, total / reps, cpu / reps


def report(name, t):
    best, mean, cpu = t
    print(f"{name}: best {best*1e3:8.2f} ms  mean {mean*1e3:8.2f} ms  cpu {cpu*1e3:8.2f} ms")


def bench_roi_align(reps):
    for sr in (2, 0):
        for stride in (4, 8, 16, 32):
            g = torch.Generator().manual_seed(stride)
            feat = torch.randn(1, CHANNELS, IMG_H // stride, IMG_W // stride, generator=g)
            rois = level_rois(g, ROIS, *LEVEL_RANGE[stride])
            kw = dict(output_size=(7, 7), spatial_scale=1.0 / stride, sampling_ratio=sr, aligned=True)
            report(f"roi_align forward  sr={sr} stride={stride:2d}", timeit(lambda: roi_align(feat, rois, **kw), reps))
            x = feat.clone().requires_grad_(True)
            y = roi_align(x, rois, **kw)
            gy = torch.randn(y.shape, generator=g)

            def backward():
                x.grad = None
                # retain_graph: time only the backward kernel, not the forward.
                y.backward(gy, retain_graph=True)
            report(f"roi_align backward sr={sr} stride={stride:2d}", timeit(backward, reps))


def bench_nms(reps):
    for n in (500, 2000, 5000):
        g = torch.Generator().manual_seed(n)
        cx, cy = torch.rand(n, generator=g) * 1333, torch.rand(n, generator=g) * 800
        w, h = 16 + torch.rand(n, generator=g) * 384, 16 + torch.rand(n, generator=g) * 384
        boxes = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
        scores = torch.rand(n, generator=g)
        classes = torch.randint(0, 80, (n,), generator=g)
        for thr in (0.5, 0.7):
            report(f"nms n={n} iou={thr}", timeit(lambda: nms(boxes, scores, thr), reps))
        if n == 2000:
            report(f"batched_nms n={n} 80 classes iou=0.5", timeit(lambda: batched_nms(boxes, scores, classes, 0.5), reps))


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    torch.set_num_threads(2)
    print("torch", torch.__version__, "threads", torch.get_num_threads())
    bench_nms(reps)
    bench_roi_align(reps)


if __name__ == "__main__":
    main()
