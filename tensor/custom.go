package tensor

import (
	"slices"
)

// CustomForward computes an operator's output from its inputs, all as host
// slices: in[i] holds input i's values (row-major, read-only) and out, of the
// output's size, must be overwritten entirely.
type CustomForward func(in [][]float32, out []float32)

// CustomBackward maps the output gradient dout to input gradients, all as
// host slices. din[i] is nil when input i needs no gradient; otherwise it
// arrives zeroed and the function adds input i's gradient into it. in holds
// the forward inputs again (read-only).
type CustomBackward func(dout []float32, in [][]float32, din [][]float32)

// Custom joins an operator written outside this package (RoIAlign, say) to
// autograd: it runs forward on host copies of inputs and records backward for
// Backward. backward may be nil for an operator without a gradient (then the
// result is a constant). On the CPU the slices are the device buffers
// themselves, so nothing is copied; another device downloads the inputs and
// uploads the results around each call, which is correct but slow: a backend
// wanting speed adds a Device kernel instead.
//
// The callbacks must not keep the slices beyond their call. A nil input is
// passed as a nil slice.
func Custom(e *Engine, outShape []int, inputs []*Tensor, forward CustomForward, backward CustomBackward) *Tensor {
	e.checkEngine(inputs...)
	checkShape(outShape)
	out := e.newLike(slices.Clone(outShape))
	in := e.hostInputs(inputs)
	if _, cpu := e.dev.(*CPU); cpu {
		forward(in, CPUData(out.buf))
	} else {
		host := make([]float32, out.Len())
		forward(in, host)
		e.dev.Upload(out.buf, host)
	}
	if backward == nil {
		return out
	}
	record(out, slices.Clone(inputs), func(dy Buffer) []Buffer {
		return e.customBackward(inputs, dy, backward)
	})
	return out
}

// customBackward runs a Custom op's backward with host views of the output
// gradient and the inputs and returns device gradients for the inputs that
// want one.
func (e *Engine) customBackward(inputs []*Tensor, dy Buffer, backward CustomBackward) []Buffer {
	_, cpu := e.dev.(*CPU)
	in := e.hostInputs(inputs)
	dout := e.hostView(dy)
	grads := make([]Buffer, len(inputs))
	din := make([][]float32, len(inputs))
	for i, t := range inputs {
		if !wants(t) {
			continue
		}
		grads[i] = e.get(t.Len())
		if cpu {
			din[i] = CPUData(grads[i])
			clear(din[i])
		} else {
			din[i] = make([]float32, t.Len())
		}
	}
	backward(dout, in, din)
	if !cpu {
		for i, g := range grads {
			if g != nil {
				e.dev.Upload(g, din[i])
			}
		}
	}
	return grads
}

// hostInputs returns host views (CPU) or copies (other devices) of inputs.
func (e *Engine) hostInputs(inputs []*Tensor) [][]float32 {
	in := make([][]float32, len(inputs))
	for i, t := range inputs {
		if t == nil {
			continue
		}
		if t.buf == nil {
			Panicf("tensor: custom op input %d of shape %v was freed", i, t.shape)
		}
		in[i] = e.hostView(t.buf)
	}
	return in
}

// hostView returns b's values on the host: the buffer's own slice on the
// CPU, a fresh copy elsewhere.
func (e *Engine) hostView(b Buffer) []float32 {
	if _, cpu := e.dev.(*CPU); cpu {
		return CPUData(b)
	}
	host := make([]float32, b.Len())
	e.dev.Download(host, b)
	return host
}
