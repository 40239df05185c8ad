package tensor

import (
	"math"
)

// Unary implements Device.
func (d *CPU) Unary(op UnaryOp, p float32, x, y Buffer) {
	xs, ys := f(x), f(y)
	checkLen("unary", len(xs), len(ys))
	d.parallel(len(xs), elemGrain, func(lo, hi int) {
		unaryRange(op, p, xs[lo:hi], ys[lo:hi])
	})
}

func unaryRange(op UnaryOp, p float32, xs, ys []float32) {
	ys = ys[:len(xs)]
	switch op {
	case UnaryRelu:
		i := reluVec(ys, xs)
		for j, v := range xs[i:] {
			ys[i+j] = max(v, 0)
		}
	case UnarySigmoid:
		for i, v := range xs {
			ys[i] = sigmoid32(v)
		}
	case UnaryExp:
		for i, v := range xs {
			ys[i] = exp32(v)
		}
	case UnaryLog:
		for i, v := range xs {
			ys[i] = float32(math.Log(float64(v)))
		}
	case UnaryNeg:
		for i, v := range xs {
			ys[i] = -v
		}
	case UnaryAbs:
		for i, v := range xs {
			ys[i] = abs32(v)
		}
	case UnarySqrt:
		for i, v := range xs {
			ys[i] = sqrt32(v)
		}
	case UnaryRsqrt:
		for i, v := range xs {
			ys[i] = 1 / sqrt32(v+p)
		}
	case UnaryScale:
		for i, v := range xs {
			ys[i] = p * v
		}
	case UnaryAddScalar:
		for i, v := range xs {
			ys[i] = v + p
		}
	case UnarySquare:
		for i, v := range xs {
			ys[i] = v * v
		}
	case UnarySmoothL1:
		for i, v := range xs {
			ys[i] = smoothL1(v, p)
		}
	case UnaryTanh:
		for i, v := range xs {
			ys[i] = float32(math.Tanh(float64(v)))
		}
	default:
		Panicf("tensor: unknown unary op %d", op)
	}
}

// smoothL1 is MMDetection's smooth_l1_loss on a difference; beta == 0 is L1.
func smoothL1(v, beta float32) float32 {
	a := abs32(v)
	if a < beta {
		return 0.5 * a * a / beta
	}
	return a - 0.5*beta
}

// UnaryBackward implements Device.
func (d *CPU) UnaryBackward(op UnaryOp, p float32, x, y, dy, dx Buffer) {
	dys, dxs := f(dy), f(dx)
	checkLen("unary backward", len(dys), len(dxs))
	xs, ys := f(x), f(y)
	d.parallel(len(dys), elemGrain, func(lo, hi int) {
		var xr, yr []float32
		if xs != nil {
			xr = xs[lo:hi]
		}
		if ys != nil {
			yr = ys[lo:hi]
		}
		unaryBackwardRange(op, p, xr, yr, dys[lo:hi], dxs[lo:hi])
	})
}

func unaryBackwardRange(op UnaryOp, p float32, xs, ys, dys, dxs []float32) {
	switch op {
	case UnaryRelu:
		xs, dxs = xs[:len(dys)], dxs[:len(dys)]
		for i := reluGradVec(dxs, dys, xs); i < len(dys); i++ {
			dxs[i] = math.Float32frombits(math.Float32bits(dys[i]) & positiveMask(xs[i]))
		}
	case UnarySigmoid:
		for i, g := range dys {
			dxs[i] = g * ys[i] * (1 - ys[i])
		}
	case UnaryExp:
		for i, g := range dys {
			dxs[i] = g * ys[i]
		}
	case UnaryLog:
		for i, g := range dys {
			dxs[i] = g / xs[i]
		}
	case UnaryNeg:
		for i, g := range dys {
			dxs[i] = -g
		}
	case UnaryAbs:
		for i, g := range dys {
			dxs[i] = g * sign32(xs[i])
		}
	case UnarySqrt:
		for i, g := range dys {
			dxs[i] = g * 0.5 / ys[i]
		}
	case UnaryRsqrt:
		for i, g := range dys {
			dxs[i] = g * -0.5 * ys[i] * ys[i] * ys[i]
		}
	case UnaryScale:
		for i, g := range dys {
			dxs[i] = g * p
		}
	case UnaryAddScalar:
		copy(dxs, dys)
	case UnarySquare:
		for i, g := range dys {
			dxs[i] = 2 * g * xs[i]
		}
	case UnarySmoothL1:
		for i, g := range dys {
			v := xs[i]
			if abs32(v) < p {
				dxs[i] = g * v / p
			} else {
				dxs[i] = g * sign32(v)
			}
		}
	case UnaryTanh:
		for i, g := range dys {
			dxs[i] = g * (1 - ys[i]*ys[i])
		}
	default:
		Panicf("tensor: unknown unary op %d", op)
	}
}

// positiveMask is all ones when v > 0 (or v is a positive NaN) and zero
// otherwise, without a branch: ReLU's backward on real activations has
// random signs, and a branch per element mispredicts half the time.
func positiveMask(v float32) uint32 {
	m := int32(math.Float32bits(v))
	return uint32(^(m >> 31) & ((-m) >> 31))
}

func sigmoid32(v float32) float32 {
	if v >= 0 {
		return 1 / (1 + exp32(-v))
	}
	e := exp32(v)
	return e / (1 + e)
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

func sign32(v float32) float32 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func checkLen(what string, want, got int) {
	if want != got {
		Panicf("tensor: %s: length %d, want %d", what, got, want)
	}
}

// numel is the product of a shape's dimensions (1 for a scalar).
func numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}
