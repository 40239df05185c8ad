package gpu

import (
	"math"
	"testing"
)

// CPU twin of gpu/kernels/focal.cu.

// focalElemRef is focal_elem written plainly in float64: with s = ±1 for
// target 1 or 0, pt = sigmoid(s·x), loss −αt·(1−pt)^γ·log pt and derivative
// αt·s·(1−pt)^γ·(γ·pt·log pt − (1−pt)). Unlike the kernel (and tensor's
// CPU op) it takes the logarithm of the probability, which is exact enough
// in float64 for the tests' logits (|x| < 700).
func focalElemRef(x float64, pos bool, gamma, alpha float64) (loss, dloss float64) {
	s, at := 1.0, 1.0
	if !pos {
		s = -1
	}
	if alpha >= 0 {
		at = (1+s)/2*alpha + (1-s)/2*(1-alpha)
	}
	pt := 1 / (1 + math.Exp(-s*x))
	w := at * math.Pow(1-pt, gamma)
	return -w * math.Log(pt), s * w * (gamma*pt*math.Log(pt) - (1 - pt))
}

// focalFwdRef mirrors sigmoid_focal_fwd_f32.
func focalFwdRef(loss, logits []float32, labels []int32, n, k int, gamma, alpha float32) {
	for i := 0; i < n; i++ {
		var s float64
		for j := 0; j < k && labels[i] >= 0; j++ {
			l, _ := focalElemRef(float64(logits[i*k+j]), int(labels[i]) == j, float64(gamma), float64(alpha))
			s += l
		}
		loss[i] = float32(s)
	}
}

// focalBwdRef mirrors sigmoid_focal_bwd_f32.
func focalBwdRef(dlogits, logits []float32, labels []int32, dloss []float32, n, k int, gamma, alpha float32) {
	for i := 0; i < n; i++ {
		for j := 0; j < k; j++ {
			var g float64
			if labels[i] >= 0 {
				_, d := focalElemRef(float64(logits[i*k+j]), int(labels[i]) == j, float64(gamma), float64(alpha))
				g = float64(dloss[i]) * d
			}
			dlogits[i*k+j] = float32(g)
		}
	}
}

// focalLabels gives rows of every kind: positives of each class,
// background (k) and ignored (-1).
func focalLabels(n, k int) []int32 {
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = int32(i*7%(k+2)) - 1
	}
	return labels
}

// TestFocalTwinMatchesTorchvisionFormula checks the twin's log-sigmoid
// rewriting against torchvision's sigmoid_focal_loss written out plainly.
func TestFocalTwinMatchesTorchvisionFormula(t *testing.T) {
	const n, k = 11, 5
	logits := randn(21, n*k)
	for i := range logits {
		logits[i] *= 5
	}
	labels := focalLabels(n, k)
	for _, c := range []struct{ gamma, alpha float32 }{{2, 0.25}, {0, -1}, {1.5, 0.7}} {
		got := make([]float32, n)
		focalFwdRef(got, logits, labels, n, k, c.gamma, c.alpha)
		want := make([]float32, n)
		for i := 0; i < n; i++ {
			for j := 0; j < k && labels[i] >= 0; j++ {
				x, tgt := float64(logits[i*k+j]), 0.0
				if int(labels[i]) == j {
					tgt = 1
				}
				p := 1 / (1 + math.Exp(-x))
				ce := -tgt*math.Log(p) - (1-tgt)*math.Log(1-p)
				pt := p*tgt + (1-p)*(1-tgt)
				l := ce * math.Pow(1-pt, float64(c.gamma))
				if c.alpha >= 0 {
					l *= float64(c.alpha)*tgt + (1-float64(c.alpha))*(1-tgt)
				}
				want[i] += float32(l)
			}
		}
		checkClose(t, "focal loss", got, want, 1e-6, 1e-5)
	}
}

func TestFocalTwinGradient(t *testing.T) {
	const n, k = 7, 4
	logits := randn(22, n*k)
	labels := focalLabels(n, k)
	dloss := randn(23, n)
	for _, c := range []struct{ gamma, alpha float32 }{{2, 0.25}, {0, 0.5}, {1.5, -1}} {
		loss := make([]float32, n)
		f := func() float64 {
			focalFwdRef(loss, logits, labels, n, k, c.gamma, c.alpha)
			return dot(loss, dloss)
		}
		dl := make([]float32, n*k)
		focalBwdRef(dl, logits, labels, dloss, n, k, c.gamma, c.alpha)
		for i := range logits {
			if num := numGrad(f, logits, i, 1e-2); math.Abs(num-float64(dl[i])) > 2e-3 {
				t.Errorf("gamma %g alpha %g: dlogits[%d] = %v, finite difference %v", c.gamma, c.alpha, i, dl[i], num)
			}
		}
	}
}
