package tensor

import "math"

// focalGrain is the smallest number of rows worth a goroutine.
const focalGrain = 256

// SigmoidFocalLoss implements Device.
func (d *CPU) SigmoidFocalLoss(logits Buffer, labels IndexBuffer, n, k int, gamma, alpha float32, loss Buffer) {
	xs, lab, ls := f(logits), CPUIndexData(labels), f(loss)
	checkLen("focal loss logits", n*k, len(xs))
	checkLen("focal loss labels", n, len(lab))
	checkLen("focal loss loss", n, len(ls))
	d.parallel(n, focalGrain, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			ls[i] = 0
			if lab[i] < 0 {
				continue
			}
			var s float64
			for j, v := range xs[i*k : (i+1)*k] {
				s += focalElemLoss(float64(v), int(lab[i]) == j, float64(gamma), float64(alpha))
			}
			ls[i] = float32(s)
		}
	})
}

// SigmoidFocalLossBackward implements Device.
func (d *CPU) SigmoidFocalLossBackward(logits Buffer, labels IndexBuffer, dloss Buffer, n, k int, gamma, alpha float32, dlogits Buffer) {
	xs, lab, dy, gs := f(logits), CPUIndexData(labels), f(dloss), f(dlogits)
	checkLen("focal loss backward logits", n*k, len(xs))
	checkLen("focal loss backward labels", n, len(lab))
	checkLen("focal loss backward dloss", n, len(dy))
	checkLen("focal loss backward dlogits", n*k, len(gs))
	d.parallel(n, focalGrain, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			g := gs[i*k : (i+1)*k]
			if lab[i] < 0 {
				clear(g)
				continue
			}
			for j, v := range xs[i*k : (i+1)*k] {
				_, dl := focalElem(float64(v), int(lab[i]) == j, float64(gamma), float64(alpha))
				g[j] = float32(float64(dy[i]) * dl)
			}
		}
	})
}

// focalElem returns one element's focal loss and its derivative in the
// logit x. With p = sigmoid(x), for target 1: loss −α(1−p)^γ·log p and
// derivative α(1−p)^γ·(γ·p·log p − (1−p)); for target 0 the same with p
// and 1−p swapped, α replaced by 1−α and the sign of x flipped. log p and
// log(1−p) come from one exp and one log1p, so saturated logits stay finite.
func focalElem(x float64, pos bool, gamma, alpha float64) (loss, dloss float64) {
	w, logQ, m, mg := focalTerms(x, pos, gamma, alpha)
	q := math.Exp(logQ)
	loss = -w * mg * logQ
	dloss = w * mg * (gamma*q*logQ - m)
	if !pos {
		dloss = -dloss
	}
	return loss, dloss
}

// focalElemLoss is focalElem's loss alone, to the bit: the forward pass
// skips the exp that only the derivative needs (one of its three exps and
// a log1p, over RetinaNet's 16M logits).
func focalElemLoss(x float64, pos bool, gamma, alpha float64) float64 {
	w, logQ, _, mg := focalTerms(x, pos, gamma, alpha)
	return -w * mg * logQ
}

// focalTerms returns focalElem's shared terms: the weight w, log q and
// m = 1−q with q = sigmoid(x) (x negated for target 0), and m^γ.
func focalTerms(x float64, pos bool, gamma, alpha float64) (w, logQ, m, mg float64) {
	w = 1.0
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
	m = math.Exp(log1mQ)
	mg = m * m // gamma 2, RetinaNet's, without math.Pow's cost
	if gamma != 2 {
		mg = math.Pow(m, gamma)
	}
	return w, logQ, m, mg
}
