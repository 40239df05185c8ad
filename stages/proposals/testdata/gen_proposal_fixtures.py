#!/usr/bin/python3
"""Writes the proposal-file fixtures of the proposals stage's import tests.

Run with Debian's python3 (standard pickle plus numpy; no MMDetection or
Detectron needed) from this folder:

    /usr/bin/python3 gen_proposal_fixtures.py

It writes gt.json, a tiny COCO instances file whose images are listed out of
id order (annotation order matters for the MMDetection v0-v2 layout), and
one proposals file per layout and mismatch case. The classes that real
files reference (mmengine's InstanceData, detectron2's BoxMode) are stood in
for by classes registered under the same module names, so the pickles name
the same globals as real ones.
"""
import enum
import json
import math
import pickle
import sys
import types

import numpy as np

# Images in annotation-file order (not id order): id, file, width, height.
IMAGES = [(5, "b.jpg", 64, 48), (1, "a.jpg", 40, 80), (9, "c.jpg", 100, 30)]
ROOT_DIR = "val2017"  # the image folder's name; MMDetection 3.x keys are "<dir>/<file>"


def boxes_for(w, h):
    """Boxes (x1, y1, x2, y2) and scores of one image, in file order.

    Box 2 pokes 0.5 px past the right edge (clipped on import), box 3 is 0.5
    px wide (dropped by min_size 1). Sorted by score the kept boxes are 2, 0, 1.
    """
    boxes = np.array([
        [1, 2, w / 2, h / 2],
        [w / 4, h / 4, w - 1, h - 1],
        [0, 0, w + 0.5, h],
        [3, 3, 3.5, 10],
    ], dtype=np.float32)
    scores = np.array([0.9, 0.8, 0.95, 0.7], dtype=np.float32)
    return boxes, scores


def write_gt():
    images = [{"id": i, "file_name": f, "width": w, "height": h} for i, f, w, h in IMAGES]
    anns = []
    for n, (i, f, w, h) in enumerate(IMAGES):
        bw, bh = w / 2 - 1, h / 2 - 2
        anns.append({"id": n + 1, "image_id": i, "category_id": 1, "bbox": [1, 2, bw, bh],
                     "area": bw * bh, "iscrowd": 0})
    gt = {"images": images, "annotations": anns, "categories": [{"id": 1, "name": "thing"}]}
    with open("gt.json", "w") as f:
        json.dump(gt, f, indent=1)
        f.write("\n")


def dump(name, obj, protocol=4):
    with open(name, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)


def stand_in_module(name):
    """Registers an empty module so pickle can name classes inside it."""
    parts = name.split(".")
    for k in range(1, len(parts) + 1):
        sys.modules.setdefault(".".join(parts[:k]), types.ModuleType(".".join(parts[:k])))
    return sys.modules[name]


# mmengine.structures.instance_data.InstanceData keeps its fields in
# __dict__, next to the bookkeeping sets; pickle stores that dict as state.
instance_data = stand_in_module("mmengine.structures.instance_data")


class InstanceData:
    def __init__(self, bboxes, scores):
        self._metainfo_fields = set()
        self._data_fields = {"bboxes", "scores"}
        self.bboxes = bboxes
        self.scores = scores


InstanceData.__module__ = "mmengine.structures.instance_data"
InstanceData.__qualname__ = "InstanceData"
instance_data.InstanceData = InstanceData

boxes_module = stand_in_module("detectron2.structures.boxes")


class BoxMode(enum.IntEnum):
    XYXY_ABS = 0
    XYWH_ABS = 1
    XYXY_REL = 2
    XYWH_REL = 3
    XYWHA_ABS = 4


BoxMode.__module__ = "detectron2.structures.boxes"
BoxMode.__qualname__ = "BoxMode"
boxes_module.BoxMode = BoxMode


def per_image():
    return [(i, f, w, h) + boxes_for(w, h) for i, f, w, h in IMAGES]


def write_mmdet():
    rows = per_image()
    with5 = [np.hstack([b, s[:, None]]) for _, _, _, _, b, s in rows]
    dump("mmdet_v2.pkl", with5)
    dump("mmdet_v1_xyxy.pkl", [b for _, _, _, _, b, _ in rows], protocol=2)
    dump("mmdet_missing.pkl", with5[:2])
    dump("mmdet_wrong_order.pkl", with5[::-1])


def write_mmdet3():
    rows = per_image()
    key = lambda f: ROOT_DIR + "/" + f
    dump("mmdet3.pkl", {key(f): {"bboxes": b, "scores": s} for _, f, _, _, b, s in rows})
    dump("mmdet3_instancedata.pkl", {key(f): InstanceData(b, s) for _, f, _, _, b, s in rows})
    bad = {key(f): {"bboxes": b, "scores": s} for _, f, _, _, b, s in rows[:2]}
    bad[key("zzz.jpg")] = {"bboxes": rows[2][4], "scores": rows[2][5]}
    dump("mmdet3_unknown.pkl", bad)


def write_detectron():
    rows = per_image()[::-1]  # file order 9, 1, 5: Detectron sorts by id
    dump("detectron.pkl", {"boxes": [r[4] for r in rows], "scores": [r[5] for r in rows],
                           "ids": [r[0] for r in rows]}, protocol=2)
    dump("detectron_indexes.pkl", {"boxes": [r[4] for r in rows], "scores": [r[5] for r in rows],
                                   "indexes": [np.int64(r[0]) for r in rows]})
    dump("detectron_missing.pkl", {"boxes": [r[4] for r in rows[1:]], "scores": [r[5] for r in rows[1:]],
                                   "ids": [r[0] for r in rows[1:]]})
    ids = [r[0] for r in rows]
    ids[0] = 10  # not in gt.json
    dump("detectron_unknown.pkl", {"boxes": [r[4] for r in rows], "scores": [r[5] for r in rows], "ids": ids})


def logits(s):
    return np.log(s / (1 - s)).astype(np.float32)


def write_detectron2():
    rows = per_image()
    dump("detectron2.pkl", {"ids": [r[0] for r in rows], "boxes": [r[4] for r in rows],
                            "objectness_logits": [logits(r[5]) for r in rows],
                            "bbox_mode": BoxMode.XYXY_ABS})
    xywh = []
    for r in rows:
        b = r[4].copy()
        b[:, 2:] -= b[:, :2]
        xywh.append(b)
    dump("detectron2_xywh.pkl", {"ids": [str(r[0]) for r in rows], "boxes": xywh,
                                 "objectness_logits": [logits(r[5]) for r in rows], "bbox_mode": 1})
    dump("detectron2_missing.pkl", {"ids": [r[0] for r in rows[:2]], "boxes": [r[4] for r in rows[:2]],
                                    "objectness_logits": [logits(r[5]) for r in rows[:2]]})


def write_json():
    rows = per_image()
    simple = [{"image_id": i, "boxes": b.tolist(), "scores": s.tolist()} for i, _, _, _, b, s in rows]
    with open("proposals.json", "w") as f:
        json.dump(simple, f)
    results = []
    for i, _, _, _, b, s in rows:
        for box, score in zip(b.tolist(), s.tolist()):
            results.append({"image_id": i, "category_id": 1,
                            "bbox": [box[0], box[1], box[2] - box[0], box[3] - box[1]], "score": score})
    with open("results.json", "w") as f:
        json.dump(results, f)
    simple[1]["image_id"] = 77
    with open("json_unknown.json", "w") as f:
        json.dump(simple, f)


if __name__ == "__main__":
    write_gt()
    write_mmdet()
    write_mmdet3()
    write_detectron()
    write_detectron2()
    write_json()
