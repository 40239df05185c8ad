package gpu

import "math"

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

// channelMeanVarRef mirrors tensor.CPU.ChannelMeanVar (float64, two passes).
func channelMeanVarRef(mean, variance, x []float32, n, c, hw int) {
	for ch := 0; ch < c; ch++ {
		var s float64
		for i := 0; i < n; i++ {
			for _, v := range x[(i*c+ch)*hw : (i*c+ch+1)*hw] {
				s += float64(v)
			}
		}
		m := s / float64(n*hw)
		var q float64
		for i := 0; i < n; i++ {
			for _, v := range x[(i*c+ch)*hw : (i*c+ch+1)*hw] {
				q += (float64(v) - m) * (float64(v) - m)
			}
		}
		mean[ch], variance[ch] = float32(m), float32(q/float64(n*hw))
	}
}

func channelAffineRef(y, x, scale, shift []float32, n, c, hw int) {
	for i := range y[:n*c*hw] {
		ch := (i / hw) % c
		a, b := float32(1), float32(0)
		if scale != nil {
			a = scale[ch]
		}
		if shift != nil {
			b = shift[ch]
		}
		y[i] = x[i]*a + b
	}
}

func channelAffineBwdRef(dx, dscale, dshift, x, dy, scale []float32, n, c, hw int) {
	for ch := 0; ch < c; ch++ {
		a := float32(1)
		if scale != nil {
			a = scale[ch]
		}
		var sdy, sdyx float64
		for i := 0; i < n; i++ {
			for j := (i*c + ch) * hw; j < (i*c+ch+1)*hw; j++ {
				sdy += float64(dy[j])
				if dscale != nil {
					sdyx += float64(dy[j]) * float64(x[j])
				}
				if dx != nil {
					dx[j] = dy[j] * a
				}
			}
		}
		if dscale != nil {
			dscale[ch] = float32(sdyx)
		}
		if dshift != nil {
			dshift[ch] = float32(sdy)
		}
	}
}
