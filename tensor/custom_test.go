package tensor_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/detflow/detflow/tensor"
)

// rowScaleTanh is a test op outside the package: y[i,j] = tanh(a[i,j])·s[i]
// for a [R,C] and s [R], written on host slices with a hand-made backward.
func rowScaleTanh(a, s *tensor.Tensor) *tensor.Tensor {
	r, c := a.Dim(0), a.Dim(1)
	fwd := func(in [][]float32, out []float32) {
		for i := 0; i < r; i++ {
			for j := 0; j < c; j++ {
				out[i*c+j] = float32(math.Tanh(float64(in[0][i*c+j]))) * in[1][i]
			}
		}
	}
	bwd := func(dout []float32, in [][]float32, din [][]float32) {
		for i := 0; i < r; i++ {
			for j := 0; j < c; j++ {
				th := float32(math.Tanh(float64(in[0][i*c+j])))
				if din[0] != nil {
					din[0][i*c+j] += dout[i*c+j] * (1 - th*th) * in[1][i]
				}
				if din[1] != nil {
					din[1][i] += dout[i*c+j] * th
				}
			}
		}
	}
	return tensor.Custom(a.Engine(), []int{r, c}, []*tensor.Tensor{a, s}, fwd, bwd)
}

// lossOf is L = Σ (op(a, s)·w) computed in float64 on the host, the oracle
// for central differences.
func lossOf(a, s, w []float32, r, c int) float64 {
	var l float64
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			l += math.Tanh(float64(a[i*c+j])) * float64(s[i]) * float64(w[i*c+j])
		}
	}
	return l
}

func TestCustomGradientMatchesFiniteDifferences(t *testing.T) {
	const r, c = 3, 4
	rng := rand.New(rand.NewPCG(1, 2))
	rnd := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = 2*rng.Float32() - 1
		}
		return v
	}
	aData, sData, wData := rnd(r*c), rnd(r), rnd(r*c)
	tests := []struct {
		name         string
		gradA, gradS bool
	}{
		{"both inputs", true, true},
		{"first input only", true, false},
		{"second input only", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := tensor.NewEngine(tensor.NewCPU(1))
			a := e.FromData(aData, r, c).SetRequiresGrad(tc.gradA)
			s := e.FromData(sData, r).SetRequiresGrad(tc.gradS)
			w := e.FromData(wData, r, c)
			loss := tensor.Sum(tensor.Mul(rowScaleTanh(a, s), w))
			if got, want := float64(loss.Item()), lossOf(aData, sData, wData, r, c); math.Abs(got-want) > 1e-5 {
				t.Fatalf("forward: loss %g, want %g", got, want)
			}
			loss.Backward()
			check := func(name string, x *tensor.Tensor, data []float32, wantGrad bool, perturb func(i int, d float32) float64) {
				g := x.Grad()
				if !wantGrad {
					if g != nil {
						t.Errorf("%s: got a gradient for an input that needs none", name)
					}
					return
				}
				if g == nil {
					t.Fatalf("%s: no gradient", name)
				}
				got := g.Data()
				const h = 1e-3
				for i := range data {
					num := (perturb(i, h) - perturb(i, -h)) / (2 * h)
					if math.Abs(float64(got[i])-num) > 1e-3*(1+math.Abs(num)) {
						t.Errorf("%s[%d]: analytic %g, numeric %g", name, i, got[i], num)
					}
				}
			}
			check("a", a, aData, tc.gradA, func(i int, d float32) float64 {
				p := append([]float32(nil), aData...)
				p[i] += d
				return lossOf(p, sData, wData, r, c)
			})
			check("s", s, sData, tc.gradS, func(i int, d float32) float64 {
				p := append([]float32(nil), sData...)
				p[i] += d
				return lossOf(aData, p, wData, r, c)
			})
		})
	}
}

func TestCustomWithoutBackwardIsConstant(t *testing.T) {
	e := tensor.NewEngine(tensor.NewCPU(1))
	x := e.FromData([]float32{1, 2, 3}, 3).SetRequiresGrad(true)
	double := func(in [][]float32, out []float32) {
		for i, v := range in[0] {
			out[i] = 2 * v
		}
	}
	y := tensor.Custom(e, []int{3}, []*tensor.Tensor{x}, double, nil)
	if y.RequiresGrad() {
		t.Fatal("a custom op without backward requires grad")
	}
	if got := y.Data(); got[0] != 2 || got[1] != 4 || got[2] != 6 {
		t.Fatalf("forward = %v, want [2 4 6]", got)
	}
}

func TestCustomUnderNoGradRecordsNothing(t *testing.T) {
	e := tensor.NewEngine(tensor.NewCPU(1))
	a := e.FromData([]float32{0.5, -0.5}, 1, 2).SetRequiresGrad(true)
	s := e.FromData([]float32{2}, 1).SetRequiresGrad(true)
	var y *tensor.Tensor
	e.NoGrad(func() { y = rowScaleTanh(a, s) })
	if y.RequiresGrad() {
		t.Fatal("custom op recorded a graph in no-grad mode")
	}
	want := float32(math.Tanh(0.5)) * 2
	if got := y.Data(); math.Abs(float64(got[0]-want)) > 1e-6 || math.Abs(float64(got[1]+want)) > 1e-6 {
		t.Fatalf("forward = %v, want [%g %g]", got, want, -want)
	}
}
