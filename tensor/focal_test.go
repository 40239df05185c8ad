package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refFocal is the obvious per-element oracle of torchvision's
// sigmoid_focal_loss, summed per row, in float64.
func refFocal(x []float32, labels []int32, k int, gamma, alpha float64) []float64 {
	out := make([]float64, len(labels))
	for i, l := range labels {
		if l < 0 {
			continue
		}
		for j := 0; j < k; j++ {
			v := float64(x[i*k+j])
			t := 0.0
			if int(l) == j {
				t = 1
			}
			p := 1 / (1 + math.Exp(-v))
			ce := math.Max(v, 0) - v*t + math.Log1p(math.Exp(-math.Abs(v)))
			pt := p*t + (1-p)*(1-t)
			loss := ce * math.Pow(1-pt, gamma)
			if alpha >= 0 {
				loss *= alpha*t + (1-alpha)*(1-t)
			}
			out[i] += loss
		}
	}
	return out
}

func focalLabels(rng *rand.Rand, n, k int) []int32 {
	l := make([]int32, n)
	for i := range l {
		l[i] = int32(rng.IntN(k+2)) - 1 // -1 ignored, k background
	}
	return l
}

func TestSigmoidFocalLossMatchesOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, k = 37, 5
	x := randInput(rng, -12, 12, n, k).data
	labels := focalLabels(rng, n, k)
	e := NewEngine(NewCPU(0))
	for _, c := range []struct{ gamma, alpha float64 }{{2, 0.25}, {0, 0.25}, {1.5, -1}, {0.5, 0.75}} {
		got := SigmoidFocalLoss(e.FromData(x, n, k), e.NewIndex(labels, n), float32(c.gamma), float32(c.alpha)).Data()
		want := refFocal(x, labels, k, c.gamma, c.alpha)
		for i := range want {
			if !close64(float64(got[i]), want[i], 1e-6, 1e-5) {
				t.Fatalf("gamma %g alpha %g row %d: got %g, want %g", c.gamma, c.alpha, i, got[i], want[i])
			}
		}
	}
}

func TestGradSigmoidFocalLoss(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n, k = 9, 4
	for _, c := range []struct{ gamma, alpha float32 }{{2, 0.25}, {0, -1}, {1.5, 0.6}} {
		e := NewEngine(NewCPU(0))
		labels := e.NewIndex(focalLabels(rng, n, k), n)
		gradCheck(t, func(xs []*Tensor) *Tensor {
			return SigmoidFocalLoss(xs[0], labels, c.gamma, c.alpha)
		}, randInput(rng, -4, 4, n, k))
	}
}

func TestSigmoidFocalLossSaturatedLogitsStayFinite(t *testing.T) {
	e := NewEngine(NewCPU(0))
	x := e.FromData([]float32{-200, 200, 90, -90}, 2, 2).SetRequiresGrad(true)
	l := SigmoidFocalLoss(x, e.NewIndex([]int32{0, 2}, 2), 2, 0.25)
	Sum(l).Backward()
	for _, v := range append(l.Data(), x.Grad().Data()...) {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("non-finite value %v in loss %v grad %v", v, l.Data(), x.Grad().Data())
		}
	}
}

func TestTorchSigmoidFocalLoss(t *testing.T) {
	forCases(t, "sigmoid_focal_loss", func(c fixtureCase) {
		var gamma, alpha float32
		c.param("gamma", &gamma)
		c.param("alpha", &alpha)
		x := c.leaf("x")
		labels := make([]int32, x.Dim(0))
		for i, v := range c.data("labels") {
			labels[i] = int32(v)
		}
		out := SigmoidFocalLoss(x, c.e.NewIndex(labels, len(labels)), gamma, alpha)
		c.expect("out", out, "out")
		c.backwardR(out)
		c.expect("d_x", x.Grad(), "d_x")
	})
}

// TestFocalElemLossIsFocalElemsLoss: the forward pass's loss-only
// element gives focalElem's loss to the bit, across saturated and small
// logits, both targets, RetinaNet's gamma and another, with and without
// alpha.
func TestFocalElemLossIsFocalElemsLoss(t *testing.T) {
	xs := []float64{-800, -40, -17.3, -1, -1e-3, 0, 1e-7, 0.3, 2.5, 33, 900}
	for i := range 200 {
		xs = append(xs, float64(i-100)*0.137)
	}
	for _, x := range xs {
		for _, pos := range []bool{false, true} {
			for _, gamma := range []float64{2, 1.5, 0} {
				for _, alpha := range []float64{0.25, -1} {
					want, _ := focalElem(x, pos, gamma, alpha)
					if got := focalElemLoss(x, pos, gamma, alpha); math.Float64bits(got) != math.Float64bits(want) {
						t.Fatalf("x=%g pos=%v gamma=%g alpha=%g: %v, focalElem %v", x, pos, gamma, alpha, got, want)
					}
				}
			}
		}
	}
}
