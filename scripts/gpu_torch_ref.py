#!/usr/bin/env python3
"""PyTorch side of scripts/gpu-check.sh: the sizes of gpu/gpu_bench_test.go.

Prints lines in the Go benchmarks' format so the check script can pair them:

    BENCH torch sgemm_fp32 n=4096: 2.345 ms, 58.61 TFLOP/s
    BENCH torch roi_align_fwd K=1024 C=256 200x336: 0.1234 ms

Timing is by CUDA events around `iters` calls after warm-up, as in the Go
benchmarks. Run on the GPU machine only; CI never runs it.
"""
import sys
import time

try:
    import torch
    import torchvision
    from torchvision.ops import roi_align
except Exception as e:  # report, never crash the check script
    print(f"INFO torch unavailable: {e}")
    sys.exit(0)


def cuda_ms(fn, iters=20, warm=3):
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iters):
        fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / iters


def sgemm(n=4096):
    g = torch.Generator(device="cuda").manual_seed(60)
    a = torch.randn(n, n, device="cuda", generator=g)
    b = torch.randn(n, n, device="cuda", generator=g)
    c = torch.empty(n, n, device="cuda")
    for label, tf32 in (("fp32", False), ("tf32", True)):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        ms = cuda_ms(lambda: torch.matmul(a, b, out=c))
        tflops = 2 * n**3 / (ms / 1e3) / 1e12
        print(f"BENCH torch sgemm_{label} n={n}: {ms:.3f} ms, {tflops:.2f} TFLOP/s")
    torch.backends.cuda.matmul.allow_tf32 = False


def bench_rois(k=1024):
    """The box distribution of benchRoIs in gpu/gpu_bench_test.go."""
    g = torch.Generator().manual_seed(7)
    x1 = 1200 * torch.rand(k, generator=g)
    y1 = 700 * torch.rand(k, generator=g)
    w = 16 + 240 * torch.rand(k, generator=g)
    h = 16 + 240 * torch.rand(k, generator=g)
    idx = (torch.arange(k) % 2).float()
    x2 = torch.clamp(x1 + w, max=1343)
    y2 = torch.clamp(y1 + h, max=799)
    return torch.stack([idx, x1, y1, x2, y2], dim=1).cuda()


def roi(k=1024, c=256, h=200, w=336):
    feat = torch.full((2, c, h, w), 0.5, device="cuda")
    rois = bench_rois(k)
    fwd = lambda: roi_align(feat, rois, output_size=7, spatial_scale=0.25, sampling_ratio=0, aligned=True)
    ms = cuda_ms(fwd)
    print(f"BENCH torch roi_align_fwd K={k} C={c} {h}x{w}: {ms:.4f} ms")
    grad = torch.ones(k, c, 7, 7, device="cuda")
    try:
        bwd_op = torch.ops.torchvision._roi_align_backward
        bwd = lambda: bwd_op(grad, rois, 0.25, 7, 7, 2, c, h, w, 0, True)
        ms = cuda_ms(bwd)
        print(f"BENCH torch roi_align_bwd K={k} C={c} {h}x{w}: {ms:.4f} ms")
    except Exception as e:
        print(f"INFO roi_align backward op unavailable: {e}")


def main():
    if not torch.cuda.is_available():
        print("INFO torch sees no CUDA device")
        return
    print(f"INFO torch {torch.__version__} torchvision {torchvision.__version__} "
          f"CUDA {torch.version.cuda} on {torch.cuda.get_device_name(0)}")
    t0 = time.time()
    for step in (sgemm, roi):
        try:
            step()
        except Exception as e:
            print(f"INFO {step.__name__} failed: {e}")
    print(f"INFO torch reference took {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
