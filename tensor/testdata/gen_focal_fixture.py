#!/usr/bin/python3
"""Writes torch_sigmoid_focal_loss.json for tensor/focal_test.go.

Run from this directory with Debian's python3 (torch 1.13, torchvision 0.14):

    /usr/bin/python3 gen_focal_fixture.py

The format is gen_torch_fixtures.py's. Each case holds logits x [N,K],
labels [N] (a class in [0,K) marks the one positive column, K is
background: all targets 0), torchvision.ops.sigmoid_focal_loss summed per
row as "out", and the gradient of sum(out * r) as "d_x". CI never runs it.
"""
import json

import torch
from torchvision.ops import sigmoid_focal_loss

torch.manual_seed(20261207)
torch.set_default_dtype(torch.float64)


def t(x):
    x = x.detach()
    return {"shape": list(x.shape), "data": [float(v) for v in x.reshape(-1).tolist()]}


def case(name, n, k, gamma, alpha, scale):
    x = (torch.randn(n, k) * scale).requires_grad_(True)
    labels = torch.randint(0, k + 1, (n,))
    target = torch.zeros(n, k)
    fg = labels < k
    target[fg.nonzero().squeeze(1), labels[fg]] = 1.0
    out = sigmoid_focal_loss(x, target, alpha=alpha, gamma=gamma, reduction="none").sum(1)
    r = torch.randn_like(out)
    (out * r).sum().backward()
    return {"name": name, "params": {"gamma": gamma, "alpha": alpha},
            "tensors": {"x": t(x), "labels": t(labels.double()), "out": t(out), "r": t(r), "d_x": t(x.grad)}}


cases = [
    case("retinanet gamma 2 alpha 0.25", 13, 5, 2.0, 0.25, 3.0),
    case("gamma 0 is weighted bce", 7, 3, 0.0, 0.25, 2.0),
    case("no alpha", 9, 4, 2.0, -1.0, 4.0),
    case("gamma 1.5 alpha 0.6, saturated logits", 6, 4, 1.5, 0.6, 20.0),
]
with open("torch_sigmoid_focal_loss.json", "w") as f:
    json.dump({"op": "sigmoid_focal_loss", "torch": torch.__version__, "cases": cases}, f)
