#!/usr/bin/python3
"""Writes torchvision_resnet_keys.json: the state_dict names and shapes of
torchvision's resnet18 and resnet50, the layout nn/resnet_bench_test.go's
builder must reproduce. Run with Debian's python3 (torchvision 0.14):

    /usr/bin/python3 gen_resnet_keys.py
"""
import json

import torchvision

out = {}
for name in ("resnet18", "resnet50"):
    m = getattr(torchvision.models, name)()
    out[name] = [[k, list(v.shape)] for k, v in m.state_dict().items()]
with open("torchvision_resnet_keys.json", "w") as f:
    json.dump(out, f, separators=(",", ":"))
    f.write("\n")
