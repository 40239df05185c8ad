#!/usr/bin/python3
"""Makes the data loader benchmark's JPEGs from real photos in Debian packages.

    /usr/bin/python3 loader_photos.py OUTDIR

Sources, none committed: grace_hopper.jpg of python3-matplotlib (installed
with matplotlib), and the colour photos of python3-skimage's data folder
(astronaut, chelsea, coffee, motorcycle_left/right, rocket), which this
script fetches with `apt-get download` and unpacks with `dpkg -x` into
OUTDIR/deb when they are not already there. Offline, it says so and goes on
with the photos it has.

Each photo is resized with PIL (Lanczos) so its long side is 640 pixels, as
COCO's images are, and encoded by PIL (libjpeg-turbo) at quality 90 twice:
OUTDIR/420/NAME.jpg with 4:2:0 chroma subsampling and OUTDIR/444/NAME.jpg
with none. Both benchmark sides (batch's BenchmarkLoader and
bench_torchvision_loader.py) read these same files.
"""
import glob
import os
import subprocess
import sys

from PIL import Image

MATPLOTLIB = "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg"
SKIMAGE = ["astronaut.png", "chelsea.png", "coffee.png", "motorcycle_left.png",
           "motorcycle_right.png", "rocket.jpg"]
LONG_SIDE = 640


def skimage_photos(out):
    """Paths of the skimage photos, fetching the package when needed."""
    deb = os.path.join(out, "deb")
    data = os.path.join(deb, "x", "usr", "lib", "python3", "dist-packages", "skimage", "data")
    if not os.path.isdir(data):
        os.makedirs(deb, exist_ok=True)
        try:
            subprocess.run(["apt-get", "download", "python3-skimage"], cwd=deb, check=True,
                           capture_output=True, timeout=300)
            pkg = glob.glob(os.path.join(deb, "python3-skimage_*.deb"))[0]
            subprocess.run(["dpkg", "-x", pkg, os.path.join(deb, "x")], check=True)
            os.remove(pkg)
        except (OSError, IndexError, subprocess.SubprocessError) as e:
            print(f"loader_photos: could not fetch python3-skimage ({e}); "
                  f"offline? going on without its photos", file=sys.stderr)
            return []
    return [os.path.join(data, n) for n in SKIMAGE if os.path.exists(os.path.join(data, n))]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: loader_photos.py OUTDIR")
    out = sys.argv[1]
    srcs = skimage_photos(out)
    if os.path.exists(MATPLOTLIB):
        srcs.append(MATPLOTLIB)
    if not srcs:
        sys.exit(f"loader_photos: no photo found (install python3-matplotlib for {MATPLOTLIB})")
    for sub, sampling in (("420", 2), ("444", 0)):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
        for src in srcs:
            img = Image.open(src).convert("RGB")
            f = LONG_SIDE / max(img.size)
            img = img.resize((round(img.width * f), round(img.height * f)), Image.LANCZOS)
            name = os.path.splitext(os.path.basename(src))[0] + ".jpg"
            img.save(os.path.join(out, sub, name), quality=90, subsampling=sampling)
    print(f"loader_photos: {len(srcs)} photos, long side {LONG_SIDE}, in {out}/420 and {out}/444")


if __name__ == "__main__":
    main()
