// Package tensordev adapts a gpu.Device to tensor.Device, the interface
// every tensor operator dispatches through.
//
// Operators with a CUDA kernel in gpu/kernels run on the GPU with their
// operands resident in device memory. The others (SortRows, Gemm without
// cuBLAS, BatchNormBackward without a weight) run tensor.CPU's reference
// kernel on host copies of their operands: correct, but each such call
// pays a round trip over PCIe. Device.Fallbacks reports which operators
// took that path and how often, so a profile shows what to port next.
//
// Broadcast and strided copies, sums over an axis, softmax, the index ops
// and average pooling have kernels in modules newer than some builds'
// embedded PTX (layout, index, softmax, avgpool): they run on the GPU when
// gpu.Device.HasModule finds the module's PTX (embedded or in
// DETFLOW_PTX_DIR) and on the host, counted in Fallbacks, when it does
// not. A strided shape that does not merge into gpu.MaxLayoutDims
// dimensions also runs on the host, as "StridedCopy (too many dims)" or
// "BroadcastBinary (too many dims)". On the GPU an index out of range
// cannot panic as on the CPU: gathers give NaN there, scatters skip it.
//
// It is a separate package from gpu so that the gpu package, and its test
// binary, build even while tensor's interface is being edited.
package tensordev
