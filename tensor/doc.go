// Package tensor is detflow's compute engine: float32 tensors, define-by-run
// reverse-mode autograd, and the Device interface that every operator
// dispatches through, kernel by kernel.
//
// # Shape letters
//
// Image tensors are NCHW, row-major and contiguous:
//
//	N  batch (images)
//	C  channels
//	H  height (rows)
//	W  width (columns)
//
// Other letters used in doc comments: K classes (logits are N×K), D a feature
// dimension (linear layers map N×Din to N×Dout), KH×KW a kernel window,
// OH×OW an output size. A shape is written [N,C,H,W].
//
// # Conventions
//
//   - Every Tensor is contiguous; view-like operations (Reshape) share the
//     buffer, the others (Permute, Slice, Concat) copy.
//   - Weights follow PyTorch: conv2d weight is [Cout,Cin,KH,KW], linear weight
//     is [Dout,Din] and computes y = x·Wᵀ + b.
//   - Index tensors (labels, gather indices, argmax, sort results) are int32
//     and live in IndexBuffers on the tensor's device.
//   - IgnoreIndex (-100, as in PyTorch) marks a label that contributes no loss.
//   - Sorts are stable: equal keys keep their input order.
//   - Gradients accumulate: a tensor used twice receives the sum of both
//     contributions.
//
// # Engine, memory and no-grad mode
//
// An Engine owns a Device, a pool of reusable buffers and the grad mode; there
// is no package-level mutable state, so data-parallel replicas each use their
// own Engine. Tensors created during a step are scratch: Engine.Mark and
// Engine.Release return their buffers to the pool, so a training loop that
// releases at the end of each iteration allocates nothing once warm.
// Parameters are persistent and survive Release. The pool works in size
// classes (16 per power of two) so steps whose shapes vary (images of
// different sizes) reuse memory too; Engine.SetPoolLimit bounds it,
// Engine.Trim empties it, and Engine.Free hands back a no-grad activation
// before Release (long inference passes on large images).
//
// # Backends
//
// Every operation runs through the Device interface (device.go), kernel by
// kernel on device buffers; NewCPU is the reference implementation. Package
// tensortest is the conformance suite a backend's tests run against it.
//
// A backend may also implement optional capabilities, which the engine and
// its callers look for with a type assertion and do without otherwise:
// ConvDevice (whole-batch convolutions, cuDNN), SquareSummer (many sums of
// squares with one wait), PeerCopier (device-to-device copies between
// replicas), CollectiveMaker (NCCL-style sums and broadcasts across
// replicas). DeviceOp lets operators outside the package run their own
// device kernels under autograd.
//
// An operation given operands it cannot use (shapes that do not match, a
// wrong device) panics with an *InputError, its message prefixed "tensor: ",
// as hot kernels do; a failing device panics with a *DeviceError. Callers
// at API boundaries defer Recover, which returns those as errors, by type,
// and lets any other panic through.
package tensor
