#!/usr/bin/env python3
"""Writes resize.json: torch bilinear resizes (align_corners=False, the
half-pixel-centre rule cv2.INTER_LINEAR uses) of a small random image.
Run with Debian's python3-torch: /usr/bin/python3 gen_resize_fixture.py"""
import json
import torch

torch.manual_seed(0)
src = (torch.rand(1, 3, 5, 7) * 255).float()
cases = []
for (h, w) in [(9, 11), (3, 4), (5, 7), (8, 5)]:
    out = torch.nn.functional.interpolate(src, size=(h, w), mode="bilinear", align_corners=False)
    cases.append({"h": h, "w": w, "out": out.flatten().tolist()})
json.dump({"src_h": 5, "src_w": 7, "src": src.flatten().tolist(), "cases": cases}, open("resize.json", "w"))
