package gpu

import (
	"math"
	"slices"
	"testing"
)

// Host-side tests of the CPU twins themselves, so the oracle the GPU tests
// trust is checked by properties that do not depend on it: adjoint pairs,
// finite differences, exact values for linear inputs, and a second NMS.

// clusteredBoxes returns n boxes (x1, y1, x2, y2) around a few centres, so
// that many overlap, in a fixed order standing for descending score.
func clusteredBoxes(seed uint64, n int) []float32 {
	u := randn(seed, 4*n)
	b := make([]float32, 4*n)
	for i := 0; i < n; i++ {
		cx, cy := float32(100*(i%5)), float32(80*(i%3))
		x, y := cx+8*u[4*i], cy+8*u[4*i+1]
		w := 30 + 10*float32(math.Abs(float64(u[4*i+2])))
		h := 25 + 10*float32(math.Abs(float64(u[4*i+3])))
		b[4*i], b[4*i+1], b[4*i+2], b[4*i+3] = quarter(x), quarter(y), quarter(x+w), quarter(y+h)
	}
	return b
}

// quarter rounds to a multiple of 0.25. On such coordinates areas and
// intersections are exact in float32, so the GPU (which may fuse a
// multiply-add) and the CPU compute bitwise-equal IoUs and the keep lists
// can be compared exactly even for pairs at the threshold.
func quarter(v float32) float32 { return float32(math.Round(float64(v)*4) / 4) }

func TestNMSMaskMatchesReference(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 65, 300} {
		boxes := clusteredBoxes(uint64(n)+1, n)
		for _, thr := range []float32{0.3, 0.5, 0.7} {
			got := nmsFromMask(nmsMaskRef(boxes, n, thr), n)
			want := nmsRef(boxes, n, thr)
			if !slices.Equal(got, want) {
				t.Errorf("n=%d thr=%v: mask path keeps %v, reference %v", n, thr, got, want)
			}
			if n >= 64 && len(want) == n {
				t.Errorf("n=%d thr=%v: nothing suppressed; the test boxes do not overlap", n, thr)
			}
		}
	}
}

