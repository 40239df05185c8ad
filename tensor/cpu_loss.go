package tensor

import (
	"math"
)

// SoftmaxCrossEntropy implements Device.
func (d *CPU) SoftmaxCrossEntropy(logits Buffer, labels IndexBuffer, n, k int, ignoreIndex int32, loss, prob Buffer) {
	xs, ls, ps, lab := f(logits), f(loss), f(prob), CPUIndexData(labels)
	checkLen("cross entropy logits", n*k, len(xs))
	checkLen("cross entropy labels", n, len(lab))
	for i := 0; i < n; i++ {
		p := ps[i*k : (i+1)*k]
		softmaxRow(xs[i*k:(i+1)*k], p)
		t := lab[i]
		switch {
		case t == ignoreIndex:
			ls[i] = 0
		case t < 0 || int(t) >= k:
			Panicf("tensor: cross entropy label %d outside [0,%d)", t, k)
		default:
			ls[i] = -logSoftmaxAt(xs[i*k:(i+1)*k], int(t))
		}
	}
}

// logSoftmaxAt is x[t] − logsumexp(x), computed directly so a tiny
// probability does not underflow to log(0).
func logSoftmaxAt(x []float32, t int) float32 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, float64(v))
	}
	var s float64
	for _, v := range x {
		s += math.Exp(float64(v) - m)
	}
	return float32(float64(x[t]) - m - math.Log(s))
}

// SoftmaxCrossEntropyBackward implements Device.
func (d *CPU) SoftmaxCrossEntropyBackward(prob Buffer, labels IndexBuffer, dloss Buffer, n, k int, ignoreIndex int32, dlogits Buffer) {
	ps, gs, dxs, lab := f(prob), f(dloss), f(dlogits), CPUIndexData(labels)
	for i := 0; i < n; i++ {
		dr := dxs[i*k : (i+1)*k]
		t := lab[i]
		if t == ignoreIndex {
			clear(dr)
			continue
		}
		g := gs[i]
		for j, p := range ps[i*k : (i+1)*k] {
			dr[j] = g * p
		}
		dr[t] -= g
	}
}
