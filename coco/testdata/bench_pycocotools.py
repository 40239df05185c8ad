#!/usr/bin/env python3
"""Times pycocotools on the Go benchmark's synthetic data, if importable.

    COCO_BENCH_DIR=/tmp/cocobench go test ./coco -run TestWriteBenchData
    python3 coco/testdata/bench_pycocotools.py /tmp/cocobench
    COCO_BENCH_DIR=/tmp/cocobench go test ./coco -run TestBenchDataParity -v
    go test ./coco -run XXX -bench 'EvaluateFiles/images=5000' -benchtime 3x

Prints load and evaluate+accumulate seconds and writes the 12 stats (repr
precision) to <dir>/pycocotools_stats.json, which TestBenchDataParity
compares with the Go evaluator. Exits 0 with a note when pycocotools is not
importable (PYTHONPATH may point at a local build).
"""
import json
import os
import sys
import time


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("COCO_BENCH_DIR", "")
    if not d:
        sys.exit("usage: bench_pycocotools.py DIR (holding gt.json and res.json)")
    try:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    except ImportError as e:
        print("pycocotools not importable (%s); nothing timed" % e)
        return
    c0, t0 = time.process_time(), time.perf_counter()
    gt = COCO(os.path.join(d, "gt.json"))
    dt = gt.loadRes(os.path.join(d, "res.json"))
    t1 = time.perf_counter()
    ev = COCOeval(gt, dt, "bbox")
    ev.evaluate()
    ev.accumulate()
    t2 = time.perf_counter()
    ev.summarize()
    c3, t3 = time.process_time(), time.perf_counter()
    print("pycocotools load %.2f s, evaluate+accumulate %.2f s, summarize %.3f s, total %.2f s (CPU %.2f s)"
          % (t1 - t0, t2 - t1, t3 - t2, t3 - t0, c3 - c0))
    with open(os.path.join(d, "pycocotools_stats.json"), "w") as f:
        json.dump({"stats": [float(s) for s in ev.stats],
                   "load_s": t1 - t0, "eval_s": t2 - t1, "total_s": t3 - t0, "cpu_s": c3 - c0}, f)


if __name__ == "__main__":
    main()
