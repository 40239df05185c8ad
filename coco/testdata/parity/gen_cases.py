#!/usr/bin/env python3
"""Writes the parity cases' inputs (<case>.gt.json, <case>.res.json).

Deterministic (fixed seeds), standard library only, no pycocotools. Run from
this directory: python3 gen_cases.py. golden_pycocotools.py then records what
pycocotools prints for them; the Go parity test compares against that.
"""
import json
import random


def box(rng, W, H, smin, smax):
    w = rng.uniform(smin, smax)
    h = rng.uniform(smin, smax)
    x = rng.uniform(0, max(1.0, W - w))
    y = rng.uniform(0, max(1.0, H - h))
    return [round(x, 2), round(y, 2), round(w, 2), round(h, 2)]


def jitter(rng, b, s):
    x, y, w, h = b
    dx, dy = rng.gauss(0, s * w), rng.gauss(0, s * h)
    sw, sh = max(0.05, 1 + rng.gauss(0, s)), max(0.05, 1 + rng.gauss(0, s))
    return [round(x + dx, 3), round(y + dy, 3), round(w * sw, 3), round(h * sh, 3)]


def write(name, gt, res):
    with open(name + ".gt.json", "w") as f:
        json.dump(gt, f)
    with open(name + ".res.json", "w") as f:
        json.dump(res, f)


def edge_case():
    """Hand-placed corner cases plus random filler, bbox kind."""
    rng = random.Random(4)
    cats = [{"id": c, "name": n} for c, n in [(7, "kite"), (1, "person"), (2, "bicycle"), (3, "car"), (5, "bus")]]
    # Image ids unsorted and sparse; file order must not matter.
    img_ids = [40, 3, 17, 8, 100, 5, 61, 12, 9, 77, 23, 31]
    images = [{"id": i, "width": 640, "height": 480, "file_name": "%d.jpg" % i} for i in img_ids]
    anns, res = [], []
    aid = [0]  # the first annotation gets id 0, which pycocotools treats as unmatched

    def gt(img, cat, b, crowd=0, area=None):
        anns.append({"id": aid[0], "image_id": img, "category_id": cat, "bbox": b,
                     "area": b[2] * b[3] if area is None else area, "iscrowd": crowd,
                     "segmentation": [[b[0], b[1], b[0] + b[2], b[1], b[0] + b[2], b[1] + b[3]]]})
        aid[0] += 1

    def dt(img, cat, b, score):
        res.append({"image_id": img, "category_id": cat, "bbox": b, "score": score})

    # image 40: crowd region with detections inside it, and regular people.
    gt(40, 1, [10, 10, 30, 30])
    gt(40, 1, [0, 0, 600, 400], crowd=1)
    gt(40, 1, [200, 200, 50, 60])
    for i in range(6):
        dt(40, 1, [20 + 40 * i, 30, 25, 25], 0.9 - 0.1 * i)
    dt(40, 1, [10, 10, 30, 30], 0.95)
    dt(40, 1, [201, 199, 50, 60], 0.5)
    dt(40, 1, [620, 460, 10, 10], 0.99)  # outside the crowd: false positive
    # image 3: no ground truth, detections only.
    for i in range(5):
        dt(3, 2, box(rng, 640, 480, 10, 200), 0.3 + 0.1 * i)
    # image 17: ground truth without any detection.
    gt(17, 3, [5, 5, 100, 80])
    gt(17, 2, [300, 100, 20, 20])
    # image 8: empty (no ground truth, no detections).
    # image 100: more than 100 detections, with score ties.
    gts100 = [box(rng, 640, 480, 20, 150) for _ in range(8)]
    for b in gts100:
        gt(100, 3, b)
    for i in range(150):
        src = gts100[i % 8]
        dt(100, 3, jitter(rng, src, 0.1) if i % 3 else box(rng, 640, 480, 10, 150), round(rng.random(), 1))
    # image 5: tiny and huge boxes, area-range boundaries (32^2 and 96^2 exactly).
    gt(5, 1, [1, 1, 0.5, 0.5])
    gt(5, 1, [0, 0, 99999, 99999])
    gt(5, 2, [100, 100, 32, 32])
    gt(5, 2, [200, 200, 96, 96])
    gt(5, 3, [50, 50, 40, 40], area=1024)  # area field differs from w*h
    dt(5, 1, [1, 1, 0.5, 0.5], 0.7)
    dt(5, 1, [1.1, 1.1, 0.5, 0.5], 0.7)
    dt(5, 1, [0, 0, 99990, 99990], 0.6)
    dt(5, 1, [0, 0, 0, 0], 0.65)
    dt(5, 2, [100, 100, 32, 32], 0.8)
    dt(5, 2, [200, 200, 96, 96], 0.8)
    dt(5, 2, [201, 201, 95, 95], 0.8)
    dt(5, 3, [50, 50, 40, 40], 0.4)
    # image 61: identical duplicate ground truths (IoU ties: a later one wins).
    gt(61, 2, [10, 10, 50, 50])
    gt(61, 2, [10, 10, 50, 50])
    gt(61, 2, [10, 10, 50, 50], crowd=1)
    dt(61, 2, [12, 10, 50, 50], 0.5)
    dt(61, 2, [10, 12, 50, 50], 0.5)
    dt(61, 2, [11, 11, 50, 50], 0.5)
    # category 5 has detections but no ground truth anywhere.
    dt(61, 5, [10, 10, 50, 50], 0.9)
    dt(12, 5, [0, 0, 10, 10], 0.1)
    # remaining images: random filler with tied scores across images.
    for img in [12, 9, 77, 23, 31]:
        for _ in range(rng.randint(1, 6)):
            c = rng.choice([1, 2, 3])
            b = box(rng, 640, 480, 4, 300)
            gt(img, c, b, crowd=1 if rng.random() < 0.1 else 0)
            for _ in range(rng.randint(0, 3)):
                dt(img, c, jitter(rng, b, 0.15), round(rng.random(), 1))
        for _ in range(rng.randint(0, 4)):
            dt(img, rng.choice([1, 2, 3]), box(rng, 640, 480, 4, 300), round(rng.random(), 1))
    # Results not grouped by image, as a merged file from workers would be.
    rng.shuffle(res)
    rng.shuffle(anns)
    write("edge", {"info": {"description": "parity edge cases"}, "licenses": [],
                   "images": images, "annotations": anns, "categories": cats}, res)


