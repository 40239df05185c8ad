package tensor_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/detflow/detflow/tensor"
	"github.com/detflow/detflow/tensor/tensortest"
)

// tanhScale is a test op outside the package written on device buffers:
// y = tanh(a)·s elementwise, with a hand-made backward that adds into the
// gradients it is given. It fails the test when a gradient buffer does not
// arrive zeroed or when forward gets copies instead of the inputs' buffers.
func tanhScale(t *testing.T, a, s *tensor.Tensor) *tensor.Tensor {
	e := a.Engine()
	dev := e.Device()
	n := a.Len()
	fwd := func(in []tensor.Buffer, out tensor.Buffer) {
		if in[0] != a.Buffer() || in[1] != s.Buffer() {
			t.Error("forward got buffers other than the inputs' own")
		}
		dev.Unary(tensor.UnaryTanh, 0, in[0], out)
		dev.Binary(tensor.BinaryMul, out, in[1], out)
	}
	bwd := func(dout tensor.Buffer, in []tensor.Buffer, din []tensor.Buffer) {
		for i, d := range din {
			if d == nil {
				continue
			}
			host := make([]float32, d.Len())
			dev.Download(host, d)
			for _, v := range host {
				if v != 0 {
					t.Errorf("gradient of input %d did not arrive zeroed", i)
					break
				}
			}
		}
		th := e.Empty(n).Buffer()
		dev.Unary(tensor.UnaryTanh, 0, in[0], th)
		tmp, g := e.Empty(n).Buffer(), e.Empty(n).Buffer()
		if din[0] != nil {
			// d/da = dout·s·(1 − tanh²a)
			dev.Binary(tensor.BinaryMul, dout, in[1], tmp)
			dev.UnaryBackward(tensor.UnaryTanh, 0, in[0], th, tmp, g)
			dev.Axpby(1, g, 1, din[0])
		}
		if din[1] != nil {
			// d/ds = dout·tanh a
			dev.Binary(tensor.BinaryMul, dout, th, g)
			dev.Axpby(1, g, 1, din[1])
		}
	}
	return tensor.DeviceOp(e, a.Shape(), []*tensor.Tensor{a, s}, fwd, bwd)
}

// tanhScaleLoss is L = Σ tanh(a)·s·w in float64, the finite-difference oracle.
func tanhScaleLoss(a, s, w []float32) float64 {
	var l float64
	for i := range a {
		l += math.Tanh(float64(a[i])) * float64(s[i]) * float64(w[i])
	}
	return l
}

func TestDeviceOpGradientMatchesFiniteDifferences(t *testing.T) {
	const n = 7
	rng := rand.New(rand.NewPCG(3, 4))
	rnd := func() []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = 2*rng.Float32() - 1
		}
		return v
	}
	aData, sData, wData := rnd(), rnd(), rnd()
	devices := []struct {
		name string
		dev  func() tensor.Device
	}{
		{"cpu", func() tensor.Device { return tensor.NewCPU(1) }},
		{"host device", func() tensor.Device { return tensortest.NewHostDevice(1) }},
	}
	tests := []struct {
		name         string
		gradA, gradS bool
		same         bool // the op reads a twice: y = tanh(a)·a
	}{
		{"both inputs", true, true, false},
		{"first input only", true, false, false},
		{"second input only", false, true, false},
		{"one input used twice", true, true, true},
	}
	for _, d := range devices {
		for _, tc := range tests {
			t.Run(d.name+"/"+tc.name, func(t *testing.T) {
				e := tensor.NewEngine(d.dev())
				// A first step leaves dirty buffers in the pool, so the
				// zeroing of the gradients is tested, not inherited from
				// fresh allocations.
				junk := e.FromData(rnd(), n).SetRequiresGrad(true)
				tensor.Sum(tensor.Mul(junk, junk)).Backward()
				e.ReleaseAll()

				a := e.FromData(aData, n).SetRequiresGrad(tc.gradA)
				s := e.FromData(sData, n).SetRequiresGrad(tc.gradS)
				sHost := sData
				if tc.same {
					s, sHost = a, aData
				}
				loss := tensor.Sum(tensor.Mul(tanhScale(t, a, s), e.FromData(wData, n)))
				if got, want := float64(loss.Item()), tanhScaleLoss(aData, sHost, wData); math.Abs(got-want) > 1e-5 {
					t.Fatalf("forward: loss %g, want %g", got, want)
				}
				loss.Backward()
				lossAt := func(which string, i int, h float32) float64 {
					pa, ps := append([]float32(nil), aData...), append([]float32(nil), sHost...)
					switch {
					case tc.same:
						pa[i] += h
						ps = pa
					case which == "a":
						pa[i] += h
					default:
						ps[i] += h
					}
					return tanhScaleLoss(pa, ps, wData)
				}
				check := func(name string, x *tensor.Tensor, wantGrad bool) {
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
					for i := range got {
						num := (lossAt(name, i, h) - lossAt(name, i, -h)) / (2 * h)
						if math.Abs(float64(got[i])-num) > 1e-3*(1+math.Abs(num)) {
							t.Errorf("%s[%d]: analytic %g, numeric %g", name, i, got[i], num)
						}
					}
				}
				check("a", a, tc.gradA)
				if !tc.same {
					check("s", s, tc.gradS)
				}
			})
		}
	}
}