func TestIoUKnownValues(t *testing.T) {
	a := []float32{0, 0, 10, 10}
	tests := []struct {
		b    []float32
		want float32
	}{
		{[]float32{0, 0, 10, 10}, 1},
		{[]float32{5, 0, 15, 10}, 50.0 / 150},
		{[]float32{10, 10, 20, 20}, 0},
		{[]float32{2, 2, 4, 4}, 4.0 / 100},
	}
	for _, tc := range tests {
		if got := iouRef(a, tc.b); math.Abs(float64(got-tc.want)) > 1e-6 {
			t.Errorf("iou(%v, %v) = %v, want %v", a, tc.b, got, tc.want)
		}
	}
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// TestIm2colAdjoint: <im2col(x), y> == <x, col2im(y)> for every geometry.
func TestIm2colAdjoint(t *testing.T) {
	for _, g := range []ConvGeom{
		{C: 2, H: 7, W: 6, KH: 3, KW: 3, PadH: 1, PadW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1},
		{C: 3, H: 11, W: 9, KH: 7, KW: 5, PadH: 3, PadW: 2, StrideH: 2, StrideW: 3, DilH: 1, DilW: 1},
		{C: 1, H: 10, W: 10, KH: 3, KW: 3, PadH: 2, PadW: 2, StrideH: 1, StrideW: 1, DilH: 2, DilW: 2},
	} {
		x, y := randn(1, g.C*g.H*g.W), randn(2, g.ColSize())
		col, im := make([]float32, g.ColSize()), make([]float32, len(x))
		im2colRef(col, x, g)
		col2imRef(im, y, g)
		if l, r := dot(col, y), dot(x, im); math.Abs(l-r) > 1e-3*math.Abs(l)+1e-3 {
			t.Errorf("%+v: <im2col x, y> = %v, <x, col2im y> = %v", g, l, r)
		}
	}
	// A 1x1 kernel at stride 1 is the identity.
	g := ConvGeom{C: 2, H: 3, W: 4, KH: 1, KW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1}
	x := randn(3, 24)
	col := make([]float32, 24)
	im2colRef(col, x, g)
	if !slices.Equal(col, x) {
		t.Error("1x1 im2col is not the identity")
	}
}

func TestUpsampleAdjoint(t *testing.T) {
	const nc, h, w = 3, 5, 7
	for _, s := range []int{1, 2, 3} {
		x, dy := randn(4, nc*h*w), randn(5, s*s*nc*h*w)
		y, dx := make([]float32, len(dy)), make([]float32, len(x))
		upsampleFwdRef(y, x, nc, h, w, s)
		upsampleBwdRef(dx, dy, nc, h, w, s)
		if l, r := dot(y, dy), dot(x, dx); math.Abs(l-r) > 1e-3 {
			t.Errorf("scale %d: <up x, dy> = %v, <x, up* dy> = %v", s, l, r)
		}
	}
}

func TestMaxPoolReference(t *testing.T) {
	g := PoolGeom{NC: 1, H: 4, W: 4, KH: 2, KW: 2, StrideH: 2, StrideW: 2}
	x := []float32{
		1, 2, 0, 0,
		3, 4, 0, 9,
		-1, -2, 5, 5,
		-3, -4, 5, 6,
	}
	y, am := make([]float32, 4), make([]int32, 4)
	maxPoolFwdRef(y, am, x, g)
	if want := []float32{4, 9, -1, 6}; !slices.Equal(y, want) {
		t.Errorf("y = %v, want %v", y, want)
	}
	if want := []int32{5, 7, 8, 15}; !slices.Equal(am, want) {
		t.Errorf("argmax = %v, want %v", am, want)
	}
	dx := make([]float32, 16)
	maxPoolBwdRef(dx, []float32{1, 2, 3, 4}, am, g)
	if dx[5] != 1 || dx[7] != 2 || dx[8] != 3 || dx[15] != 4 || dot(dx, dx) != 30 {
		t.Errorf("dx = %v", dx)
	}
}

// numGrad is the central difference of f at x[i].
func numGrad(f func() float64, x []float32, i int, h float32) float64 {
	old := x[i]
	x[i] = old + h
	fp := f()
	x[i] = old - h
	fm := f()
	x[i] = old
	return (fp - fm) / (2 * float64(h))
}

func TestSoftmaxCEGradient(t *testing.T) {
	const n, k = 6, 5
	logits := randn(6, n*k)
	labels := []int32{0, 4, -100, 2, 1, 3}
	weight := []float32{1, 0.5, 1, 2, 1, 0}
	loss, prob := make([]float32, n), make([]float32, n*k)
	f := func() float64 {
		softmaxCEFwdRef(loss, prob, logits, labels, weight, n, k, -100)
		var s float64
		for _, v := range loss {
			s += float64(v)
		}
		return s
	}
	f()
	dl := make([]float32, n*k)
	softmaxCEBwdRef(dl, prob, labels, weight, n, k, -100, 1)
	for i := range logits {
		if num := numGrad(f, logits, i, 1e-2); math.Abs(num-float64(dl[i])) > 2e-3 {
			t.Errorf("dlogits[%d] = %v, finite difference %v", i, dl[i], num)
		}
	}
	if loss[2] != 0 {
		t.Errorf("ignored row has loss %v", loss[2])
	}
}

func TestSmoothL1Gradient(t *testing.T) {
	pred, target, weight := randn(7, 50), randn(8, 50), randn(9, 50)
	for _, beta := range []float32{1.0 / 9, 1} {
		loss := make([]float32, 50)
		f := func() float64 {
			smoothL1FwdRef(loss, pred, target, weight, beta)
			var s float64
			for _, v := range loss {
				s += float64(v)
			}
			return s
		}
		dp := make([]float32, 50)
		smoothL1BwdRef(dp, pred, target, weight, beta, 1)
		for i := range pred {
			d := math.Abs(float64(pred[i] - target[i]))
			if math.Abs(d-float64(beta)) < 0.02 {
				continue // the kink: finite differences straddle it
			}
			if num := numGrad(f, pred, i, 1e-3); math.Abs(num-float64(dp[i])) > 5e-3 {
				t.Errorf("beta %v: dpred[%d] = %v, finite difference %v", beta, i, dp[i], num)
			}
		}
	}
}

func TestBatchNormReference(t *testing.T) {
	const n, c, hw = 2, 3, 10
	x := randn(10, n*c*hw)
	gamma, beta := []float32{1, 2, 0.5}, []float32{0, 1, -1}
	y := make([]float32, len(x))
	sm, si := make([]float32, c), make([]float32, c)
	fwd := func() {
		bnTrainFwdRef(y, sm, si, nil, nil, x, gamma, beta, n, c, hw, 1e-5, 0.1)
	}
	fwd()
	// Per channel, (y - beta)/gamma has mean 0 and variance ~1.
	for ch := 0; ch < c; ch++ {
		var s, sq float64
		for i := 0; i < n; i++ {
			for j := (i*c + ch) * hw; j < (i*c+ch+1)*hw; j++ {
				v := (float64(y[j]) - float64(beta[ch])) / float64(gamma[ch])
				s += v
				sq += v * v
			}
		}
		m := float64(n * hw)
		if math.Abs(s/m) > 1e-5 || math.Abs(sq/m-1) > 1e-3 {
			t.Errorf("channel %d: mean %v var %v", ch, s/m, sq/m)
		}
	}
	// Backward against finite differences of L = <y, r>.
	r := randn(11, len(x))
	f := func() float64 { fwd(); return dot(y, r) }
	f()
	dx, dg, db := make([]float32, len(x)), make([]float32, c), make([]float32, c)
	bnTrainBwdRef(dx, dg, db, r, x, gamma, sm, si, n, c, hw)
	for _, i := range []int{0, 7, 15, 33, 59} {
		if num := numGrad(f, x, i, 1e-2); math.Abs(num-float64(dx[i])) > 2e-2*math.Max(1, math.Abs(num)) {
			t.Errorf("dx[%d] = %v, finite difference %v", i, dx[i], num)
		}
	}
	for ch := 0; ch < c; ch++ {
		if num := numGrad(f, gamma, ch, 1e-2); math.Abs(num-float64(dg[ch])) > 1e-2*math.Max(1, math.Abs(num)) {
			t.Errorf("dgamma[%d] = %v, finite difference %v", ch, dg[ch], num)
		}
		if num := numGrad(f, beta, ch, 1e-2); math.Abs(num-float64(db[ch])) > 1e-2*math.Max(1, math.Abs(num)) {
			t.Errorf("dbeta[%d] = %v, finite difference %v", ch, db[ch], num)
		}
	}
}

// TestRoIAlignLinearInput: bilinear sampling is exact on a linear map, so
// each bin equals the map at the bin centre when every sample is inside.
func TestRoIAlignLinearInput(t *testing.T) {
	const h, w = 20, 30
	input := make([]float32, h*w)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			input[y*w+x] = 0.5*float32(y) + 0.25*float32(x) + 1
		}
	}
	for _, al := range []bool{false, true} {
		g := RoIAlignGeom{K: 1, C: 1, H: h, W: w, PH: 2, PW: 3, SpatialScale: 0.5, SamplingRatio: 2, Aligned: al}
		rois := []float32{0, 8, 6, 40, 30} // feature box (4,3)-(20,15), minus 0.5 when aligned
		out := make([]float32, 6)
		roiAlignFwdRef(out, input, rois, g)
		off := float32(0)
		if al {
			off = 0.5
		}
		x1, y1, bw, bh := 4-off, 3-off, float32(16)/3, float32(12)/2
		for ph := 0; ph < 2; ph++ {
			for pw := 0; pw < 3; pw++ {
				cy, cx := y1+(float32(ph)+0.5)*bh, x1+(float32(pw)+0.5)*bw
				want := 0.5*cy + 0.25*cx + 1
				if got := out[ph*3+pw]; math.Abs(float64(got-want)) > 1e-5 {
					t.Errorf("aligned=%v bin (%d,%d) = %v, want %v", al, ph, pw, got, want)
				}
			}
		}
	}
}

