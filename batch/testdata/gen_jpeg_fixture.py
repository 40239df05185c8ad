#!/usr/bin/python3
"""Writes the JPEG decoding fixture of package batch.

Run from this folder with Debian's python3 (PIL on libjpeg-turbo):

    /usr/bin/python3 gen_jpeg_fixture.py

It copies JPEGs of Go's own src/image/testdata (frames of a video, BSD
licence, 150x103) in the layouts that matter, 4:2:0, 4:2:2, 4:4:4,
progressive, grayscale, CMYK, into jpeg/, and writes next to each what PIL
decodes from it, converted to RGB, as a PNG (lossless): jpeg/NAME.pil.png.
Go (libjpeg_test.go) decodes the same files and measures the difference.
"""
import os
import shutil
import subprocess

from PIL import Image

FILES = [
    "video-001.q50.420.jpeg",
    "video-001.q50.422.jpeg",
    "video-001.q50.444.jpeg",
    "video-001.q50.420.progressive.jpeg",
    "video-001.jpeg",
    "video-005.gray.q50.jpeg",
    "video-001.cmyk.jpeg",
]


def main():
    goroot = subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip()
    for name in FILES:
        dst = os.path.join("jpeg", name)
        shutil.copyfile(os.path.join(goroot, "src", "image", "testdata", name), dst)
        img = Image.open(dst)
        img.convert("RGB").save(dst + ".pil.png", optimize=True)
        print(name, img.mode, img.size, getattr(img, "layer", None))


if __name__ == "__main__":
    main()
