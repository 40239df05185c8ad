#!/usr/bin/env python3
"""Times pycocotools on the Go benchmark's synthetic data, if importable.

    COCO_BENCH_DIR=/tmp/cocobench go test ./coco -run TestWriteBenchData
    python3 coco/testdata/bench_pycocotools.py /tmp/cocobench
    COCO_BENCH_DIR=/tmp/cocobench go test ./coco -run TestBenchDataParity -v
    go test ./coco -run XXX -bench 'EvaluateFiles/images=5000' -benchtime 3x

and for masks (segm_gt.json with polygons, segm_res.json with RLE):

    COCO_BENCH_DIR=/tmp/cocobench go test ./coco -run TestWriteSegmBenchData
    python3 coco/testdata/bench_pycocotools.py /tmp/cocobench segm
    COCO_BENCH_DIR=/tmp/cocobench go test ./coco -run TestSegmBenchDataParity -v
    go test ./coco -run XXX -bench 'EvaluateFilesSegm/images=5000' -benchtime 3x

Prints load and evaluate+accumulate seconds and writes the 12 stats (repr
precision) to <dir>/pycocotools_stats.json (pycocotools_segm_stats.json),
which TestBenchDataParity (TestSegmBenchDataParity) compares with the Go
evaluator. Exits 0 with a note when pycocotools is not importable
(PYTHONPATH may point at a local build).
"""
import json
import os
import sys
import time


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("COCO_BENCH_DIR", "")
    kind = sys.argv[2] if len(sys.argv) > 2 else "bbox"
    if not d or kind not in ("bbox", "segm"):
        sys.exit("usage: bench_pycocotools.py DIR [bbox|segm] (DIR holding gt.json and res.json, or segm_gt.json and segm_res.json)")
    prefix = "segm_" if kind == "segm" else ""
    try:
        import numpy as np
        if not hasattr(np, "float"):
            # cocoapi's accumulate() still says np.float, an alias of float
            # that NumPy 1.24 removed; restore it rather than patch the build.
            np.float = float
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    except ImportError as e:
        print("pycocotools not importable (%s); nothing timed" % e)
        return
    c0, t0 = time.process_time(), time.perf_counter()
    gt = COCO(os.path.join(d, prefix + "gt.json"))
    dt = gt.loadRes(os.path.join(d, prefix + "res.json"))
    t1 = time.perf_counter()
    ev = COCOeval(gt, dt, kind)
    ev.evaluate()
    ev.accumulate()
    t2 = time.perf_counter()
    ev.summarize()
    c3, t3 = time.process_time(), time.perf_counter()
    print("pycocotools %s load %.2f s, evaluate+accumulate %.2f s, summarize %.3f s, total %.2f s (CPU %.2f s)"
          % (kind, t1 - t0, t2 - t1, t3 - t2, t3 - t0, c3 - c0))
    stats = "pycocotools_segm_stats.json" if kind == "segm" else "pycocotools_stats.json"
    with open(os.path.join(d, stats), "w") as f:
        json.dump({"stats": [float(s) for s in ev.stats],
                   "load_s": t1 - t0, "eval_s": t2 - t1, "total_s": t3 - t0, "cpu_s": c3 - c0}, f)


if __name__ == "__main__":
    main()
