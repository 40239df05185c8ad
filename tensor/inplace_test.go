package tensor_test

import (
	"slices"
	"testing"

	"github.com/detflow/detflow/tensor"
)

// inPlaceNet is a ResNet block's shape: conv, frozen or trainable batch
// norm, ReLU, a second conv and norm, the residual addition and ReLU, a
// Reshape view and a loss. inPlace picks the in-place ops; freeGraph sets
// SetFreeGraph. It returns the output, the loss and the gradients of x and
// the trainable weights, read before Backward where they are graph tensors.
func inPlaceNet(t *testing.T, inPlace, freeGraph, trainBN bool) (out []float32, loss float32, grads [][]float32) {
	t.Helper()
	e := tensor.NewEngine(tensor.NewCPU(1))
	e.SetFreeGraph(freeGraph)
	data := func(n int, s float32) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = s * float32((i*37)%11-5)
		}
		return v
	}
	x := e.FromData(data(2*2*4*4, 0.1), 2, 2, 4, 4).SetRequiresGrad(true)
	w1 := e.FromData(data(2*2*3*3, 0.07), 2, 2, 3, 3).SetRequiresGrad(true)
	w2 := e.FromData(data(2*2*1*1, 0.3), 2, 2, 1, 1).SetRequiresGrad(true)
	gamma := e.FromData([]float32{0.9, 1.1}, 2).SetRequiresGrad(trainBN)
	beta := e.FromData([]float32{0.1, -0.1}, 2).SetRequiresGrad(trainBN)
	mean, variance := e.FromData([]float32{0.05, -0.05}, 2), e.FromData([]float32{1, 2}, 2)
	bnOpt := tensor.BatchNormOptions{Eps: 1e-5, InPlace: inPlace}
	relu, add := tensor.Relu, tensor.Add
	if inPlace {
		relu, add = tensor.ReluInPlace, tensor.AddInPlace
	}
	conv := tensor.ConvOptions{Stride: [2]int{1, 1}, Padding: [2]int{1, 1}, Dilation: [2]int{1, 1}}
	y := relu(tensor.BatchNorm(tensor.Conv2d(x, w1, nil, conv), gamma, beta, mean, variance, bnOpt))
	conv.Padding = [2]int{0, 0}
	y = tensor.BatchNorm(tensor.Conv2d(y, w2, nil, conv), gamma, beta, mean, variance, bnOpt)
	y = relu(add(y, x))
	flat := tensor.Reshape(y, 2, -1)
	l := tensor.Sum(tensor.Mul(flat, flat))
	out, loss = y.Data(), l.Item()
	l.Backward()
	for _, p := range []*tensor.Tensor{x, w1, w2, gamma, beta} {
		if p.RequiresGrad() {
			grads = append(grads, p.Grad().Data())
		}
	}
	return out, loss, grads
}

// TestInPlaceOpsAndFreeGraph: ChannelAffineInPlace (through batch norm),
// AddInPlace and SetFreeGraph give the out-of-place values and gradients
// bit for bit, with trainable and frozen batch-norm weights.
func TestInPlaceOpsAndFreeGraph(t *testing.T) {
	for _, trainBN := range []bool{false, true} {
		wantOut, wantLoss, wantGrads := inPlaceNet(t, false, false, trainBN)
		for _, c := range []struct{ inPlace, free bool }{{true, false}, {false, true}, {true, true}} {
			out, loss, grads := inPlaceNet(t, c.inPlace, c.free, trainBN)
			if !slices.Equal(out, wantOut) || loss != wantLoss || len(grads) != len(wantGrads) {
				t.Fatalf("trainable BN %v, in place %v, free graph %v: out %v loss %v, want %v %v", trainBN, c.inPlace, c.free, out, loss, wantOut, wantLoss)
			}
			for i := range grads {
				if !slices.Equal(grads[i], wantGrads[i]) {
					t.Errorf("trainable BN %v, in place %v, free graph %v: gradient %d = %v, want %v", trainBN, c.inPlace, c.free, i, grads[i], wantGrads[i])
				}
			}
		}
	}
}

// TestFreeGraphHandsBackActivations: with SetFreeGraph the intermediates
// go back to the pool during Backward (before Release) and a graph tensor
// read afterwards panics with a clear message; without it they stay.
func TestFreeGraphHandsBackActivations(t *testing.T) {
	for _, free := range []bool{false, true} {
		e := tensor.NewEngine(tensor.NewCPU(1))
		e.SetFreeGraph(free)
		x := e.FromData([]float32{1, -2, 3, -4}, 4).SetRequiresGrad(true)
		h := tensor.Exp(tensor.Mul(x, x))
		loss := tensor.Sum(tensor.Relu(h))
		before, _ := e.PoolStats()
		loss.Backward()
		after, _ := e.PoolStats()
		// Pooled after backward: the gradients either way, plus the
		// four intermediates (x·x, exp, relu, sum) when freeing.
		if freed := after - before; free != (freed >= 4) {
			t.Errorf("free graph %v: %d buffers pooled by Backward", free, freed)
		}
		func() {
			defer func() {
				r := recover()
				if free != (r != nil) || (r != nil && !isInputError(r, "tensor: Data of a freed tensor")) {
					t.Errorf("free graph %v: reading h after Backward recovered %v", free, r)
				}
			}()
			h.Data()
		}()
		if g := x.Grad().Data(); g[0] == 0 {
			t.Errorf("free graph %v: gradient %v", free, g)
		}
	}
}

func TestAddInPlaceRefusesMismatch(t *testing.T) {
	e := tensor.NewEngine(tensor.NewCPU(1))
	a := tensor.Add(e.Zeros(4), e.Zeros(4))
	for name, b := range map[string]*tensor.Tensor{"other shape": e.Zeros(2), "itself": a} {
		func() {
			defer func() {
				if r := recover(); !isInputError(r, "tensor: AddInPlace") {
					t.Errorf("%s: recovered %v, want an AddInPlace panic", name, r)
				}
			}()
			tensor.AddInPlace(a, b)
		}()
	}
}
