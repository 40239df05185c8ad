package gpu

import (
	"math"
	"testing"
)

// CPU twin of gpu/kernels/softmax_ce.cu.

// softmaxCEFwdRef mirrors softmax_ce_fwd_f32 in float64; weight may be nil.
func softmaxCEFwdRef(loss, prob, logits []float32, labels []int32, weight []float32, n, k, ignore int) {
	for i := 0; i < n; i++ {
		l := logits[i*k : (i+1)*k]
		m := float64(l[0])
		for _, v := range l[1:] {
			m = math.Max(m, float64(v))
		}
		var s float64
		for _, v := range l {
			s += math.Exp(float64(v) - m)
		}
		for j, v := range l {
			prob[i*k+j] = float32(math.Exp(float64(v)-m) / s)
		}
		lbl := int(labels[i])
		switch {
		case lbl == ignore:
			loss[i] = 0
		case lbl < 0 || lbl >= k:
			loss[i] = float32(math.NaN())
		default:
			v := m + math.Log(s) - float64(l[lbl])
			if weight != nil {
				v *= float64(weight[i])
			}
			loss[i] = float32(v)
		}
	}
}

func softmaxCEBwdRef(dlogits, prob []float32, labels []int32, weight []float32, n, k, ignore int, scale float32) {
	for i := 0; i < n; i++ {
		lbl := int(labels[i])
		w := float32(1)
		if weight != nil {
			w = weight[i]
		}
		for j := 0; j < k; j++ {
			var g float32
			if lbl != ignore {
				one := float32(0)
				if j == lbl {
					one = 1
				}
				g = scale * w * (prob[i*k+j] - one)
			}
			dlogits[i*k+j] = g
		}
	}
}

func TestSoftmaxCEGradient(t *testing.T) {
	const n, k = 6, 5
	logits := randn(6, n*k)
	labels := []int32{0, 4, -100, 2, 1, 3}
	weight := []float32{1, 0.5, 1, 2, 1, 0}
	loss, prob := make([]float32, n), make([]float32, n*k)
	f := func() float64 {
		softmaxCEFwdRef(loss, prob, logits, labels, weight, n, k, -100)
		var s float64
		for _, v := range loss {
			s += float64(v)
		}
		return s
	}
	f()
	dl := make([]float32, n*k)
	softmaxCEBwdRef(dl, prob, labels, weight, n, k, -100, 1)
	for i := range logits {
		if num := numGrad(f, logits, i, 1e-2); math.Abs(num-float64(dl[i])) > 2e-3 {
			t.Errorf("dlogits[%d] = %v, finite difference %v", i, dl[i], num)
		}
	}
	if loss[2] != 0 {
		t.Errorf("ignored row has loss %v", loss[2])
	}
}
