#!/usr/bin/python3
"""Write tiny.safetensors by hand, following the public format description
(https://github.com/huggingface/safetensors#format), without the safetensors
library, and tiny.json with the values the Go reader must return.

    /usr/bin/python3 gen_fixture.py

Layout: u64 little-endian header length N, N bytes of JSON header padded
with spaces to a multiple of 8, then the little-endian tensor bytes that the
header's data_offsets point into (relative to the end of the header). The
header lists tensors in a different order than the data, as the format
allows.
"""
import json
import struct

import numpy as np


def bf16_bytes(values):
    # bfloat16 is the top half of a float32; these values are exact in it.
    f = np.asarray(values, dtype="<f4")
    return (f.view("<u4") >> 16).astype("<u2").tobytes()


TENSORS = [
    # name, dtype, shape, raw bytes, expected values (float32 / int64)
    ("conv.weight", "F32", [2, 1, 2], np.array([0.5, -1.25, 3.0, 1e-3], "<f4")),
    ("half", "F16", [3], np.array([1.0, -0.5, 65504.0], "<f2")),
    ("brain", "BF16", [2], np.array([1.5, -256.0], "<f4")),
    ("double", "F64", [2], np.array([0.1, -2.5], "<f8")),
    ("bn.num_batches_tracked", "I64", [], np.array(7, "<i8")),
    ("ids", "I32", [2, 2], np.array([[-1, 2], [2**31 - 1, 0]], "<i4")),
    ("bytes", "U8", [3], np.array([0, 7, 255], "<u1")),
    ("mask", "BOOL", [2], np.array([True, False])),
    ("empty", "F32", [0, 3], np.zeros((0, 3), "<f4")),
]


def main():
    header = {"__metadata__": {"format": "pt", "note": "hand-written"}}
    data = b""
    expected = {"metadata": header["__metadata__"], "tensors": {}}
    for name, dtype, shape, arr in TENSORS:
        raw = bf16_bytes(arr) if dtype == "BF16" else arr.tobytes()
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
        if dtype in ("F32", "F16", "BF16", "F64"):
            vals = [repr(float(np.float32(v))) for v in arr.reshape(-1)]
        else:
            vals = [int(v) for v in arr.reshape(-1)]
        expected["tensors"][name] = {"dtype": dtype, "shape": shape, "values": vals}
    # List the tensors in reverse order in the header.
    ordered = {"__metadata__": header["__metadata__"]}
    for name, *_ in reversed(TENSORS):
        ordered[name] = header[name]
    text = json.dumps(ordered).encode()
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    with open("tiny.safetensors", "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        f.write(data)
    with open("tiny.json", "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
