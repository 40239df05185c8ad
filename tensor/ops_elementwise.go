package tensor

import (
	"slices"
)

// newLike returns a scratch tensor of the given shape on e.
func (e *Engine) newLike(shape []int) *Tensor {
	return &Tensor{eng: e, shape: slices.Clone(shape), buf: e.alloc(numel(shape)), owner: true}
}

// unary applies op elementwise and records its backward.
func unary(x *Tensor, op UnaryOp, p float32) *Tensor {
	e := x.eng
	y := e.newLike(x.shape)
	e.dev.Unary(op, p, x.buf, y.buf)
	record(y, []*Tensor{x}, func(dy Buffer) []Buffer {
		dx := e.get(x.Len())
		e.dev.UnaryBackward(op, p, x.buf, y.buf, dy, dx)
		return []Buffer{dx}
	})
	return y
}

// Relu is max(x, 0).
func Relu(x *Tensor) *Tensor { return unary(x, UnaryRelu, 0) }

// ReluInPlace is Relu written over x's buffer, as PyTorch's
// relu(inplace=True): it saves a tensor's memory per call, and x must not
// be used again. Its backward reads only the result (x > 0 exactly where
// the result is), so it is right wherever x's producer does not read its
// own output in its backward: after a convolution, a batch norm or an
// addition, but not after Sigmoid or Exp. x must own its buffer (not a
// Reshape view) and not be a leaf.
func ReluInPlace(x *Tensor) *Tensor {
	if !x.inPlaceable() {
		Panicf("tensor: ReluInPlace of %v, a view, a parameter or a leaf", x)
	}
	e := x.eng
	y := x.takeBuffer()
	e.dev.Unary(UnaryRelu, 0, x.buf, y.buf)
	record(y, []*Tensor{x}, func(dy Buffer) []Buffer {
		dx := e.get(y.Len())
		e.dev.UnaryBackward(UnaryRelu, 0, y.buf, y.buf, dy, dx)
		return []Buffer{dx}
	})
	return y
}

// AddInPlace is a+b (same shapes) written over a's buffer, as PyTorch's
// residual `out += identity`: a must not be used again, and a's producer
// must not read its own output in its backward (a convolution, an affine,
// an addition). Where a does not own its buffer (a view, a leaf) it is Add.
func AddInPlace(a, b *Tensor) *Tensor {
	if !slices.Equal(a.shape, b.shape) || a == b {
		Panicf("tensor: AddInPlace of %v and %v: want two tensors of one shape", a, b)
	}
	if !a.inPlaceable() {
		return Add(a, b)
	}
	e := a.eng
	e.checkEngine(b)
	y := a.takeBuffer()
	e.dev.Binary(BinaryAdd, a.buf, b.buf, y.buf)
	record(y, []*Tensor{a, b}, func(dy Buffer) []Buffer {
		// dy itself goes on to the first operand that wants it (the engine
		// then does not pool it), a copy to the second.
		var da, db Buffer
		if wants(a) {
			da = dy
		}
		if wants(b) {
			db = dy
			if da != nil {
				db = e.get(b.Len())
				e.dev.Copy(db, dy)
			}
		}
		return []Buffer{da, db}
	})
	return y
}

// inPlaceable says whether an in-place op may write over t's buffer: t owns
// it (not a Reshape view) and is neither persistent nor a leaf that wants a
// gradient.
func (t *Tensor) inPlaceable() bool {
	return t.owner && !t.persistent && !(t.requiresGrad && t.node == nil)
}

// takeBuffer returns a new tensor of t's shape that owns t's buffer, for an
// in-place op's result.
func (t *Tensor) takeBuffer() *Tensor {
	y := &Tensor{eng: t.eng, shape: t.shape, buf: t.buf, owner: true}
	t.owner = false // y holds the buffer now
	return y
}

// Sigmoid is 1/(1+exp(−x)).
func Sigmoid(x *Tensor) *Tensor { return unary(x, UnarySigmoid, 0) }

// Tanh is tanh(x).
func Tanh(x *Tensor) *Tensor { return unary(x, UnaryTanh, 0) }

// Exp is exp(x).
func Exp(x *Tensor) *Tensor { return unary(x, UnaryExp, 0) }

// Log is the natural logarithm.
func Log(x *Tensor) *Tensor { return unary(x, UnaryLog, 0) }

// Neg is −x.
func Neg(x *Tensor) *Tensor { return unary(x, UnaryNeg, 0) }

// Abs is |x|.
func Abs(x *Tensor) *Tensor { return unary(x, UnaryAbs, 0) }

// Sqrt is √x.
func Sqrt(x *Tensor) *Tensor { return unary(x, UnarySqrt, 0) }

// Rsqrt is 1/√(x+eps).
func Rsqrt(x *Tensor, eps float32) *Tensor { return unary(x, UnaryRsqrt, eps) }

// Square is x².
func Square(x *Tensor) *Tensor { return unary(x, UnarySquare, 0) }

// Scale is s·x.
func Scale(x *Tensor, s float32) *Tensor { return unary(x, UnaryScale, s) }

// AddScalar is x+s.
func AddScalar(x *Tensor, s float32) *Tensor { return unary(x, UnaryAddScalar, s) }

