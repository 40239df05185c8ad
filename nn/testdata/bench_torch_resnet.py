#!/usr/bin/python3
"""Times torchvision ResNet-18 and ResNet-50 on the CPU, the PyTorch side of
`make bench` (nn/resnet_bench_test.go is the Go side; same definitions):

  forward:    eval mode, torch.no_grad(), batch 2x3x224x224
  train step: train mode, forward + mean of the logits + backward (no optimizer)

Usage: /usr/bin/python3 bench_torch_resnet.py [--threads 2] [--iters 5]
Prints one line per measurement:
  "torch <model> <forward|train> <wall ms> ms <process CPU ms> cpu-ms" (means per iteration).
"""
import argparse
import time

import torch
import torchvision


def timeit(fn, iters):
    """Mean wall and process-CPU milliseconds per call after one warm-up call
    (oneDNN picks and caches its kernels on the first call)."""
    fn()
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(iters):
        fn()
    return (time.perf_counter() - w0) * 1000 / iters, (time.process_time() - c0) * 1000 / iters


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--models", default="resnet18,resnet50")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.randn(2, 3, 224, 224)
    for name in args.models.split(","):
        m = getattr(torchvision.models, name)()

        def forward():
            m.eval()
            with torch.no_grad():
                m(x)

        def train():
            m.train()
            m.zero_grad(set_to_none=True)
            m(x).mean().backward()

        for kind, fn in (("forward", forward), ("train", train)):
            wall, cpu = timeit(fn, args.iters)
            print("torch %s %s %.1f ms %.1f cpu-ms" % (name, kind, wall, cpu), flush=True)


if __name__ == "__main__":
    main()
