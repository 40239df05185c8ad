#!/usr/bin/python3
"""Times ResNet-50's distinct convolutions (resnet50_convs.csv, batch 2) in
PyTorch on the CPU, the reference for BenchmarkResNet50Convs: "forward"
under torch.no_grad(), "train" forward plus the input and weight gradients
of a given output gradient. One warm-up call, then the mean of --iters.

Usage: /usr/bin/python3 tensor/testdata/bench_torch_convs.py [--threads 2] [--iters 20]
Prints "torch <name>/<forward|train> <ms> ms" per convolution.
"""
import argparse
import csv
import os
import time

import torch
import torch.nn.functional as F


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--iters", type=int, default=20)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "resnet50_convs.csv")
    with open(path) as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    for r in rows:
        c, h, co, k, s = (int(r[n]) for n in ("c", "h", "cout", "k", "stride"))
        oh = (h + 2 * (k // 2) - k) // s + 1
        x0, w0 = torch.rand(2, c, h, h) - 0.5, torch.rand(co, c, k, k) - 0.5
        dy = torch.rand(2, co, oh, oh) - 0.5

        def forward():
            with torch.no_grad():
                F.conv2d(x0, w0, None, s, k // 2)

        def train():
            x, w = x0.clone().requires_grad_(), w0.clone().requires_grad_()
            F.conv2d(x, w, None, s, k // 2).backward(dy)

        for kind, fn in (("forward", forward), ("train", train)):
            fn()
            t0 = time.perf_counter()
            for _ in range(args.iters):
                fn()
            ms = (time.perf_counter() - t0) * 1000 / args.iters
            print("torch %s/%s %.3f ms" % (r["name"], kind, ms), flush=True)


if __name__ == "__main__":
    main()
