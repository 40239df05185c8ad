#!/usr/bin/python3
"""Write the .pth fixtures that nn/pth/*_test.go load, with Debian's
torch 1.13:

    /usr/bin/python3 gen_fixtures.py

Each <name>.pth comes with <name>.json: the state dict the Go loader must
return after unwrapping (key picked, top-level keys found) and every
tensor's dtype, shape and values in row-major order, floats converted to
float32 and written with repr, integers as decimal strings.
"""
import collections
import json

import torch

torch.manual_seed(0)


class Tiny(torch.nn.Module):
    """conv + bn + linear: the parameter and buffer kinds of a backbone."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, bias=False)
        self.bn = torch.nn.BatchNorm2d(4)
        self.fc = torch.nn.Linear(4, 2)


def tiny_state_dict():
    m = Tiny()
    # Non-trivial running statistics and a counter, as after training.
    m.bn.running_mean.uniform_(-1, 1)
    m.bn.running_var.uniform_(0.5, 2)
    m.bn.num_batches_tracked.fill_(1234)
    return m.state_dict()


def views():
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 8
    return collections.OrderedDict([
        ("transposed", base.t()),                      # strides (1, 6)
        ("sliced", base[1:, ::2]),                     # offset 6, strides (6, 2)
        ("shared_base", base),
        ("shared_row", base[2]),                       # same storage, offset 12
        ("expanded", torch.tensor([1.0, 2.0]).reshape(2, 1).expand(2, 3)),  # stride 0
        ("scalar", torch.tensor(3.5)),
        ("empty", torch.zeros(0, 3)),
        ("param", torch.nn.Parameter(torch.tensor([0.25, -0.75]))),
    ])


def dtypes():
    return collections.OrderedDict([
        ("f16", torch.tensor([1.0, -0.5, 65504.0, 6e-8], dtype=torch.float16)),
        ("bf16", torch.tensor([1.5, -256.0, 3.0e38], dtype=torch.bfloat16)),
        ("f64", torch.tensor([0.1, -2.5, 1e-40], dtype=torch.float64)),
        ("i64", torch.tensor([2**62, -5, 0], dtype=torch.int64)),
        ("i32", torch.tensor([[-7], [2**31 - 1]], dtype=torch.int32)),
        ("i16", torch.tensor([-300, 300], dtype=torch.int16)),
        ("i8", torch.tensor([-128, 127], dtype=torch.int8)),
        ("u8", torch.tensor([0, 255], dtype=torch.uint8)),
        ("bool", torch.tensor([True, False, True])),
    ])


def mmdet_checkpoint():
    sd = tiny_state_dict()
    w = sd["fc.weight"]
    return {
        "meta": {"epoch": 12, "iter": 7330, "CLASSES": ("cat", "dog"),
                 "mmdet_version": "2.28.2", "config": "model = dict(type='FastRCNN')"},
        "state_dict": sd,
        "optimizer": {"state": {0: {"momentum_buffer": torch.ones_like(w)}},
                      "param_groups": [{"lr": 0.02, "momentum": 0.9, "params": [0]}]},
    }


def write_expected(name, sd, key, found):
    tensors = collections.OrderedDict()
    for k, t in sd.items():
        t = t.detach()
        if t.dtype.is_floating_point:
            values = [repr(v) for v in t.float().reshape(-1).tolist()]
        else:
            values = [str(int(v)) for v in t.reshape(-1).tolist()]
        tensors[k] = {"dtype": str(t.dtype).replace("torch.", ""),
                      "shape": list(t.shape), "values": values}
    with open(name + ".json", "w") as f:
        json.dump({"key": key, "found": found, "tensors": tensors}, f, indent=1)
        f.write("\n")


def main():
    sd = tiny_state_dict()
    torch.save(sd, "tiny_model.pth")
    write_expected("tiny_model", sd, "", [])

    v = views()
    torch.save(v, "views.pth")
    write_expected("views", v, "", [])

    d = dtypes()
    torch.save(d, "dtypes.pth")
    write_expected("dtypes", d, "", [])

    ck = mmdet_checkpoint()
    torch.save(ck, "mmdet_checkpoint.pth")
    write_expected("mmdet_checkpoint", ck["state_dict"], "state_dict",
                   ["meta", "state_dict", "optimizer"])

    torch.save({"model": sd, "epoch": 3}, "model_checkpoint.pth")
    write_expected("model_checkpoint", sd, "model", ["model", "epoch"])

    # The pre-1.6 format, which older model zoo checkpoints use; the
    # expected values are those of the zip files above.
    torch.save(sd, "legacy.pth", _use_new_zipfile_serialization=False)
    torch.save(v, "views_legacy.pth", _use_new_zipfile_serialization=False)
    torch.save(d, "dtypes_legacy.pth", _use_new_zipfile_serialization=False)

    # Layouts the loader must refuse with a clear message.
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), "scripted.pt")
    torch.save(Tiny(), "whole_module.pth")


if __name__ == "__main__":
    main()
