// Package tensordev adapts a gpu.Device to tensor.Device, the interface
// every tensor operator dispatches through.
//
// Operators with a CUDA kernel in gpu/kernels run on the GPU with their
// operands resident in device memory. The others (broadcast and strided
// copies, reductions over an axis, average pooling, softmax, index ops,
// sort) run tensor.CPU's reference kernel on host copies of their operands:
// correct, but each such call pays a round trip over PCIe. Device.Fallbacks
// reports which operators took that path and how often, so a profile shows
// what to port next.
//
// It is a separate package from gpu so that the gpu package, and its test
// binary, build even while tensor's interface is being edited.
package tensordev