func TestRoIAlignAdjoint(t *testing.T) {
	for _, tc := range roiCases() {
		g := tc.g
		g.K, g.C = 9, 2
		input := randn(12, 2*g.C*g.H*g.W)
		rois := randomRoIs(g.K, 2, g.H, g.W, g.SpatialScale)
		out := make([]float32, g.OutSize())
		roiAlignFwdRef(out, input, rois, g)
		dout := randn(13, len(out))
		din := make([]float32, len(input))
		roiAlignBwdRef(din, dout, rois, g)
		if l, r := dot(out, dout), dot(input, din); math.Abs(l-r) > 1e-3*math.Max(1, math.Abs(l)) {
			t.Errorf("%s: <fwd x, dy> = %v, <x, bwd dy> = %v", tc.name, l, r)
		}
	}
}

func TestSGDReference(t *testing.T) {
	p, buf, g := []float32{1}, []float32{0}, []float32{0.5}
	sgdMomentumRef(p, buf, g, 0.1, 0.9, 0.01, true)
	// g' = 0.5 + 0.01*1 = 0.51; buf = 0.51; p = 1 - 0.051
	if math.Abs(float64(p[0]-0.949)) > 1e-6 || math.Abs(float64(buf[0]-0.51)) > 1e-6 {
		t.Fatalf("step 1: p %v buf %v", p, buf)
	}
	sgdMomentumRef(p, buf, g, 0.1, 0.9, 0.01, false)
	// g' = 0.5 + 0.00949; buf = 0.9*0.51 + 0.50949 = 0.96849; p = 0.949 - 0.096849
	if math.Abs(float64(p[0]-0.852151)) > 1e-6 || math.Abs(float64(buf[0]-0.96849)) > 1e-6 {
		t.Fatalf("step 2: p %v buf %v", p, buf)
	}
}

