package tensor_test

import (
	"slices"
	"testing"

	"github.com/detflow/detflow/tensor"
)

// TestReluInPlaceMatchesRelu: the same values and gradients as Relu,
// through a batch norm and an addition (the producers it follows in a
// ResNet).
func TestReluInPlaceMatchesRelu(t *testing.T) {
	run := func(relu func(*tensor.Tensor) *tensor.Tensor) (out, dx, dw []float32) {
		e := tensor.NewEngine(tensor.NewCPU(1))
		x := e.FromData([]float32{-2, -0.5, 0, 0.25, 1, 3, -1, 2}, 1, 2, 2, 2).SetRequiresGrad(true)
		w := e.FromData([]float32{0.5, -1.5}, 2).SetRequiresGrad(true)
		mean, variance := e.FromData([]float32{0.1, -0.2}, 2), e.FromData([]float32{1, 4}, 2)
		bn := tensor.BatchNorm(x, w, nil, mean, variance, tensor.BatchNormOptions{Eps: 1e-5})
		y := relu(tensor.Add(relu(bn), x))
		tensor.Sum(tensor.Mul(y, y)).Backward()
		return y.Data(), x.Grad().Data(), w.Grad().Data()
	}
	wantY, wantDX, wantDW := run(tensor.Relu)
	gotY, gotDX, gotDW := run(tensor.ReluInPlace)
	if !slices.Equal(gotY, wantY) || !slices.Equal(gotDX, wantDX) || !slices.Equal(gotDW, wantDW) {
		t.Errorf("in place: y %v dx %v dw %v; Relu: y %v dx %v dw %v", gotY, gotDX, gotDW, wantY, wantDX, wantDW)
	}
}

func TestReluInPlaceFreesWithItsResult(t *testing.T) {
	e := tensor.NewEngine(tensor.NewCPU(1))
	e.NoGrad(func() {
		x := tensor.Add(e.FromData([]float32{-1, 2}, 2), e.FromData([]float32{0, 0}, 2))
		y := tensor.ReluInPlace(x)
		if got := y.Data(); !slices.Equal(got, []float32{0, 2}) {
			t.Fatalf("relu in place = %v", got)
		}
		before, _ := e.PoolStats()
		e.Free(y)
		if after, _ := e.PoolStats(); after != before+1 {
			t.Errorf("freeing the in-place result returned %d buffers, want its one", after-before)
		}
	})
}

func TestReluInPlaceRefusesViewsAndParameters(t *testing.T) {
	e := tensor.NewEngine(tensor.NewCPU(1))
	cases := map[string]func() *tensor.Tensor{
		"view":      func() *tensor.Tensor { return tensor.Reshape(tensor.Add(e.Zeros(4), e.Zeros(4)), 2, 2) },
		"parameter": func() *tensor.Tensor { return e.NewPersistent(3) },
		"leaf":      func() *tensor.Tensor { return e.Zeros(3).SetRequiresGrad(true) },
	}
	for name, mk := range cases {
		func() {
			defer func() {
				if r := recover(); !isInputError(r, "tensor: ReluInPlace") {
					t.Errorf("%s: recovered %v, want a ReluInPlace panic", name, r)
				}
			}()
			tensor.ReluInPlace(mk())
		}()
	}
}
