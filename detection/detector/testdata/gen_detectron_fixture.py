#!/usr/bin/python3
"""Writes detectron_r50_tiny.pkl: a Detectron/MSRA-style ImageNet ResNet-50
weights pickle ({"blobs": {name: float32 ndarray}}, pickle protocol 2 as
Detectron's Python 2 files are) at stem width 2, with random values, the
fc1000 classifier and a few *_momentum blobs as real files have. Names follow
Detectron's convert_pkl / resnet.py: conv1_w, res_conv1_bn_{s,b},
res{2..5}_{i}_branch2{a,b,c}_{w,bn_s,bn_b}, res{S}_0_branch1_{w,bn_s,bn_b}.

    /usr/bin/python3 gen_detectron_fixture.py
"""
import pickle

import numpy as np

WIDTH = 2
rng = np.random.default_rng(0)
blobs = {}


def conv(name, cout, cin, k):
    blobs[name + "_w"] = rng.standard_normal((cout, cin, k, k)).astype(np.float32)


def bn(name, c):
    blobs[name + "_bn_s"] = (1 + 0.1 * rng.standard_normal(c)).astype(np.float32)
    blobs[name + "_bn_b"] = (0.1 * rng.standard_normal(c)).astype(np.float32)


conv("conv1", WIDTH, 3, 7)
bn("res_conv1", WIDTH)
inplanes = WIDTH
for stage, blocks in zip(range(2, 6), (3, 4, 6, 3)):
    planes = WIDTH << (stage - 2)
    for i in range(blocks):
        p = "res%d_%d" % (stage, i)
        conv(p + "_branch2a", planes, inplanes, 1)
        bn(p + "_branch2a", planes)
        conv(p + "_branch2b", planes, planes, 3)
        bn(p + "_branch2b", planes)
        conv(p + "_branch2c", planes * 4, planes, 1)
        bn(p + "_branch2c", planes * 4)
        if i == 0:
            conv(p + "_branch1", planes * 4, inplanes, 1)
            bn(p + "_branch1", planes * 4)
        inplanes = planes * 4
# The classifier is cut to 10 rows: only its name matters here.
blobs["fc1000_w"] = rng.standard_normal((10, inplanes)).astype(np.float32)
blobs["fc1000_b"] = np.zeros(10, np.float32)
blobs["conv1_w_momentum"] = np.zeros_like(blobs["conv1_w"])

with open("detectron_r50_tiny.pkl", "wb") as f:
    pickle.dump({"blobs": blobs}, f, protocol=2)
