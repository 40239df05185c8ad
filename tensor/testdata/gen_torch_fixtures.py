#!/usr/bin/python3
"""Writes the PyTorch golden fixtures that tensor/torch_fixtures_test.go reads.

Run from this directory with Debian's python3 (torch 1.13):

    /usr/bin/python3 gen_torch_fixtures.py

Each fixture file is JSON: {"op": name, "cases": [case, ...]} where a case is
{"name": str, "params": {...}, "tensors": {name: {"shape": [...], "data": [...]}}}.
Inputs are random (fixed seed); "r" is the random upstream gradient: every
"d_<name>" tensor is the gradient of sum(out * r) with respect to <name>.
Integer tensors (labels) are stored as floats holding whole numbers.
CI never runs this script; the JSON files are committed.
"""
import json

import torch
import torch.nn.functional as F

torch.manual_seed(20261127)
torch.set_default_dtype(torch.float64)  # exact references; Go compares float32 results


def t(x):
    x = x.detach()
    return {"shape": list(x.shape), "data": [float(v) for v in x.reshape(-1).tolist()]}


def backward(out, inputs):
    r = torch.randn_like(out)
    (out * r).sum().backward()
    res = {"r": t(r)}
    for name, x in inputs.items():
        res["d_" + name] = t(x.grad)
    return res


def leaf(*shape):
    return torch.randn(*shape).requires_grad_(True)


def conv_cases():
    cases = []
    for name, (n, c, h, w, cout, k, s, p, d, bias) in {
        "3x3 s1 p1": (2, 3, 7, 6, 4, 3, 1, 1, 1, True),
        "3x3 s2 p1": (1, 4, 9, 8, 3, 3, 2, 1, 1, False),
        "7x7 s2 p3": (1, 3, 13, 11, 2, 7, 2, 3, 1, True),
        "3x3 dil2 p2": (2, 2, 8, 9, 3, 3, 1, 2, 2, True),
        "1x1 s1": (2, 5, 4, 3, 6, 1, 1, 0, 1, True),
        "1x1 s2": (1, 4, 7, 7, 3, 1, 2, 0, 1, False),
        "5x3 s(2,1) p(2,1)": (1, 2, 9, 7, 2, (5, 3), (2, 1), (2, 1), 1, True),
    }.items():
        kh, kw = k if isinstance(k, tuple) else (k, k)
        x, wt = leaf(n, c, h, w), leaf(cout, c, kh, kw)
        b = leaf(cout) if bias else None
        out = F.conv2d(x, wt, b, stride=s, padding=p, dilation=d)
        ins = {"x": x, "w": wt}
        if bias:
            ins["b"] = b
        tensors = {"x": t(x), "w": t(wt), "out": t(out)}
        if bias:
            tensors["b"] = t(b)
        tensors.update(backward(out, ins))
        two = lambda v: list(v) if isinstance(v, tuple) else [v, v]
        cases.append({"name": name, "params": {"stride": two(s), "padding": two(p), "dilation": two(d)}, "tensors": tensors})
    return cases


def linear_cases():
    x, w, b = leaf(5, 7), leaf(3, 7), leaf(3)
    out = F.linear(x, w, b)
    tensors = {"x": t(x), "w": t(w), "b": t(b), "out": t(out)}
    tensors.update(backward(out, {"x": x, "w": w, "b": b}))
    return [{"name": "5x7 to 3", "params": {}, "tensors": tensors}]


def batch_norm_cases():
    cases = []
    for name, training in (("train", True), ("eval", False)):
        x = (torch.randn(3, 4, 5, 3) * 2 + 1).requires_grad_(True)
        w, b = (torch.rand(4) + 0.5).requires_grad_(True), leaf(4)
        rm, rv = torch.randn(4) * 0.1, torch.rand(4) + 0.5
        rm0, rv0 = rm.clone(), rv.clone()
        out = F.batch_norm(x, rm, rv, w, b, training=training, momentum=0.1, eps=1e-5)
        tensors = {"x": t(x), "w": t(w), "b": t(b), "running_mean": t(rm0), "running_var": t(rv0),
                   "out": t(out), "running_mean_after": t(rm), "running_var_after": t(rv)}
        tensors.update(backward(out, {"x": x, "w": w, "b": b}))
        cases.append({"name": name, "params": {"training": training, "momentum": 0.1, "eps": 1e-5}, "tensors": tensors})
    return cases


