#!/usr/bin/env python3
"""Writes the parity cases' inputs (<case>.gt.json, <case>.res.json).

Deterministic (fixed seeds), standard library only, no pycocotools. Run from
this directory: python3 gen_cases.py. golden_pycocotools.py then records what
pycocotools prints for them; the Go parity test compares against that.
"""
import json
import math
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


def rle_counts(on, h, w):
    """Column-major run lengths (0s first) of the pixel set on {(x, y)}."""
    idx = sorted(x * h + y for x, y in on if 0 <= x < w and 0 <= y < h)
    counts, pos, j = [], 0, 0
    while j < len(idx):  # one 0-run and one 1-run per stretch of consecutive indexes
        k = j
        while k + 1 < len(idx) and idx[k + 1] == idx[k] + 1:
            k += 1
        counts += [idx[j] - pos, k - j + 1]
        pos, j = idx[k] + 1, k + 1
    counts.append(h * w - pos)
    return counts


def rle_string(counts):
    """pycocotools' rleToString: deltas from the count two before, 5 bits a char."""
    out = []
    for i, c in enumerate(counts):
        x = c - counts[i - 2] if i > 2 else c
        more = True
        while more:
            ch = x & 0x1F
            x >>= 5
            more = x != -1 if ch & 0x10 else x != 0
            if more:
                ch |= 0x20
            out.append(chr(ch + 48))
    return "".join(out)


def ellipse(rng, cx, cy, rx, ry, h, w):
    on = set()
    for x in range(max(0, int(cx - rx) - 1), min(w, int(cx + rx) + 2)):
        for y in range(max(0, int(cy - ry) - 1), min(h, int(cy + ry) + 2)):
            if ((x + 0.5 - cx) / rx) ** 2 + ((y + 0.5 - cy) / ry) ** 2 <= 1:
                on.add((x, y))
    return on


def star(rng, cx, cy, r, n):
    """A random simple polygon around (cx, cy): sorted angles, random radii."""
    angles = sorted(rng.uniform(0, 2 * math.pi) for _ in range(n))
    pts = []
    for a in angles:
        rr = r * rng.uniform(0.4, 1.0)
        pts += [round(cx + rr * math.cos(a), 2), round(cy + rr * math.sin(a), 2)]
    return pts


def inside(poly, px, py):
    xs, ys = poly[0::2], poly[1::2]
    n, c = len(xs), False
    for i in range(n):
        j = i - 1
        if (ys[i] > py) != (ys[j] > py) and px < (xs[j] - xs[i]) * (py - ys[i]) / (ys[j] - ys[i]) + xs[i]:
            c = not c
    return c


def poly_pixels(poly, h, w):
    xs, ys = poly[0::2], poly[1::2]
    on = set()
    for x in range(max(0, int(min(xs))), min(w, int(max(xs)) + 1)):
        for y in range(max(0, int(min(ys))), min(h, int(max(ys)) + 1)):
            if inside(poly, x + 0.5, y + 0.5):
                on.add((x, y))
    return on


def shoelace(poly):
    xs, ys = poly[0::2], poly[1::2]
    return abs(sum(xs[i] * ys[i - 1] - xs[i - 1] * ys[i] for i in range(len(xs)))) / 2


def segm_objects(rng, h, w, n):
    """n ground-truth objects of mixed encodings; returns (anns, pixel sets)."""
    objs = []
    for _ in range(n):
        big = rng.random()
        r = rng.uniform(2, 8) if big < 0.3 else (rng.uniform(8, 30) if big < 0.8 else rng.uniform(30, 90))
        cx, cy = rng.uniform(-5, w + 5), rng.uniform(-5, h + 5)  # some cross the border
        kind = rng.choice(["poly", "poly", "multi", "rle", "crle", "box", "crowd"])
        crowd = 0
        if kind in ("poly", "multi", "box"):
            parts = [star(rng, cx, cy, r, rng.randint(3, 12))]
            if kind == "multi":
                for _ in range(rng.randint(1, 3)):
                    parts.append(star(rng, cx + rng.uniform(-r, r), cy + rng.uniform(-r, r), r / 2, rng.randint(3, 8)))
            if kind == "box":  # degenerate later parts: a 2-point and a 1-point polygon
                parts += [[round(cx, 1), round(cy, 1), round(cx + r, 1), round(cy + 1, 1)], [round(cx, 1), round(cy, 1)]]
                on = poly_pixels(parts[0], h, w)
                seg, area = parts, round(shoelace(parts[0]), 2)
            else:
                on = set().union(*(poly_pixels(p, h, w) for p in parts))
                seg, area = parts, round(sum(shoelace(p) for p in parts), 2)
        else:
            on = ellipse(rng, cx, cy, r, r * rng.uniform(0.5, 1.5), h, w)
            counts = rle_counts(on, h, w)
            crowd = 1 if kind == "crowd" else 0
            if kind == "crle" or (crowd and rng.random() < 0.5):
                seg = {"size": [h, w], "counts": rle_string(counts)}
            else:
                seg = {"size": [h, w], "counts": counts}
            area = float(len(on))
        objs.append((seg, area, crowd, on))
    return objs


