#!/usr/bin/python3
"""Writes the end-to-end torchvision fixture of package detection/detector.

Run from this folder with Debian's python3 (torch 1.13, torchvision 0.14):

    /usr/bin/python3 gen_torchvision_e2e.py

It takes the random-weight Faster R-CNN of gen_torchvision_fixtures.py
(tv_faster_rcnn_tiny.pth: ResNet-18 of stem width 4, 8-channel FPN, 3
classes) and runs torchvision's whole detector (GeneralizedRCNNTransform
resize to 800/1333 and normalisation, RPN, RoI heads, postprocess) in eval
mode on two real photos, stored as PNG so that both sides decode the same
pixels:

  photo_hopper.png  /usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg
                    (python3-matplotlib; a public-domain US Navy portrait)
                    halved to 256x300 with PIL's LANCZOS
  photo_video.png   Go's src/image/testdata/video-001.png (BSD, 150x103)

and saves tv_e2e.json: per photo its file, size and torchvision's
detections (boxes xyxy in photo pixels, scores, labels 1..3; background 0
is never returned). Go (e2e_torchvision_test.go) runs detflow with
model.conventions=torchvision and must match them.
"""
import json
import os
import shutil
import subprocess

import torch
from PIL import Image
from torchvision.transforms.functional import pil_to_tensor

from gen_torchvision_fixtures import build

PHOTOS = {
    "photo_hopper.png": "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg",
    "photo_video.png": "src/image/testdata/video-001.png",
}


def make_photos():
    hopper = Image.open(PHOTOS["photo_hopper.png"]).convert("RGB")
    hopper.resize((hopper.width // 2, hopper.height // 2), Image.LANCZOS).save("photo_hopper.png", optimize=True)
    goroot = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip()
    shutil.copyfile(os.path.join(goroot, PHOTOS["photo_video.png"]), "photo_video.png")


def main():
    torch.set_num_threads(1)
    make_photos()
    model = build().eval()
    model.load_state_dict(torch.load("tv_faster_rcnn_tiny.pth"))
    out = []
    for name in sorted(PHOTOS):
        img = Image.open(name).convert("RGB")
        x = pil_to_tensor(img).float() / 255
        with torch.no_grad():
            det = model([x])[0]
        out.append({
            "file": name,
            "width": img.width,
            "height": img.height,
            "boxes": [[round(float(v), 4) for v in b] for b in det["boxes"]],
            "scores": [round(float(s), 7) for s in det["scores"]],
            "labels": [int(v) for v in det["labels"]],
        })
    with open("tv_e2e.json", "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
