package tensordev

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/detflow/detflow/gpu"
	"github.com/detflow/detflow/tensor"
)

// TestOpCodesMatchTensor: the kernels switch on tensor's op values, which
// gpu mirrors; a reordering in either place must fail here.
func TestOpCodesMatchTensor(t *testing.T) {
	unary := []struct {
		t tensor.UnaryOp
		g gpu.UnaryOp
	}{
		{tensor.UnaryRelu, gpu.UnaryRelu}, {tensor.UnarySigmoid, gpu.UnarySigmoid}, {tensor.UnaryExp, gpu.UnaryExp},
		{tensor.UnaryLog, gpu.UnaryLog}, {tensor.UnaryNeg, gpu.UnaryNeg}, {tensor.UnaryAbs, gpu.UnaryAbs},
		{tensor.UnarySqrt, gpu.UnarySqrt}, {tensor.UnaryRsqrt, gpu.UnaryRsqrt}, {tensor.UnaryScale, gpu.UnaryScale},
		{tensor.UnaryAddScalar, gpu.UnaryAddScalar}, {tensor.UnarySquare, gpu.UnarySquare},
		{tensor.UnarySmoothL1, gpu.UnarySmoothL1}, {tensor.UnaryTanh, gpu.UnaryTanh},
	}
	for _, u := range unary {
		if int(u.t) != int(u.g) {
			t.Errorf("tensor unary op %d is gpu op %d", u.t, u.g)
		}
	}
	binary := []struct {
		t tensor.BinaryOp
		g gpu.BinaryOp
	}{
		{tensor.BinaryAdd, gpu.BinaryAdd}, {tensor.BinarySub, gpu.BinarySub}, {tensor.BinaryMul, gpu.BinaryMul},
		{tensor.BinaryDiv, gpu.BinaryDiv}, {tensor.BinaryBCEWithLogits, gpu.BinaryBCEWithLogits},
	}
	for _, b := range binary {
		if int(b.t) != int(b.g) {
			t.Errorf("tensor binary op %d is gpu op %d", b.t, b.g)
		}
	}
}

var (
	testGPU    *gpu.Device
	testGPUErr error
)

func TestMain(m *testing.M) {
	testGPU, testGPUErr = gpu.Open(0)
	if testGPUErr != nil {
		fmt.Fprintf(os.Stderr, "tensordev: GPU conformance tests will SKIP: %v\n", testGPUErr)
	}
	code := m.Run()
	if testGPU != nil {
		if err := testGPU.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "tensordev: close: %v\n", err)
		}
	}
	os.Exit(code)
}

func device(t *testing.T) *Device {
	t.Helper()
	if gpu.Unavailable(testGPUErr) {
		t.Skipf("GPU test skipped: %v", testGPUErr)
	}
	if testGPUErr != nil {
		t.Fatalf("open cuda:0: %v", testGPUErr)
	}
	return New(testGPU, "cuda:0")
}

func randn(seed uint64, n int) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// pair holds one operand on both devices.
type pair struct {
	g, c tensor.Buffer
	n    int
}

func newPair(d *Device, cpu *tensor.CPU, x []float32) pair {
	p := pair{g: d.Alloc(len(x)), c: cpu.Alloc(len(x)), n: len(x)}
	d.Upload(p.g, x)
	cpu.Upload(p.c, x)
	return p
}

