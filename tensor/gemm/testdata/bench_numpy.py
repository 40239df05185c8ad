#!/usr/bin/python3
"""Print numpy's SGEMM throughput for the sizes BenchmarkSgemm sweeps.

Side-by-side figure for tensor/gemm (not run by CI):

    /usr/bin/python3 tensor/gemm/testdata/bench_numpy.py --threads 1
    /usr/bin/python3 tensor/gemm/testdata/bench_numpy.py --threads 2

The BLAS thread count must be fixed before numpy is imported, so the
environment variables are set first. Reports the best of --repeats runs,
like the Go benchmark on a shared machine.
"""
import argparse
import os
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024, 2048])
    args = parser.parse_args()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)

    import numpy as np

    rng = np.random.default_rng(1)
    for n in args.sizes:
        a = rng.random((n, n), dtype=np.float32)
        b = rng.random((n, n), dtype=np.float32)
        c = np.empty((n, n), dtype=np.float32)
        np.matmul(a, b, out=c)  # warm up: thread pool, page faults
        inner = max(1, int(2e9 / (2 * n**3)))  # about 2 GFLOP per timing
        best = float("inf")
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            for _ in range(inner):
                np.matmul(a, b, out=c)
            best = min(best, (time.perf_counter() - t0) / inner)
        print(f"numpy n={n} threads={args.threads}: {2 * n**3 / best / 1e9:.1f} GFLOP/s")


if __name__ == "__main__":
    main()
