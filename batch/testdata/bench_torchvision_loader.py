#!/usr/bin/python3
"""Times torchvision's DataLoader with PIL on the work of BenchmarkLoader.

    /usr/bin/python3 bench_torchvision_loader.py PHOTOS SUB WORKERS [IMAGES]

PHOTOS is loader_photos.py's folder, SUB 420 or 444. Each image, in a
Dataset over the folder's JPEGs repeated to IMAGES (default 224): read the
file, PIL Image.open().convert("RGB") (libjpeg-turbo), resize with PIL
bilinear to MMDetection's keep-ratio size for 1333x800 (scale = min(1333 /
long side, 800 / short side), sizes rounded half up), flip horizontally
(every image, as the Go side with flip_ratio 1), pil_to_tensor, float,
Normalize with the default config's mean and std. collate_fn pads a batch of
2 with zeros to the largest H and W rounded up to a multiple of 32, as
batch.Pad. WORKERS 0 loads in the main process (the 1-core figure, run under
`taskset -c 0`); 1 or 2 use worker processes (persistent_workers). Torch
runs 1 thread in every process. One untimed pass warms caches and starts
workers; the timed pass prints images per second.
"""
import os
import sys
import time

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import Normalize
from torchvision.transforms.functional import pil_to_tensor

SCALE = (1333, 800)
MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
DIVISOR, BATCH = 32, 2


class Photos(Dataset):
    def __init__(self, files, n):
        self.files, self.n = files, n
        self.norm = Normalize(MEAN, STD)

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        img = Image.open(self.files[i % len(self.files)]).convert("RGB")
        w, h = img.size
        f = min(max(SCALE) / max(w, h), min(SCALE) / min(w, h))
        img = img.resize((int(w * f + 0.5), int(h * f + 0.5)), Image.BILINEAR)
        img = img.transpose(Image.FLIP_LEFT_RIGHT)
        return self.norm(pil_to_tensor(img).float())


def pad(imgs):
    h = max(t.shape[1] for t in imgs)
    w = max(t.shape[2] for t in imgs)
    h, w = -(-h // DIVISOR) * DIVISOR, -(-w // DIVISOR) * DIVISOR
    out = torch.zeros(len(imgs), 3, h, w)
    for i, t in enumerate(imgs):
        out[i, :, : t.shape[1], : t.shape[2]] = t
    return out


def main():
    photos, sub, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 224
    folder = os.path.join(photos, sub)
    files = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".jpg"))
    torch.set_num_threads(1)
    dl = DataLoader(Photos(files, n), batch_size=BATCH, num_workers=workers, collate_fn=pad,
                    persistent_workers=workers > 0)
    for _ in dl:  # warm-up pass
        pass
    t = time.perf_counter()
    for _ in dl:
        pass
    dt = time.perf_counter() - t
    print(f"torchvision DataLoader+PIL {sub} workers={workers} threads=1: {n / dt:.1f} images/s ({n} images, {dt:.2f} s)")


if __name__ == "__main__":
    main()
