#!/usr/bin/python3
"""Checks pipeline export --format torchvision against torchvision itself.

Run from this folder with Debian's python3 (torch 1.13, torchvision 0.14)
after `go test ./pipelines -run TestExportTorchvisionRoundTrip -update-export`:

    /usr/bin/python3 check_torchvision_export.py

tv_export_tiny.pth is detflow's export of the tiny random-weight Faster
R-CNN of ../../detection/detector/testdata (gen_torchvision_fixtures.py),
loaded there from torchvision's state dict. This script loads it into
torchvision's model with load_state_dict(strict=True), runs it on the two
photos of gen_torchvision_e2e.py and compares the detections with
tv_e2e.json (torchvision's own, which detflow reproduces with
model.conventions=torchvision): they must be identical, since the export
changes only the background's box deltas, which torchvision never reads.
"""
import json
import os
import sys

import torch
from PIL import Image
from torchvision.transforms.functional import pil_to_tensor

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "detection", "detector", "testdata")
sys.path.insert(0, FIXTURES)
from gen_torchvision_fixtures import build  # noqa: E402


def main():
    torch.set_num_threads(1)
    model = build().eval()
    model.load_state_dict(torch.load("tv_export_tiny.pth"), strict=True)
    with open(os.path.join(FIXTURES, "tv_e2e.json")) as f:
        want = json.load(f)
    worst = 0.0
    for photo in want:
        img = Image.open(os.path.join(FIXTURES, photo["file"])).convert("RGB")
        with torch.no_grad():
            det = model([pil_to_tensor(img).float() / 255])[0]
        assert det["labels"].tolist() == photo["labels"], photo["file"]
        worst = max(worst, (det["boxes"] - torch.tensor(photo["boxes"])).abs().max().item(),
                    (det["scores"] - torch.tensor(photo["scores"])).abs().max().item())
        print("%s: %d detections, labels equal" % (photo["file"], len(photo["labels"])))
    print("strict load ok; max |difference| in boxes and scores %.2g (tv_e2e.json rounds to 1e-4 px, 1e-7)" % worst)
    assert worst < 1e-3


if __name__ == "__main__":
    main()
