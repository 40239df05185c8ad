#!/usr/bin/env python3
"""Records pycocotools' numbers for the parity cases (<case>.golden.json).

Needs pycocotools importable (PYTHONPATH may point at a local build); it is
not vendored here. Run from this directory after gen_cases.py:
    PYTHONPATH=/path/to/cocoapi/PythonAPI python3 golden_pycocotools.py
Floats are written by json (repr), so every float64 bit survives.
"""
import contextlib
import io
import json

import numpy as np
from pycocotools import _mask, mask as maskUtils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

CASES = [("edge", "bbox"), ("random", "bbox"), ("proposal", "proposal"), ("segm", "segm"), ("segm_bbox", "segm")]


def run(name, kind):
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(name + ".gt.json")
        dt = gt.loadRes(name + ".res.json")
        ev = COCOeval(gt, dt, "segm" if kind == "segm" else "bbox")
        if kind == "proposal":
            ev.params.useCats = 0
            ev.params.maxDets = [100, 300, 1000]
        ev.evaluate()
        ev.accumulate()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ev.summarize()
    prec = ev.eval["precision"]
    per_cat = []
    if kind in ("bbox", "segm"):
        for k, cid in enumerate(ev.params.catIds):
            p = prec[:, :, k, 0, -1]
            p = p[p > -1]
            per_cat.append({"category_id": int(cid), "name": gt.loadCats(int(cid))[0]["name"],
                            "ap": float(np.mean(p)) if p.size else -1.0})
    golden = {
        "kind": kind,
        "stats": [float(s) for s in ev.stats],
        "summary": out.getvalue(),
        "recall": [float(v) for v in ev.eval["recall"].ravel()],
        "precision_sum": float(np.sum(prec)),
        "per_category_ap": per_cat,
    }
    with open(name + ".golden.json", "w") as f:
        json.dump(golden, f, indent=1)
    print(name, [repr(s) for s in ev.stats])


def text(rle):
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def masks():
    """frPoly, area, toBbox of single polygons (masks.json); for each pair
    (i, i+1), both at polygon i's size: union, intersection, iou (crowd 0, 1)."""
    with open("masks.json") as f:
        polys = json.load(f)["polygons"]
    out = []
    for i, p in enumerate(polys):
        rle = _mask.frPoly([p["polygon"]], p["h"], p["w"])[0]
        q = polys[(i + 1) % len(polys)]
        other = _mask.frPoly([q["polygon"]], p["h"], p["w"])[0]
        iou = maskUtils.iou([rle], [other, other], [0, 1])
        out.append({"rle": text(rle), "area": int(maskUtils.area(rle)),
                    "bbox": [float(v) for v in maskUtils.toBbox(rle)],
                    "next": text(other),
                    "union": text(maskUtils.merge([rle, other])),
                    "intersection": text(maskUtils.merge([rle, other], intersect=1)),
                    "iou": [float(v) for v in np.asarray(iou).ravel()] if len(iou) else [0.0, 0.0]})
    with open("masks.golden.json", "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(o) for o in out) + "]\n")
    print("masks", len(out))


if __name__ == "__main__":
    for name, kind in CASES:
        run(name, kind)
    masks()