func (p pair) check(t *testing.T, d *Device, name string, atol, rtol float64) {
	t.Helper()
	got := make([]float32, p.n)
	d.Download(got, p.g)
	want := tensor.CPUData(p.c)
	bad := 0
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(g) && math.IsNaN(w) {
			continue
		}
		if !(math.Abs(g-w) <= atol+rtol*math.Abs(w)) {
			if bad < 5 {
				t.Errorf("%s[%d] = %v, cpu %v", name, i, g, w)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d mismatches", name, bad, p.n)
	}
}

// TestConformance runs tensor.Device methods on the GPU and on tensor.CPU
// with the same inputs and compares, GPU kernels and host fallbacks alike.
func TestConformance(t *testing.T) {
	d := device(t)
	cpu := tensor.NewCPU(0)
	const n = 4099
	x, y := newPair(d, cpu, randn(1, n)), newPair(d, cpu, randn(2, n))
	out := newPair(d, cpu, make([]float32, n))

	d.Unary(tensor.UnaryTanh, 0, x.g, out.g)
	cpu.Unary(tensor.UnaryTanh, 0, x.c, out.c)
	out.check(t, d, "unary tanh", 1e-6, 2e-6)

	d.Binary(tensor.BinaryMul, x.g, y.g, out.g)
	cpu.Binary(tensor.BinaryMul, x.c, y.c, out.c)
	out.check(t, d, "binary mul", 1e-6, 1e-6)

	d.Axpby(0.5, x.g, -2, out.g)
	cpu.Axpby(0.5, x.c, -2, out.c)
	out.check(t, d, "axpby", 1e-6, 1e-6)

	if g, c := d.SumSquares(x.g), cpu.SumSquares(x.c); math.Abs(g-c) > 1e-4*c {
		t.Errorf("SumSquares = %v, cpu %v", g, c)
	}

	// Gemm 33x65x47 through cuBLAS (or the host without it).
	a, b := newPair(d, cpu, randn(3, 33*47)), newPair(d, cpu, randn(4, 47*65))
	c := newPair(d, cpu, make([]float32, 33*65))
	d.Gemm(false, false, 33, 65, 47, 1, a.g, 47, b.g, 65, 0, c.g, 65)
	cpu.Gemm(false, false, 33, 65, 47, 1, a.c, 47, b.c, 65, 0, c.c, 65)
	c.check(t, d, "gemm", 1e-4, 1e-4)

	// Batch-norm pieces over [2,3,50].
	bx := newPair(d, cpu, randn(5, 300))
	mean, variance := newPair(d, cpu, make([]float32, 3)), newPair(d, cpu, make([]float32, 3))
	d.ChannelMeanVar(bx.g, 2, 3, 50, mean.g, variance.g)
	cpu.ChannelMeanVar(bx.c, 2, 3, 50, mean.c, variance.c)
	mean.check(t, d, "channel mean", 1e-6, 1e-5)
	variance.check(t, d, "channel var", 1e-6, 1e-5)

	// Max pool 3x3/2 pad 1 over [1,2,9,11] and its backward.
	pg := tensor.PoolGeom{N: 1, C: 2, H: 9, W: 11, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}
	px := newPair(d, cpu, randn(6, 2*9*11))
	no := 2 * pg.OutH() * pg.OutW()
	py := newPair(d, cpu, make([]float32, no))
	gi, ci := d.AllocIndex(no), cpu.AllocIndex(no)
	d.MaxPool2d(px.g, pg, py.g, gi)
	cpu.MaxPool2d(px.c, pg, py.c, ci)
	py.check(t, d, "max pool", 0, 0)
	dy := newPair(d, cpu, randn(7, no))
	dx := newPair(d, cpu, make([]float32, px.n))
	d.MaxPool2dBackward(dy.g, gi, pg, dx.g)
	cpu.MaxPool2dBackward(dy.c, ci, pg, dx.c)
	dx.check(t, d, "max pool backward", 1e-6, 1e-6)

	// Softmax cross-entropy with an ignored row, then Softmax (a kernel
	// when this build has the softmax module's PTX, else a host fallback)
	// and a host index op (SortRows).
	logits := newPair(d, cpu, randn(8, 6*5))
	lab := []int32{0, 4, -100, 2, 1, 3}
	gl, cl := d.AllocIndex(6), cpu.AllocIndex(6)
	d.UploadIndex(gl, lab)
	cpu.UploadIndex(cl, lab)
	loss, prob := newPair(d, cpu, make([]float32, 6)), newPair(d, cpu, make([]float32, 30))
	d.SoftmaxCrossEntropy(logits.g, gl, 6, 5, -100, loss.g, prob.g)
	cpu.SoftmaxCrossEntropy(logits.c, cl, 6, 5, -100, loss.c, prob.c)
	loss.check(t, d, "ce loss", 1e-6, 1e-5)
	prob.check(t, d, "ce prob", 1e-7, 1e-5)
	sm := newPair(d, cpu, make([]float32, 30))
	d.Softmax(logits.g, 6, 5, sm.g)
	cpu.Softmax(logits.c, 6, 5, sm.c)
	sm.check(t, d, "softmax", 1e-7, 1e-6)
	gs, cs := d.AllocIndex(12), cpu.AllocIndex(12)
	d.SortRows(logits.g, 6, 5, 2, true, gs)
	cpu.SortRows(logits.c, 6, 5, 2, true, cs)
	got, want := make([]int32, 12), make([]int32, 12)
	d.DownloadIndex(got, gs)
	cpu.DownloadIndex(want, cs)
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("SortRows (host fallback)[%d] = %d, cpu %d", i, got[i], want[i])
		}
	}
	// RetinaNet's focal loss and its backward (gpu/kernels/focal.cu).
	flab := []int32{0, 5, -1, 2, 4, 3}
	fg, fc := d.AllocIndex(6), cpu.AllocIndex(6)
	d.UploadIndex(fg, flab)
	cpu.UploadIndex(fc, flab)
	floss, fgrad := newPair(d, cpu, make([]float32, 6)), newPair(d, cpu, make([]float32, 30))
	d.SigmoidFocalLoss(logits.g, fg, 6, 5, 2, 0.25, floss.g)
	cpu.SigmoidFocalLoss(logits.c, fc, 6, 5, 2, 0.25, floss.c)
	floss.check(t, d, "focal loss", 1e-6, 1e-5)
	fdy := newPair(d, cpu, randn(9, 6))
	d.SigmoidFocalLossBackward(logits.g, fg, fdy.g, 6, 5, 2, 0.25, fgrad.g)
	cpu.SigmoidFocalLossBackward(logits.c, fc, fdy.c, 6, 5, 2, 0.25, fgrad.c)
	fgrad.check(t, d, "focal grad", 1e-6, 1e-5)
	wantSoftmax := 1
	if d.g.HasModule(gpu.ModuleSoftmax) {
		wantSoftmax = 0
	}
	if fb := d.Fallbacks(); fb["Softmax"] != wantSoftmax || fb["SortRows"] != 1 {
		t.Errorf("fallback counts %v, want Softmax %d (softmax PTX: %v) and SortRows 1", fb, wantSoftmax, d.g.HasModule(gpu.ModuleSoftmax))
	}
	t.Logf("host fallbacks used: %v", d.FallbackNames())
	for _, p := range []pair{x, y, out, a, b, c, bx, mean, variance, px, py, dy, dx, logits, loss, prob, sm, floss, fgrad, fdy} {
		d.Free(p.g)
	}
	for _, ib := range []tensor.IndexBuffer{gi, gl, gs} {
		d.FreeIndex(ib)
	}
}
