#!/usr/bin/python3
"""Write the pickle fixtures that pickle/*_test.go decode.

Run with Debian's interpreter (standard pickle + numpy), from this folder:

    /usr/bin/python3 gen_fixtures.py

For every case it writes <case>.p<protocol>.pkl for protocols 0 to 5
and <case>.json, the expected value in a tagged form that keeps Python's
types apart (tuple vs list, int vs float, str vs bytes):

    null, true, false                    None, True, False
    {"int": "123"}                       int (decimal string: big ints too)
    {"float": "1.5"}                     float (repr, so nan/inf survive)
    {"str": "..."}  {"bytes": "hex"}     str, bytes/bytearray
    {"list": [...]} {"tuple": [...]}     list, tuple
    {"dict": [[k, v], ...]}              dict / OrderedDict, in order
    {"set": [...]} {"frozenset": [...]}  set, frozenset, in pickled order
    {"ndarray": {"dtype", "shape", "fortran", "data"}}
                                         numpy array, data in C order as
                                         tagged ints or floats
    {"object": {"class": "mod.Name", "attr": "NAME"}}
                                         a class attribute (an enum member)
                                         of a class the Go test resolves to
                                         pickle.Class
    {"object": {"class": "mod.Name", "state": {...}}}
                                         an instance of such a class with
                                         its __dict__ as BUILD state
"""
import collections
import enum
import json
import pickle
import sys
import types

import numpy as np

PROTOCOLS = (0, 1, 2, 3, 4, 5)


def tag(v):
    if isinstance(v, enum.Enum):
        # Python >= 3.11 pickles members as getattr(cls, name); older ones
        # as cls(value). Debian's 3.11 writes the first.
        return {"object": {"class": type(v).__module__ + "." + type(v).__qualname__,
                           "attr": v.name}}
    if type(v).__module__.startswith("mmengine."):
        return {"object": {"class": type(v).__module__ + "." + type(v).__qualname__,
                           "state": tag(vars(v))}}
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, np.ndarray):
        return {"ndarray": {
            "dtype": v.dtype.name,
            "shape": list(v.shape),
            "fortran": bool(v.flags.f_contiguous and not v.flags.c_contiguous),
            "data": [tag(x.item()) for x in np.ascontiguousarray(v).reshape(-1)],
        }}
    if isinstance(v, np.generic):
        return tag(v.item())
    if isinstance(v, int):
        return {"int": str(v)}
    if isinstance(v, float):
        return {"float": repr(v)}
    if isinstance(v, str):
        return {"str": v}
    if isinstance(v, (bytes, bytearray)):
        return {"bytes": bytes(v).hex()}
    if isinstance(v, list):
        return {"list": [tag(x) for x in v]}
    if isinstance(v, tuple):
        return {"tuple": [tag(x) for x in v]}
    if isinstance(v, dict):
        return {"dict": [[tag(k), tag(x)] for k, x in v.items()]}
    if isinstance(v, frozenset):
        return {"frozenset": [tag(x) for x in v]}
    if isinstance(v, set):
        return {"set": [tag(x) for x in v]}
    raise TypeError(type(v))


def scalars():
    return {
        "none": None, "true": True, "false": False,
        "small": 7, "byte": 255, "short": 65535, "neg": -3, "int32": -2**31,
        "int64": 2**62, "big": 2**70, "bigneg": -2**100, "maxint64": 2**63 - 1,
        "minint64": -2**63,
        "float": 1.5, "negzero": -0.0, "huge": 1e300, "tiny": 5e-324,
        "nan": float("nan"), "inf": float("inf"), "ninf": float("-inf"),
        "str": "h\u00e9llo\n\u2603 'q' \"dq\" \\ \\u1234 \U0001f600",
        "empty": "", "bytes": bytes(range(256)), "bytearray": bytearray(b"\x00ab\xff"),
        "long_str": "x" * 300,
    }


def nested():
    shared = [1, 2, 3]
    od = collections.OrderedDict([("b", 1), ("a", 2)])
    return [
        (1, "two", 3.0),
        {1: "int key", (1, "t"): "tuple key", 2.5: "float key", None: "none key",
         "nested": {"deep": [[], [[]], ()], "shared": shared}},
        shared,
        {3, 1, 2},
        frozenset({4}),
        od,
        list(range(1200)),
        {"k%d" % i: i for i in range(5)},
        ((),),
        [True, False, None],
    ]


