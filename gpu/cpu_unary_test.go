package gpu

import (
	"math"
	"slices"
	"testing"
)

// CPU twins of gpu/kernels/unary.cu (the loops of tensor.CPU's elementwise
// kernels, float32 with float64 transcendentals).

func sigmoidRef(v float32) float32 {
	if v >= 0 {
		return float32(1 / (1 + math.Exp(-float64(v))))
	}
	e := math.Exp(float64(v))
	return float32(e / (1 + e))
}

func signRef(v float32) float32 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func unaryRef(op UnaryOp, p float32, y, x []float32) {
	for i, v := range x {
		var r float32
		switch op {
		case UnaryRelu:
			r = max(v, 0)
		case UnarySigmoid:
			r = sigmoidRef(v)
		case UnaryExp:
			r = float32(math.Exp(float64(v)))
		case UnaryLog:
			r = float32(math.Log(float64(v)))
		case UnaryNeg:
			r = -v
		case UnaryAbs:
			r = float32(math.Abs(float64(v)))
		case UnarySqrt:
			r = float32(math.Sqrt(float64(v)))
		case UnaryRsqrt:
			r = 1 / float32(math.Sqrt(float64(v+p)))
		case UnaryScale:
			r = p * v
		case UnaryAddScalar:
			r = v + p
		case UnarySquare:
			r = v * v
		case UnarySmoothL1:
			a := float32(math.Abs(float64(v)))
			if a < p {
				r = 0.5 * a * a / p
			} else {
				r = a - 0.5*p
			}
		case UnaryTanh:
			r = float32(math.Tanh(float64(v)))
		default:
			r = float32(math.NaN())
		}
		y[i] = r
	}
}

func unaryBwdRef(op UnaryOp, p float32, dx, x, y, dy []float32) {
	for i, g := range dy {
		var d float32
		switch op {
		case UnaryRelu:
			if x[i] > 0 {
				d = g
			}
		case UnarySigmoid:
			d = g * y[i] * (1 - y[i])
		case UnaryExp:
			d = g * y[i]
		case UnaryLog:
			d = g / x[i]
		case UnaryNeg:
			d = -g
		case UnaryAbs:
			d = g * signRef(x[i])
		case UnarySqrt:
			d = g * 0.5 / y[i]
		case UnaryRsqrt:
			d = g * -0.5 * y[i] * y[i] * y[i]
		case UnaryScale:
			d = g * p
		case UnaryAddScalar:
			d = g
		case UnarySquare:
			d = 2 * g * x[i]
		case UnarySmoothL1:
			if v := x[i]; float32(math.Abs(float64(v))) < p {
				d = g * v / p
			} else {
				d = g * signRef(v)
			}
		case UnaryTanh:
			d = g * (1 - y[i]*y[i])
		default:
			d = float32(math.NaN())
		}
		dx[i] = d
	}
}

func binaryRef(op BinaryOp, y, a, b []float32) {
	for i := range y {
		var r float32
		switch op {
		case BinaryAdd:
			r = a[i] + b[i]
		case BinarySub:
			r = a[i] - b[i]
		case BinaryMul:
			r = a[i] * b[i]
		case BinaryDiv:
			r = a[i] / b[i]
		case BinaryBCEWithLogits:
			x := a[i]
			r = max(x, 0) - x*b[i] + float32(math.Log1p(math.Exp(-math.Abs(float64(x)))))
		default:
			r = float32(math.NaN())
		}
		y[i] = r
	}
}

// binaryBwdRef writes da and db where they are non-nil.
func binaryBwdRef(op BinaryOp, da, db, a, b, dy []float32) {
	for i, g := range dy {
		var ga, gb float32
		switch op {
		case BinaryAdd:
			ga, gb = g, g
		case BinarySub:
			ga, gb = g, -g
		case BinaryMul:
			ga, gb = g*b[i], g*a[i]
		case BinaryDiv:
			ga, gb = g/b[i], -g*a[i]/(b[i]*b[i])
		case BinaryBCEWithLogits:
			ga = g * (sigmoidRef(a[i]) - b[i])
		}
		if da != nil {
			da[i] = ga
		}
		if db != nil {
			db[i] = gb
		}
	}
}

func axpbyRef(alpha float32, x []float32, beta float32, y []float32) {
	for i := range y {
		v := alpha * x[i]
		if beta != 0 {
			v += beta * y[i]
		}
		y[i] = v
	}
}

// TestUnaryBackwardMatchesFiniteDifferences checks every unary op's
// backward twin against central differences of its forward twin.
func TestUnaryBackwardMatchesFiniteDifferences(t *testing.T) {
	x := randn(20, 40)
	for i := range x {
		x[i] = 0.2 + float32(math.Abs(float64(x[i]))) // positive: log, sqrt
		if i%2 == 1 && i < 20 {
			x[i] = -x[i] // some negatives where the op allows
		}
	}
	for op := UnaryRelu; op < numUnaryOps; op++ {
		xs := slices.Clone(x)
		if op == UnaryLog || op == UnarySqrt || op == UnaryRsqrt {
			for i := range xs {
				xs[i] = float32(math.Abs(float64(xs[i])))
			}
		}
		const p = 0.5
		y, dy, dx := make([]float32, len(xs)), randn(21, len(xs)), make([]float32, len(xs))
		unaryRef(op, p, y, xs)
		unaryBwdRef(op, p, dx, xs, y, dy)
		f := func() float64 { unaryRef(op, p, y, xs); return dot(y, dy) }
		for i := range xs {
			if op == UnarySmoothL1 && math.Abs(math.Abs(float64(xs[i]))-p) < 0.02 {
				continue
			}
			num := numGrad(f, xs, i, 1e-3)
			if math.Abs(num-float64(dx[i])) > 1e-2*math.Max(1, math.Abs(num)) {
				t.Errorf("unary op %d: dx[%d] = %v, finite difference %v", op, i, dx[i], num)
			}
		}
	}
}

func TestBinaryBackwardMatchesFiniteDifferences(t *testing.T) {
	a, b := randn(22, 30), randn(23, 30)
	for i := range b {
		b[i] = 0.5 + float32(math.Abs(float64(b[i]))) // no division by ~0
	}
	for op := BinaryAdd; op < numBinaryOps; op++ {
		bs := slices.Clone(b)
		if op == BinaryBCEWithLogits {
			for i := range bs {
				bs[i] = float32(i%3) / 2 // targets in [0, 1]
			}
		}
		y, dy := make([]float32, len(a)), randn(24, len(a))
		da, db := make([]float32, len(a)), make([]float32, len(a))
		binaryBwdRef(op, da, db, a, bs, dy)
		f := func() float64 { binaryRef(op, y, a, bs); return dot(y, dy) }
		for i := range a {
			if num := numGrad(f, a, i, 1e-3); math.Abs(num-float64(da[i])) > 1e-2*math.Max(1, math.Abs(num)) {
				t.Errorf("binary op %d: da[%d] = %v, finite difference %v", op, i, da[i], num)
			}
			if op == BinaryBCEWithLogits {
				continue
			}
			if num := numGrad(f, bs, i, 1e-3); math.Abs(num-float64(db[i])) > 1e-2*math.Max(1, math.Abs(num)) {
				t.Errorf("binary op %d: db[%d] = %v, finite difference %v", op, i, db[i], num)
			}
		}
	}
}