func TestDeviceOpWithoutBackwardIsConstant(t *testing.T) {
	e := tensor.NewEngine(tensortest.NewHostDevice(1))
	x := e.FromData([]float32{1, 2, 3}, 3).SetRequiresGrad(true)
	double := func(in []tensor.Buffer, out tensor.Buffer) {
		e.Device().Unary(tensor.UnaryScale, 2, in[0], out)
	}
	y := tensor.DeviceOp(e, []int{3}, []*tensor.Tensor{x}, double, nil)
	if y.RequiresGrad() {
		t.Fatal("a device op without backward requires grad")
	}
	if got := y.Data(); got[0] != 2 || got[1] != 4 || got[2] != 6 {
		t.Fatalf("forward = %v, want [2 4 6]", got)
	}
}

func TestDeviceOpUnderNoGradRecordsNothing(t *testing.T) {
	e := tensor.NewEngine(tensor.NewCPU(1))
	a := e.FromData([]float32{0.5, -0.5}, 2).SetRequiresGrad(true)
	s := e.FromData([]float32{2, 2}, 2).SetRequiresGrad(true)
	var y *tensor.Tensor
	e.NoGrad(func() { y = tanhScale(t, a, s) })
	if y.RequiresGrad() {
		t.Fatal("device op recorded a graph in no-grad mode")
	}
	want := float32(math.Tanh(0.5)) * 2
	if got := y.Data(); math.Abs(float64(got[0]-want)) > 1e-6 || math.Abs(float64(got[1]+want)) > 1e-6 {
		t.Fatalf("forward = %v, want [%g %g]", got, want, -want)
	}
}

func TestDeviceOpNilInput(t *testing.T) {
	e := tensor.NewEngine(tensor.NewCPU(1))
	x := e.FromData([]float32{1, -2}, 2).SetRequiresGrad(true)
	fwd := func(in []tensor.Buffer, out tensor.Buffer) {
		if in[1] != nil {
			t.Error("nil input passed as a non-nil buffer")
		}
		e.Device().Copy(out, in[0])
	}
	bwd := func(dout tensor.Buffer, in []tensor.Buffer, din []tensor.Buffer) {
		if din[1] != nil {
			t.Error("gradient buffer for a nil input")
		}
		e.Device().Axpby(1, dout, 1, din[0])
	}
	y := tensor.DeviceOp(e, []int{2}, []*tensor.Tensor{x, nil}, fwd, bwd)
	tensor.Sum(y).Backward()
	if g := x.Grad().Data(); g[0] != 1 || g[1] != 1 {
		t.Fatalf("gradient %v, want [1 1]", g)
	}
}
