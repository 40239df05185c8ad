// Package pth imports PyTorch checkpoints written by torch.save without
// Python: the zip format of PyTorch 1.6 and later, and the legacy stream
// format before it (still written with _use_new_zipfile_serialization=False
// and used by older model zoo checkpoints).
//
// A zip checkpoint has one top folder:
//
//	<archive>/data.pkl      the pickled object (usually a state dict)
//	<archive>/data/<key>    one raw storage per key, referenced from data.pkl
//	<archive>/byteorder     "little" or "big" (absent before PyTorch 2.0: little)
//	<archive>/version       the format version
//
// A legacy checkpoint is a sequence of pickles (magic number, protocol
// version, sys_info, the object, the storage keys) followed by each
// storage's element count and little-endian bytes.
//
// The pickles are decoded with the project's pickle package. Tensors are
// rebuilt from torch._utils._rebuild_tensor_v2 (storage, offset, size,
// stride), so views (transposes, slices, expands) come out materialised in
// row-major order, and tensors sharing a storage each get their own copy.
// Floating tensors (float16, bfloat16, float32, float64) are returned as
// float32 and integer and bool tensors as int64.
//
// Globals other than the tensor and storage rebuilders are kept as inert
// pickle.Object records (nothing is executed), so that checkpoints carrying
// extra Python objects in their metadata still load; such objects are an
// error only where a tensor was expected.
//
// Refused with a message that says how to convert: the tar-based format
// of PyTorch < 0.4, TorchScript archives (torch.jit.save), pickled whole
// modules (where a state dict is asked for), plain pickles, quantized and
// complex tensors.
package pth
