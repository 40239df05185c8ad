#!/usr/bin/python3
"""Writes torch_conv_transpose2d.json, the PyTorch golden fixture of
tensor.ConvTranspose2d (TestTorchConvTranspose2d), in the format of
gen_torch_fixtures.py. Run from this directory with Debian's python3:

    /usr/bin/python3 gen_conv_transpose_fixture.py

Cases cover FCNMaskHead's deconvolution (kernel 2, stride 2), padding,
output padding, dilation, unequal sides and a batch large enough for the
per-image GEMM path. CI never runs this script; the JSON is committed.
"""
import json

import torch
import torch.nn.functional as F

from gen_torch_fixtures import backward, leaf, t

torch.manual_seed(20261207)


def cases():
    out = []
    for name, (n, c, h, w, cout, k, s, p, op, d, bias) in {
        "2x2 s2 (mask head)": (2, 3, 5, 4, 4, 2, 2, 0, 0, 1, True),
        "3x3 s1 p1": (1, 2, 6, 5, 3, 3, 1, 1, 0, 1, False),
        "3x3 s2 p1 op1": (2, 2, 4, 5, 3, 3, 2, 1, 1, 1, True),
        "3x3 dil2 p1": (1, 3, 5, 5, 2, 3, 1, 1, 0, 2, True),
        "4x3 s(2,1) p(1,0)": (1, 2, 5, 6, 2, (4, 3), (2, 1), (1, 0), 0, 1, True),
        "1x1 s1": (2, 4, 3, 3, 5, 1, 1, 0, 0, 1, False),
        "2x2 s2 large": (2, 2, 12, 11, 2, 2, 2, 0, 0, 1, True),
    }.items():
        kh, kw = k if isinstance(k, tuple) else (k, k)
        x, wt = leaf(n, c, h, w), leaf(c, cout, kh, kw)
        b = leaf(cout) if bias else None
        y = F.conv_transpose2d(x, wt, b, stride=s, padding=p, output_padding=op, dilation=d)
        ins = {"x": x, "w": wt}
        tensors = {"x": t(x), "w": t(wt), "out": t(y)}
        if bias:
            ins["b"] = b
            tensors["b"] = t(b)
        tensors.update(backward(y, ins))
        two = lambda v: list(v) if isinstance(v, tuple) else [v, v]
        params = {"stride": two(s), "padding": two(p), "output_padding": two(op), "dilation": two(d)}
        out.append({"name": name, "params": params, "tensors": tensors})
    return out


def main():
    with open("torch_conv_transpose2d.json", "w") as f:
        json.dump({"op": "conv_transpose2d", "torch": torch.__version__, "cases": cases()}, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