def max_pool_cases():
    cases = []
    for name, (k, s, p, shape) in {
        "3x3 s2 p1": (3, 2, 1, (2, 3, 9, 8)),
        "2x2 s2": (2, 2, 0, (1, 2, 7, 6)),
    }.items():
        # A permutation keeps window maxima unique, so the gradient is defined.
        n = 1
        for v in shape:
            n *= v
        x = (torch.randperm(n).double() / n).reshape(shape).requires_grad_(True)
        out = F.max_pool2d(x, k, s, p)
        tensors = {"x": t(x), "out": t(out)}
        tensors.update(backward(out, {"x": x}))
        cases.append({"name": name, "params": {"kernel": k, "stride": s, "padding": p}, "tensors": tensors})
    return cases


def cross_entropy_cases():
    x = leaf(7, 5)
    labels = torch.tensor([0, 4, -100, 2, 2, 1, 3])
    wts = torch.tensor([1.0, 0.5, 1.0, 2.0, 0.0, 1.0, 0.25])
    per = F.cross_entropy(x, labels, ignore_index=-100, reduction="none")
    out = (per * wts).sum() / (labels != -100).sum()
    r = torch.ones(())
    out.backward()
    tensors = {"x": t(x), "labels": t(labels.double()), "weights": t(wts), "per_sample": t(per),
               "out": t(out), "r": t(r), "d_x": t(x.grad)}
    return [{"name": "weighted mean over valid", "params": {"ignore_index": -100}, "tensors": tensors}]


def smooth_l1_cases():
    cases = []
    for beta in (1.0, 1.0 / 9.0, 0.0):
        pred, target = leaf(4, 6), torch.randn(4, 6)
        if beta > 0:
            out = F.smooth_l1_loss(pred, target, reduction="none", beta=beta)
        else:
            out = F.l1_loss(pred, target, reduction="none")
        tensors = {"x": t(pred), "target": t(target), "out": t(out)}
        tensors.update(backward(out, {"x": pred}))
        cases.append({"name": "beta %g" % beta, "params": {"beta": beta}, "tensors": tensors})
    return cases


def pooling_cases():
    cases = []
    x = leaf(2, 3, 9, 7)
    for name, fn, params in (
        ("avg 3x3 s2 p1", lambda v: F.avg_pool2d(v, 3, 2, 1), {"op": "avg", "kernel": 3, "stride": 2, "padding": 1}),
        ("adaptive 9x7 to 4x3", lambda v: F.adaptive_avg_pool2d(v, (4, 3)), {"op": "adaptive", "out": [4, 3]}),
        ("adaptive global", lambda v: F.adaptive_avg_pool2d(v, 1), {"op": "adaptive", "out": [1, 1]}),
        ("nearest x2", lambda v: F.interpolate(v, scale_factor=2, mode="nearest"), {"op": "nearest", "scale": 2}),
    ):
        x.grad = None
        out = fn(x)
        tensors = {"x": t(x), "out": t(out)}
        tensors.update(backward(out, {"x": x}))
        cases.append({"name": name, "params": params, "tensors": tensors})
    return cases


def bce_cases():
    x = leaf(3, 7) * 3
    x.retain_grad()
    target = torch.rand(3, 7).round()
    target[0, :3] = torch.tensor([0.25, 0.5, 0.75])  # soft targets too
    out = F.binary_cross_entropy_with_logits(x, target, reduction="none")
    tensors = {"x": t(x), "target": t(target), "out": t(out)}
    tensors.update(backward(out, {"x": x}))
    return [{"name": "soft and hard targets", "params": {}, "tensors": tensors}]


def main():
    for op, fn in (("conv2d", conv_cases), ("linear", linear_cases), ("batch_norm", batch_norm_cases),
                   ("max_pool2d", max_pool_cases), ("cross_entropy", cross_entropy_cases),
                   ("smooth_l1", smooth_l1_cases), ("pooling", pooling_cases), ("bce_with_logits", bce_cases)):
        with open("torch_%s.json" % op, "w") as f:
            json.dump({"op": op, "torch": torch.__version__, "cases": fn()}, f, separators=(",", ":"))
            f.write("\n")


if __name__ == "__main__":
    main()
