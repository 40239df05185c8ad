package tensor

import (
	"slices"
)

// DeviceForward computes an operator's output from its inputs, all as buffers
// of the engine's device: in[i] is input i's buffer (read-only; nil for a nil
// input) and out, of the output's size, must be overwritten entirely.
type DeviceForward func(in []Buffer, out Buffer)

// DeviceBackward maps the output gradient dout to input gradients, all as
// device buffers. din[i] is nil when input i needs no gradient; otherwise it
// arrives zeroed, with input i's length, and the function adds input i's
// gradient into it (kernels that accumulate, such as scatters with atomic
// adds, write into it directly). in holds the forward inputs again
// (read-only).
type DeviceBackward func(dout Buffer, in []Buffer, din []Buffer)

// DeviceOp is Custom for operators that run on the engine's device: it hands
// the callbacks the device buffers themselves, so nothing crosses to the host
// and the operator keeps its data resident on a GPU. It is how a backend's
// optional kernels (RoIAlign, say, through a capability interface the caller
// checks on Engine.Device) join autograd. backward may be nil for an operator
// without a gradient (then the result is a constant).
//
// The callbacks may call the device's methods and allocate tensors on e
// (scratch tensors live until Release), but must not keep the buffers beyond
// their call: the engine reuses them once the op's node is consumed.
func DeviceOp(e *Engine, outShape []int, inputs []*Tensor, forward DeviceForward, backward DeviceBackward) *Tensor {
	e.checkEngine(inputs...)
	checkShape(outShape)
	out := e.newLike(slices.Clone(outShape))
	forward(deviceInputs(inputs), out.buf)
	if backward == nil {
		return out
	}
	inputs = slices.Clone(inputs)
	record(out, inputs, func(dy Buffer) []Buffer {
		return e.deviceBackward(inputs, dy, backward)
	})
	return out
}

// deviceBackward runs a DeviceOp's backward into zeroed gradient buffers for
// the inputs that want one.
func (e *Engine) deviceBackward(inputs []*Tensor, dy Buffer, backward DeviceBackward) []Buffer {
	grads := make([]Buffer, len(inputs))
	for i, t := range inputs {
		if !wants(t) {
			continue
		}
		grads[i] = e.get(t.Len())
		e.dev.Fill(grads[i], 0)
	}
	// A copy, so a callback that reassigns din cannot change what the
	// engine accumulates.
	backward(dy, deviceInputs(inputs), slices.Clone(grads))
	return grads
}

// deviceInputs returns the buffers of inputs, nil for a nil input.
func deviceInputs(inputs []*Tensor) []Buffer {
	in := make([]Buffer, len(inputs))
	for i, t := range inputs {
		if t == nil {
			continue
		}
		if t.buf == nil {
			Panicf("tensor: device op input %d of shape %v was freed", i, t.shape)
		}
		in[i] = t.buf
	}
	return in
}