def numpy_arrays():
    f = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    return {
        "f32": (np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5) / 3,
        "f64": np.array([0.1, -2.0, 1e-300, np.inf], dtype=np.float64),
        "i64": np.array([[1, -2], [3, 2**40], [-2**62, 0]], dtype=np.int64),
        "fortran": np.asfortranarray(f),
        "fortran3d": np.asfortranarray(np.arange(24, dtype=np.float64).reshape(2, 3, 4)),
        "zero_d": np.array(3.25),
        "big_endian": np.array([1.5, -2.25, 3.0], dtype=">f4"),
        "big_i32": np.array([-7, 70000], dtype=">i4"),
        "u8": np.array([0, 128, 255], dtype=np.uint8),
        "bool": np.array([True, False, True]),
        "f16": np.array([1.0, -0.5, 65504.0, 6e-8], dtype=np.float16),
        "i32": np.array([-1, 2**31 - 1], dtype=np.int32),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "ustr": np.array(["a", "h\u00e9llo \u2603", ""]),
        "bstr": np.array([b"ab", b"c\x00d", b""]),
        "ustr_fortran": np.asfortranarray(np.array([["x", "yy"], ["zzz", "w"]])),
        "scalar_str": np.str_("q"),
        "scalar_f32": np.float32(1.5),
        "scalar_f64": np.float64(-2.5),
        "scalar_i64": np.int64(-9),
        "scalar_bool": np.bool_(True),
    }


def proposals():
    # MMDetection v2 layout: a list (annotation order) of (N, 5) float32
    # arrays x1, y1, x2, y2, score.
    rng = np.random.RandomState(0)
    out = []
    for n in (3, 0, 2):
        boxes = rng.uniform(0, 50, size=(n, 4)).astype(np.float32)
        boxes[:, 2:] += boxes[:, :2]
        scores = rng.uniform(size=(n, 1)).astype(np.float32)
        out.append(np.concatenate([boxes, scores], axis=1))
    return out


# Detectron2 stores the box convention as an IntEnum, detectron2's
# structures.boxes.BoxMode; a stand-in registered under that module name
# pickles the same way (GLOBAL + REDUCE with the enum value).
for _name in ("detectron2", "detectron2.structures", "detectron2.structures.boxes"):
    sys.modules[_name] = types.ModuleType(_name)
_boxes = sys.modules["detectron2.structures.boxes"]


class BoxMode(enum.IntEnum):
    XYXY_ABS = 0
    XYWH_ABS = 1


BoxMode.__module__ = "detectron2.structures.boxes"
_boxes.BoxMode = BoxMode


def detectron2_proposals():
    # Detectron2 precomputed-proposals layout (load_proposals_into_dataset).
    boxes = proposals()
    return {
        "ids": [139, "000000000285", 632],
        "boxes": [b[:, :4] for b in boxes],
        "objectness_logits": [b[:, 4] for b in boxes],
        "bbox_mode": BoxMode.XYXY_ABS,
    }


# MMDetection 3.x's DumpProposals writes {img_path: InstanceData} with
# bboxes and scores as numpy arrays; a stand-in class under mmengine's
# module name pickles the same way (NEWOBJ + BUILD with the __dict__).
for _name in ("mmengine", "mmengine.structures", "mmengine.structures.instance_data"):
    sys.modules[_name] = types.ModuleType(_name)


class InstanceData:
    pass


InstanceData.__module__ = "mmengine.structures.instance_data"
sys.modules["mmengine.structures.instance_data"].InstanceData = InstanceData


def mmdet3_proposals():
    out = {}
    for i, b in enumerate(proposals()):
        inst = InstanceData()
        inst._metainfo_fields = set()
        inst._data_fields = {"bboxes", "scores"}
        inst.bboxes = b[:, :4]
        inst.scores = b[:, 4]
        out["data/coco/val2017/%012d.jpg" % (i + 1)] = inst
    return out


CASES = {
    "scalars": scalars,
    "nested": nested,
    "numpy": numpy_arrays,
    "proposals": proposals,
    "detectron2_proposals": detectron2_proposals,
    "mmdet3_proposals": mmdet3_proposals,
}


def main():
    for name, make in CASES.items():
        value = make()
        for proto in PROTOCOLS:
            with open("%s.p%d.pkl" % (name, proto), "wb") as f:
                pickle.dump(value, f, protocol=proto)
        with open("%s.json" % name, "w") as f:
            json.dump(tag(value), f, separators=(",", ":"))
            f.write("\n")
    # A list that contains itself: JSON cannot say it, the test checks it.
    rec = [1]
    rec.append(rec)
    with open("recursive.p2.pkl", "wb") as f:
        pickle.dump(rec, f, protocol=2)


if __name__ == "__main__":
    main()