def random_case():
    """A mid-sized random data set, bbox kind, with per-category AP."""
    rng = random.Random(11)
    ncat = 10
    cats = [{"id": 1 + 2 * c, "name": "class%02d" % c} for c in range(ncat)]
    images = [{"id": i + 1, "width": 800, "height": 600} for i in range(200)]
    anns, res = [], []
    for img in images:
        for _ in range(rng.randint(0, 12)):
            c = rng.choice(cats[:-1])["id"]  # the last category has no ground truth
            big = rng.random()
            b = box(rng, 800, 600, 2, 40 if big < 0.4 else (120 if big < 0.8 else 500))
            anns.append({"id": len(anns) + 1, "image_id": img["id"], "category_id": c, "bbox": b,
                         "area": round(b[2] * b[3] * rng.uniform(0.6, 1.0), 2),
                         "iscrowd": 1 if rng.random() < 0.03 else 0})
            for _ in range(rng.choice([0, 1, 1, 2, 3])):
                cc = c if rng.random() < 0.8 else rng.choice(cats)["id"]
                res.append({"image_id": img["id"], "category_id": cc, "bbox": jitter(rng, b, 0.12),
                            "score": round(rng.random(), 2)})
        for _ in range(rng.randint(0, 30)):
            res.append({"image_id": img["id"], "category_id": rng.choice(cats)["id"],
                        "bbox": box(rng, 800, 600, 2, 300), "score": round(rng.random() * 0.6, 2)})
    write("random", {"images": images, "annotations": anns, "categories": cats}, res)


def proposal_case():
    """Class-agnostic proposals (useCats=0), up to 1050 per image."""
    rng = random.Random(23)
    cats = [{"id": c, "name": "c%d" % c} for c in (1, 2, 3)]
    images = [{"id": i + 1, "width": 640, "height": 480} for i in range(16)]
    anns, res = [], []
    for img in images:
        gts = []
        for _ in range(rng.randint(0, 10)):
            big = rng.random()
            b = box(rng, 640, 480, 3, 30 if big < 0.4 else (100 if big < 0.8 else 400))
            gts.append(b)
            anns.append({"id": len(anns) + 1, "image_id": img["id"], "category_id": rng.choice(cats)["id"],
                         "bbox": b, "area": b[2] * b[3], "iscrowd": 1 if rng.random() < 0.05 else 0})
        n = rng.choice([0, 120, 350, 1050])
        for i in range(n):
            if gts and rng.random() < 0.3:
                b = jitter(rng, rng.choice(gts), 0.2)
            else:
                b = box(rng, 640, 480, 2, 400)
            # Proposal files use one category; a few rows use others to pin
            # down pycocotools' tie order (by category, then file order).
            c = 1 if rng.random() < 0.9 else rng.choice([2, 3])
            res.append({"image_id": img["id"], "category_id": c, "bbox": [round(v, 1) for v in b],
                        "score": round(rng.random(), 2)})
    write("proposal", {"images": images, "annotations": anns, "categories": cats}, res)


if __name__ == "__main__":
    edge_case()
    random_case()
    proposal_case()
