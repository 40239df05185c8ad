package gpu

import "math"

// CPU twins of gpu/kernels/elementwise.cu and reduce.cu: the obvious loops.

func addRef(out, a, b []float32) {
	for i := range out {
		out[i] = a[i] + b[i]
	}
}

func mulRef(out, a, b []float32) {
	for i := range out {
		out[i] = a[i] * b[i]
	}
}

func axpyRef(y, x []float32, alpha float32) {
	for i := range y {
		y[i] += alpha * x[i]
	}
}

func scaleRef(out, x []float32, alpha float32) {
	for i := range out {
		out[i] = alpha * x[i]
	}
}

func reluFwdRef(out, x []float32) {
	for i, v := range x {
		if v > 0 {
			out[i] = v
		} else {
			out[i] = 0
		}
	}
}

func reluBwdRef(dx, dy, y []float32) {
	for i := range dx {
		if y[i] > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

func fillRef(out []float32, v float32) {
	for i := range out {
		out[i] = v
	}
}

// sumRef and sumSqRef accumulate in float64, a tighter oracle than the
// float32 tree the kernel uses.
func sumRef(x []float32) float32 {
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	return float32(s)
}

func sumSqRef(x []float32) float32 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return float32(s)
}

// sgdMomentumRef is torch.optim.SGD's step with dampening 0.
func sgdMomentumRef(param, buf, grad []float32, lr, momentum, wd float32, first bool) {
	for i := range param {
		g := grad[i] + wd*param[i]
		b := g
		if !first {
			b = momentum*buf[i] + g
		}
		buf[i] = b
		param[i] -= lr * b
	}
}

// smoothL1FwdRef is the unreduced, weighted smooth-L1 loss (weight may be nil).
func smoothL1FwdRef(loss, pred, target, weight []float32, beta float32) {
	for i := range loss {
		d := pred[i] - target[i]
		ad := float32(math.Abs(float64(d)))
		var l float32
		if ad < beta {
			l = 0.5 * d * d / beta
		} else {
			l = ad - 0.5*beta
		}
		if weight != nil {
			l *= weight[i]
		}
		loss[i] = l
	}
}

func smoothL1BwdRef(dpred, pred, target, weight []float32, beta, scale float32) {
	for i := range dpred {
		d := pred[i] - target[i]
		ad := float32(math.Abs(float64(d)))
		var g float32
		switch {
		case ad < beta:
			g = d / beta
		case d > 0:
			g = 1
		case d < 0:
			g = -1
		}
		if weight != nil {
			g *= weight[i]
		}
		dpred[i] = scale * g
	}
}

// upsampleFwdRef and upsampleBwdRef are nearest upsampling by s over NC
// planes of H×W; the backward sums each s×s block row by row.
func upsampleFwdRef(y, x []float32, nc, h, w, s int) {
	oh, ow := s*h, s*w
	for p := 0; p < nc; p++ {
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				y[(p*oh+i)*ow+j] = x[(p*h+i/s)*w+j/s]
			}
		}
	}
}

func upsampleBwdRef(dx, dy []float32, nc, h, w, s int) {
	ow := s * w
	for p := 0; p < nc; p++ {
		for i := 0; i < h; i++ {
			for j := 0; j < w; j++ {
				var sum float32
				for a := 0; a < s; a++ {
					for b := 0; b < s; b++ {
						sum += dy[(p*s*h+s*i+a)*ow+s*j+b]
					}
				}
				dx[(p*h+i)*w+j] = sum
			}
		}
	}
}
