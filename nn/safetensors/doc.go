// Package safetensors reads and writes the safetensors tensor file format
// (https://github.com/huggingface/safetensors):
//
//	8 bytes    N, the header length, unsigned little-endian
//	N bytes    JSON header: {"__metadata__": {str: str},
//	           "<name>": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
//	           padded with spaces so the data starts 8-byte aligned
//	rest       the tensors' bytes, little-endian, row-major; offsets are
//	           relative to the start of this section
//
// Reading is strict in the way the reference implementation is: the
// tensors must tile the data section exactly (no gaps, no overlaps, nothing
// left over), each byte range must match its dtype and shape, and names must
// be unique. Floating types are returned as float32 and integer and bool
// types as int64; Tensor.DType keeps the stored type.
package safetensors
