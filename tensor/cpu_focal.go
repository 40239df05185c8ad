package tensor

import "math"

// focalGrain is the smallest number of rows worth a goroutine.
const focalGrain = 256

// SigmoidFocalLoss implements FocalLossDevice.
func (d *CPU) SigmoidFocalLoss(logits Buffer, labels IndexBuffer, n, k int, gamma, alpha float32, loss, grad Buffer) {
	xs, lab, ls, gs := f(logits), CPUIndexData(labels), f(loss), f(grad)
	checkLen("focal loss logits", n*k, len(xs))
	checkLen("focal loss labels", n, len(lab))
	checkLen("focal loss loss", n, len(ls))
	checkLen("focal loss grad", n*k, len(gs))
	d.parallel(n, focalGrain, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			x, g := xs[i*k:(i+1)*k], gs[i*k:(i+1)*k]
			t := lab[i]
			if t < 0 {
				ls[i] = 0
				clear(g)
				continue
			}
			var s float64
			for j, v := range x {
				l, dl := focalElem(float64(v), int(t) == j, float64(gamma), float64(alpha))
				s += l
				g[j] = float32(dl)
			}
			ls[i] = float32(s)
		}
	})
}

// focalElem returns one element's focal loss and its derivative in the
// logit x. With p = sigmoid(x), for target 1: loss −α(1−p)^γ·log p and
// derivative α(1−p)^γ·(γ·p·log p − (1−p)); for target 0 the same with p
// and 1−p swapped, α replaced by 1−α and the sign of x flipped. log p and
// log(1−p) come from one exp and one log1p, so saturated logits stay finite.
func focalElem(x float64, pos bool, gamma, alpha float64) (loss, dloss float64) {
	w := 1.0
	if alpha >= 0 {
		w = 1 - alpha
		if pos {
			w = alpha
		}
	}
	if !pos {
		x = -x // the target-0 terms are the target-1 terms at −x
	}
	// q = sigmoid(x), logQ = log q, log1mQ = log(1−q)
	e := math.Exp(-math.Abs(x))
	sp := math.Log1p(e)
	logQ, log1mQ := -sp, -x-sp
	if x < 0 {
		logQ, log1mQ = x-sp, -sp
	}
	q := math.Exp(logQ)
	m := math.Exp(log1mQ)
	mg := m * m // gamma 2, RetinaNet's, without math.Pow's cost
	if gamma != 2 {
		mg = math.Pow(m, gamma)
	}
	loss = -w * mg * logQ
	dloss = w * mg * (gamma*q*logQ - m)
	if !pos {
		dloss = -dloss
	}
	return loss, dloss
}