def jitter_mask(rng, on, h, w):
    """A detection's pixels: the object shifted, thinned and grown a little."""
    if not on:
        return on
    dx, dy = rng.randint(-2, 2), rng.randint(-2, 2)
    out = set()
    for x, y in on:
        if rng.random() < 0.9:
            out.add((x + dx, y + dy))
    if rng.random() < 0.5:
        out |= set((x + 1, y) for x, y in list(out) if rng.random() < 0.3)
    return out


def segm_case(name, with_boxes, seed):
    """Masks: polygons (multi-part, degenerate parts, across the border), RLE and
    compressed RLE ground truth, crowd RLE, overlapping objects, empty
    images, tied scores; results as compressed RLE. With boxes, results
    also carry bbox (loadRes then takes area = w*h) and a few carry only a
    bbox (pycocotools rasterises it)."""
    rng = random.Random(seed)
    cats = [{"id": c, "name": "m%d" % c} for c in (1, 2, 4, 9)]  # 9 has no ground truth
    sizes = [(48, 64), (60, 80), (120, 90), (97, 131), (200, 150)]
    images = []
    for i in range(48):
        h, w = rng.choice(sizes)
        images.append({"id": 3 * i + 2, "height": h, "width": w})
    anns, res = [], []
    for k, img in enumerate(images):
        h, w = img["height"], img["width"]
        n = 0 if k % 12 == 0 else rng.randint(0, 9)  # a few images without objects
        for seg, area, crowd, on in segm_objects(rng, h, w, n):
            c = rng.choice([1, 2, 4])
            anns.append({"id": len(anns) + 1, "image_id": img["id"], "category_id": c, "segmentation": seg,
                         "area": area, "bbox": [0, 0, 1, 1], "iscrowd": crowd})
            if k % 12 == 5:
                continue  # ground truth without detections
            for _ in range(rng.choice([0, 1, 1, 2, 3])):
                cc = c if rng.random() < 0.85 else rng.choice([1, 2, 4, 9])
                res.append(("mask", img, cc, jitter_mask(rng, on, h, w)))
        for _ in range(rng.randint(0, 4)):  # false positives, some of another size
            cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(2, 40)
            hh, ww = (h, w) if rng.random() < 0.9 else (h + 1, w)
            res.append(("mask", dict(img, height=hh, width=ww), rng.choice([1, 2, 4, 9]), ellipse(rng, cx, cy, r, r, hh, ww)))
    rows = []
    for kind, img, c, on in res:
        h, w = img["height"], img["width"]
        row = {"image_id": img["id"], "category_id": c,
               "segmentation": {"size": [h, w], "counts": rle_string(rle_counts(on, h, w))},
               "score": round(rng.random(), 1)}
        if with_boxes:
            xs = [x for x, _ in on] or [0]
            ys = [y for _, y in on] or [0]
            row["bbox"] = [min(xs), min(ys), max(xs) - min(xs) + 1, max(ys) - min(ys) + rng.choice([0, 1, 5])]
            if rng.random() < 0.05:
                del row["segmentation"]
        rows.append(row)
    rng.shuffle(rows)
    if with_boxes and "segmentation" not in rows[0]:
        rows[0], rows[1] = rows[1], rows[0]
    write(name, {"images": images, "annotations": anns, "categories": cats}, rows)


def masks_case():
    """Single polygons and RLE pairs for the mask primitives (masks.json)."""
    rng = random.Random(41)
    polys = []
    for _ in range(200):
        h, w = rng.randint(1, 60), rng.randint(1, 60)
        n = rng.choice([1, 2, 3, 4, 6, 12, 30])
        pts = [round(rng.uniform(-10, w + 10), rng.choice([0, 1, 2, 6])) if i % 2 == 0 else
               round(rng.uniform(-10, h + 10), rng.choice([0, 1, 2, 6])) for i in range(2 * n)]
        polys.append({"h": h, "w": w, "polygon": pts})
    polys.append({"h": 10, "w": 10, "polygon": [2.5, 2.5, 7.5, 2.5, 7.5, 7.5, 2.5, 7.5]})
    polys.append({"h": 10, "w": 10, "polygon": [0, 0, 10, 0, 10, 10, 0, 10]})
    polys.append({"h": 7, "w": 5, "polygon": [1.1, 1.1, 1.1, 1.1, 1.1, 1.1]})
    with open("masks.json", "w") as f:
        json.dump({"polygons": polys}, f)


if __name__ == "__main__":
    edge_case()
    random_case()
    proposal_case()
    segm_case("segm", False, 31)
    segm_case("segm_bbox", True, 32)
    masks_case()
