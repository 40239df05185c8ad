package tensor

import "github.com/detflow/detflow/float16"

// Autocast is the number format an engine's convolutions, linears and
// matrix products compute in under mixed precision, emulated in FP32: the
// policy of torch.cuda.amp's autocast, whose lower-precision list holds
// conv*, linear and matmul while losses, softmax, norms, sums and
// everything else stay FP32. Such an operation reads its inputs, weight and
// bias rounded to the format (as autocast's casts do), accumulates in FP32
// (as tensor cores do), and its output is rounded to the format. In
// backward the gradient entering it is rounded, and so are the input,
// weight and bias gradients it produces, as a low-precision backward
// kernel writes them; a parameter's gradient reaches its FP32 (master)
// value unchanged from there. So fp16's small gradients underflow and its
// large ones overflow to infinity as on a GPU, which is what loss scaling
// exists for.
type Autocast int

const (
	AutocastOff  Autocast = iota // FP32 throughout
	AutocastFP16                 // IEEE binary16: 10-bit mantissa, range ±65504
	AutocastBF16                 // bfloat16: 7-bit mantissa, float32's range
)

func (a Autocast) String() string {
	switch a {
	case AutocastFP16:
		return "fp16"
	case AutocastBF16:
		return "bf16"
	}
	return "off"
}

// SetAutocast sets the format of the engine's low-precision operations
// (AutocastOff: all FP32, the default).
func (e *Engine) SetAutocast(a Autocast) { e.autocast = a }

// Autocast returns the engine's autocast format.
func (e *Engine) Autocast() Autocast { return e.autocast }

// Rounder is implemented by devices that round a buffer to a 16-bit format
// themselves; others round on the host.
type Rounder interface {
	// Round writes y = x rounded to nearest (ties to even) in format a; y
	// may be x.
	Round(a Autocast, x, y Buffer)
}

// Round implements Rounder.
func (d *CPU) Round(a Autocast, x, y Buffer) {
	xs, ys := f(x), f(y)
	if len(xs) != len(ys) {
		Panicf("tensor: round lengths %d and %d", len(xs), len(ys))
	}
	fn := roundFunc(a)
	d.parallel(len(ys), elemGrain, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			ys[i] = fn(xs[i])
		}
	})
}

func roundFunc(a Autocast) func(float32) float32 {
	switch a {
	case AutocastFP16:
		return float16.Round
	case AutocastBF16:
		return float16.RoundBF16
	}
	Panicf("tensor: no rounding for autocast %d", int(a))
	return nil
}

// roundBuffer writes y = x rounded to format a on the device, or through
// host memory when the device cannot.
func (e *Engine) roundBuffer(a Autocast, x, y Buffer) {
	if r, ok := e.dev.(Rounder); ok {
		r.Round(a, x, y)
		return
	}
	host := make([]float32, x.Len())
	e.dev.Download(host, x)
	fn := roundFunc(a)
	for i, v := range host {
		host[i] = fn(v)
	}
	e.dev.Upload(y, host)
}

// RoundTo returns x rounded to format a, a cast into (and, in backward,
// out of) low precision: its backward rounds the gradient too. AutocastOff
// returns x itself; so does a nil x.
func RoundTo(x *Tensor, a Autocast) *Tensor {
	if x == nil || a == AutocastOff {
		return x
	}
	e := x.eng
	y := e.newLike(x.shape)
	e.roundBuffer(a, x.buf, y.buf)
	record(y, []*Tensor{x}, func(dy Buffer) []Buffer {
		dx := e.get(x.Len())
		e.roundBuffer(a, dy, dx)
		return []Buffer{dx}
	})
	return y
}

// lowPrecision runs op, an FP32 operation of autocast's lower-precision
// list, under the engine's autocast: its inputs are rounded first and its
// output after. Without autocast it is op on the inputs as they are.
func lowPrecision(e *Engine, op func(in []*Tensor) *Tensor, in ...*Tensor) *Tensor {
	a := e.autocast
	if a == AutocastOff {
		return op(in)
	}
	low := make([]*Tensor, len(in))
	for i, t := range in {
		low[i] = RoundTo(t, a)
	}
	return RoundTo(op(low), a)
}