// TestUnaryBackwardMatchesFiniteDifferences checks every unary op's
// backward twin against central differences of its forward twin.
func TestUnaryBackwardMatchesFiniteDifferences(t *testing.T) {
	x := randn(20, 40)
	for i := range x {
		x[i] = 0.2 + float32(math.Abs(float64(x[i]))) // positive: log, sqrt
		if i%2 == 1 && i < 20 {
			x[i] = -x[i] // some negatives where the op allows
		}
	}
	for op := UnaryRelu; op < numUnaryOps; op++ {
		xs := slices.Clone(x)
		if op == UnaryLog || op == UnarySqrt || op == UnaryRsqrt {
			for i := range xs {
				xs[i] = float32(math.Abs(float64(xs[i])))
			}
		}
		const p = 0.5
		y, dy, dx := make([]float32, len(xs)), randn(21, len(xs)), make([]float32, len(xs))
		unaryRef(op, p, y, xs)
		unaryBwdRef(op, p, dx, xs, y, dy)
		f := func() float64 { unaryRef(op, p, y, xs); return dot(y, dy) }
		for i := range xs {
			if op == UnarySmoothL1 && math.Abs(math.Abs(float64(xs[i]))-p) < 0.02 {
				continue
			}
			num := numGrad(f, xs, i, 1e-3)
			if math.Abs(num-float64(dx[i])) > 1e-2*math.Max(1, math.Abs(num)) {
				t.Errorf("unary op %d: dx[%d] = %v, finite difference %v", op, i, dx[i], num)
			}
		}
	}
}

func TestBinaryBackwardMatchesFiniteDifferences(t *testing.T) {
	a, b := randn(22, 30), randn(23, 30)
	for i := range b {
		b[i] = 0.5 + float32(math.Abs(float64(b[i]))) // no division by ~0
	}
	for op := BinaryAdd; op < numBinaryOps; op++ {
		bs := slices.Clone(b)
		if op == BinaryBCEWithLogits {
			for i := range bs {
				bs[i] = float32(i%3) / 2 // targets in [0, 1]
			}
		}
		y, dy := make([]float32, len(a)), randn(24, len(a))
		da, db := make([]float32, len(a)), make([]float32, len(a))
		binaryBwdRef(op, da, db, a, bs, dy)
		f := func() float64 { binaryRef(op, y, a, bs); return dot(y, dy) }
		for i := range a {
			if num := numGrad(f, a, i, 1e-3); math.Abs(num-float64(da[i])) > 1e-2*math.Max(1, math.Abs(num)) {
				t.Errorf("binary op %d: da[%d] = %v, finite difference %v", op, i, da[i], num)
			}
			if op == BinaryBCEWithLogits {
				continue
			}
			if num := numGrad(f, bs, i, 1e-3); math.Abs(num-float64(db[i])) > 1e-2*math.Max(1, math.Abs(num)) {
				t.Errorf("binary op %d: db[%d] = %v, finite difference %v", op, i, db[i], num)
			}
		}
	}
}

func TestChannelAffineAdjoint(t *testing.T) {
	const n, c, hw = 2, 3, 5
	x, dy, scale, shift := randn(25, n*c*hw), randn(26, n*c*hw), randn(27, c), randn(28, c)
	y := make([]float32, len(x))
	channelAffineRef(y, x, scale, shift, n, c, hw)
	dx, ds, dsh := make([]float32, len(x)), make([]float32, c), make([]float32, c)
	channelAffineBwdRef(dx, ds, dsh, x, dy, scale, n, c, hw)
	f := func() float64 { channelAffineRef(y, x, scale, shift, n, c, hw); return dot(y, dy) }
	for i := range x {
		if num := numGrad(f, x, i, 1e-2); math.Abs(num-float64(dx[i])) > 1e-3 {
			t.Errorf("dx[%d] = %v, finite difference %v", i, dx[i], num)
		}
	}
	for ch := 0; ch < c; ch++ {
		if num := numGrad(f, scale, ch, 1e-2); math.Abs(num-float64(ds[ch])) > 1e-3 {
			t.Errorf("dscale[%d] = %v, finite difference %v", ch, ds[ch], num)
		}
		if num := numGrad(f, shift, ch, 1e-2); math.Abs(num-float64(dsh[ch])) > 1e-3 {
			t.Errorf("dshift[%d] = %v, finite difference %v", ch, dsh[ch], num)
		}
	}
	mean, variance := make([]float32, c), make([]float32, c)
	channelMeanVarRef(mean, variance, y, n, c, hw)
	sm, si := make([]float32, c), make([]float32, c)
	bnTrainFwdRef(make([]float32, len(y)), sm, si, nil, nil, y, scale, shift, n, c, hw, 0, 0)
	for ch := 0; ch < c; ch++ {
		if math.Abs(float64(mean[ch]-sm[ch])) > 1e-5 || math.Abs(1/math.Sqrt(float64(variance[ch]))-float64(si[ch])) > 1e-3*float64(si[ch]) {
			t.Errorf("channel %d: mean/var %v %v disagree with batch norm's %v, 1/%v", ch, mean[ch], variance[ch], sm[ch], si[ch])
		}
	}
}