// Add is a+b with NumPy broadcasting.
func Add(a, b *Tensor) *Tensor { return binary(a, b, BinaryAdd) }

// Sub is a−b with NumPy broadcasting.
func Sub(a, b *Tensor) *Tensor { return binary(a, b, BinarySub) }

// Mul is a·b with NumPy broadcasting.
func Mul(a, b *Tensor) *Tensor { return binary(a, b, BinaryMul) }

// Div is a/b with NumPy broadcasting.
func Div(a, b *Tensor) *Tensor { return binary(a, b, BinaryDiv) }

// binary applies op with broadcasting. Same-shape operands take the flat
// kernel; otherwise the strided kernel, and backward reduces the full-size
// gradient back to each operand's shape.
func binary(a, b *Tensor, op BinaryOp) *Tensor {
	e := a.eng
	e.checkEngine(b)
	if slices.Equal(a.shape, b.shape) {
		y := e.newLike(a.shape)
		e.dev.Binary(op, a.buf, b.buf, y.buf)
		record(y, []*Tensor{a, b}, func(dy Buffer) []Buffer {
			var da, db Buffer
			if wants(a) {
				da = e.get(a.Len())
			}
			if wants(b) && op != BinaryBCEWithLogits {
				db = e.get(b.Len())
			}
			e.dev.BinaryBackward(op, a.buf, b.buf, dy, da, db)
			return []Buffer{da, db}
		})
		return y
	}
	shape := broadcastShape(a.shape, b.shape)
	as, bs := broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape)
	y := e.newLike(shape)
	e.dev.BroadcastBinary(op, shape, a.buf, as, b.buf, bs, y.buf)
	record(y, []*Tensor{a, b}, func(dy Buffer) []Buffer {
		return broadcastBackward(e, op, a, b, shape, as, bs, dy)
	})
	return y
}

// broadcastBackward computes full-size gradients of a broadcast binary op and
// sums them down to the operands' shapes.
func broadcastBackward(e *Engine, op BinaryOp, a, b *Tensor, shape, as, bs []int, dy Buffer) []Buffer {
	n := numel(shape)
	full := contiguousStrides(shape)
	grad := func(t *Tensor, other *Tensor, otherStrides []int, sign float32, isA bool) Buffer {
		g := e.get(n)
		switch op {
		case BinaryAdd:
			e.dev.Copy(g, dy)
		case BinarySub:
			e.dev.Axpby(sign, dy, 0, g)
		case BinaryMul:
			e.dev.BroadcastBinary(BinaryMul, shape, dy, full, other.buf, otherStrides, g)
		case BinaryDiv:
			if isA { // dy / b
				e.dev.BroadcastBinary(BinaryDiv, shape, dy, full, other.buf, otherStrides, g)
			} else { // −dy·a/b² = −(dy·y)/b where y = a/b; computed as −dy·a / b / b
				e.dev.BroadcastBinary(BinaryMul, shape, dy, full, other.buf, otherStrides, g)
				e.dev.BroadcastBinary(BinaryDiv, shape, g, full, t.buf, bs, g)
				e.dev.BroadcastBinary(BinaryDiv, shape, g, full, t.buf, bs, g)
				e.dev.Unary(UnaryNeg, 0, g, g)
			}
		default:
			Panicf("tensor: broadcast backward of op %d", op)
		}
		return reduceTo(e, g, shape, t.shape)
	}
	var da, db Buffer
	if wants(a) {
		da = grad(a, b, bs, 1, true)
	}
	if wants(b) {
		db = grad(b, a, as, -1, false)
	}
	return []Buffer{da, db}
}

// reduceTo sums g (owned, of shape full) over the dimensions that target
// broadcasts, returning an owned buffer of target's size.
func reduceTo(e *Engine, g Buffer, full, target []int) Buffer {
	pad := len(full) - len(target)
	cur := slices.Clone(full)
	for d := range full {
		td := 1
		if d >= pad {
			td = target[d-pad]
		}
		if td == cur[d] {
			continue
		}
		outer, inner := numel(cur[:d]), numel(cur[d+1:])
		r := e.get(outer * inner)
		e.dev.ReduceSum(g, outer, cur[d], inner, r)
		e.put(g)
		g = r
		cur[d] = 1
	}
	return g
}

// broadcastShape is NumPy's result shape, panicking on incompatible shapes.
func broadcastShape(a, b []int) []int {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := range out {
		da, db := dimFromEnd(a, n-1-i), dimFromEnd(b, n-1-i)
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			Panicf("tensor: cannot broadcast shapes %v and %v", a, b)
		}
	}
	return out
}

func dimFromEnd(s []int, k int) int {
	if k < len(s) {
		return s[len(s)-1-k]
	}
	return 1
}

// broadcastStrides are s's element strides viewed in shape full, with 0 on
// broadcast dimensions.
func broadcastStrides(s, full []int) []int {
	own := contiguousStrides(s)
	out := make([]int, len(full))
	pad := len(full) - len(s)
	for i := range full {
		if i >= pad && s[i-pad] == full[i] {
			out[i] = own[i-pad]
		}
	}
	return out
}

// contiguousStrides are the row-major strides of shape.
func contiguousStrides(shape []int) []int {
	st := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = acc
		acc *= shape[i]
	}
	return st
}
