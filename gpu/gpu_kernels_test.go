package gpu

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// GPU kernels against their CPU twins. Each test skips with the reason when
// no driver exists. Sizes are odd on purpose (partial blocks, tails).

func TestGPUElementwise(t *testing.T) {
	d := gpuDevice(t)
	const n = 100_003
	a, b := randn(1, n), randn(2, n)
	pa, pb, out := upload(t, d, a), upload(t, d, b), alloc(t, d, n)
	want := make([]float32, n)
	cases := []struct {
		name string
		run  func() error
		ref  func()
	}{
		{"add", func() error { return d.Add(out, pa, pb, n) }, func() { addRef(want, a, b) }},
		{"fill", func() error { return d.Fill(out, 2.5, n) }, func() { fillRef(want, 2.5) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.run(); err != nil {
				t.Fatal(err)
			}
			c.ref()
			checkClose(t, c.name, download(t, d, out, n), want, 0, 0)
		})
	}
}

func TestGPUReductions(t *testing.T) {
	d := gpuDevice(t)
	for _, n := range []int{1, 255, 257, 100_003, 3_000_001} {
		x := randn(uint64(n), n)
		px := upload(t, d, x)
		sum, err := d.Sum(px, n)
		if err != nil {
			t.Fatal(err)
		}
		sq, err := d.SumSq(px, n)
		if err != nil {
			t.Fatal(err)
		}
		// float32 partial sums over ~n/262144 terms per thread, then trees:
		// error grows like sqrt(n)*eps*|x|; sums of N(0,1) are ~sqrt(n).
		checkClose(t, "sum", []float32{sum}, []float32{sumRef(x)}, 1e-5*math.Sqrt(float64(n)), 1e-5)
		checkClose(t, "sumsq", []float32{sq}, []float32{sumSqRef(x)}, 1e-5, 1e-5)
		// The same input gives the same bits: the grid is fixed, no atomics.
		again, _ := d.Sum(px, n)
		if again != sum {
			t.Errorf("sum of %d not reproducible: %v then %v", n, sum, again)
		}
	}
}

func TestGPUIm2colCol2im(t *testing.T) {
	d := gpuDevice(t)
	geoms := []ConvGeom{
		{C: 3, H: 17, W: 13, KH: 3, KW: 3, PadH: 1, PadW: 1, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1},
		{C: 4, H: 23, W: 19, KH: 7, KW: 7, PadH: 3, PadW: 3, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1},
		{C: 2, H: 15, W: 16, KH: 3, KW: 3, PadH: 2, PadW: 2, StrideH: 1, StrideW: 2, DilH: 2, DilW: 2},
		{C: 5, H: 9, W: 11, KH: 1, KW: 1, PadH: 0, PadW: 0, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1},
	}
	for _, g := range geoms {
		im := randn(5, g.C*g.H*g.W)
		pim, pcol := upload(t, d, im), alloc(t, d, g.ColSize())
		if err := d.Im2col(pcol, pim, g); err != nil {
			t.Fatal(err)
		}
		want := make([]float32, g.ColSize())
		im2colRef(want, im, g)
		checkClose(t, "im2col", download(t, d, pcol, g.ColSize()), want, 0, 0)

		col := randn(6, g.ColSize())
		pcol2, pim2 := upload(t, d, col), alloc(t, d, len(im))
		if err := d.Col2im(pim2, pcol2, g); err != nil {
			t.Fatal(err)
		}
		wantIm := make([]float32, len(im))
		col2imRef(wantIm, col, g)
		checkClose(t, "col2im", download(t, d, pim2, len(im)), wantIm, 1e-5, 1e-5)
	}
}

// TestGPUBatchNorm checks the fused backward from the twin's saved
// statistics (the forward is ChannelMeanVar and ChannelAffine).
func TestGPUBatchNorm(t *testing.T) {
	d := gpuDevice(t)
	const n, c, hw = 3, 5, 37 * 29
	x := randn(7, n*c*hw)
	for i := range x {
		x[i] = 3*x[i] + 1.5 // a mean and scale far from 0 and 1
	}
	gamma, beta := randn(8, c), randn(9, c)
	sm, si := make([]float32, c), make([]float32, c)
	bnTrainFwdRef(make([]float32, len(x)), sm, si, nil, nil, x, gamma, beta, n, c, hw, 1e-5, 0.1)
	px, pg, psm, psi := upload(t, d, x), upload(t, d, gamma), upload(t, d, sm), upload(t, d, si)

	dy := randn(10, len(x))
	pdy, pdx, pdg, pdb := upload(t, d, dy), alloc(t, d, len(x)), alloc(t, d, c), alloc(t, d, c)
	if err := d.BatchNormTrainBwd(pdx, pdg, pdb, pdy, px, pg, psm, psi, n, c, hw); err != nil {
		t.Fatal(err)
	}
	dx, dg, db := make([]float32, len(x)), make([]float32, c), make([]float32, c)
	bnTrainBwdRef(dx, dg, db, dy, x, gamma, sm, si, n, c, hw)
	checkClose(t, "bn dx", download(t, d, pdx, len(x)), dx, 1e-4, 1e-3)
	checkClose(t, "bn dgamma", download(t, d, pdg, c), dg, 1e-3, 1e-4)
	checkClose(t, "bn dbeta", download(t, d, pdb, c), db, 1e-3, 1e-4)
}

func TestGPUMaxPool(t *testing.T) {
	d := gpuDevice(t)
	geoms := []PoolGeom{
		{NC: 6, H: 33, W: 41, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}, // ResNet stem
		{NC: 4, H: 16, W: 15, KH: 2, KW: 2, StrideH: 2, StrideW: 2},
		{NC: 3, H: 9, W: 10, KH: 1, KW: 1, StrideH: 2, StrideW: 2}, // FPN P6 (max_pool2d(1, stride=2))
	}
	for _, g := range geoms {
		x := randn(11, g.NC*g.H*g.W)
		x[5] = float32(math.NaN())
		no := g.NC * g.OH() * g.OW()
		px, py, pam := upload(t, d, x), alloc(t, d, no), alloc(t, d, no)
		if err := d.MaxPoolFwd(py, pam, px, g); err != nil {
			t.Fatal(err)
		}
		y, am := make([]float32, no), make([]int32, no)
		maxPoolFwdRef(y, am, x, g)
		checkClose(t, "maxpool y", download(t, d, py, no), y, 0, 0)
		if got := downloadInt32(t, d, pam, no); !slices.Equal(got, am) {
			t.Errorf("maxpool argmax differs from the twin")
		}
		dy := randn(12, no)
		pdy, pdx := upload(t, d, dy), alloc(t, d, len(x))
		if err := d.MaxPoolBwd(pdx, pdy, pam, g); err != nil {
			t.Fatal(err)
		}
		dx := make([]float32, len(x))
		maxPoolBwdRef(dx, dy, am, g)
		checkClose(t, "maxpool dx", download(t, d, pdx, len(x)), dx, 1e-6, 1e-6)
	}
}

func TestGPUUpsampleNearest(t *testing.T) {
	d := gpuDevice(t)
	const nc, h, w = 7, 13, 21
	for _, sc := range []int{2, 3} {
		x := randn(13, nc*h*w)
		px, py := upload(t, d, x), alloc(t, d, sc*sc*len(x))
		if err := d.UpsampleNearestFwd(py, px, nc, h, w, sc); err != nil {
			t.Fatal(err)
		}
		y := make([]float32, sc*sc*len(x))
		upsampleFwdRef(y, x, nc, h, w, sc)
		checkClose(t, "upsample fwd", download(t, d, py, len(y)), y, 0, 0)
		dy := randn(14, len(y))
		pdy, pdx := upload(t, d, dy), alloc(t, d, len(x))
		if err := d.UpsampleNearestBwd(pdx, pdy, nc, h, w, sc); err != nil {
			t.Fatal(err)
		}
		dx := make([]float32, len(x))
		upsampleBwdRef(dx, dy, nc, h, w, sc)
		checkClose(t, "upsample bwd", download(t, d, pdx, len(x)), dx, 1e-6, 1e-6)
	}
}

func TestGPUUnaryBinary(t *testing.T) {
	d := gpuDevice(t)
	const n = 10_007
	x, a, b, dy := randn(80, n), randn(81, n), randn(82, n), randn(83, n)
	for i := range b {
		b[i] = 0.5 + float32(math.Abs(float64(b[i])))
	}
	pos := make([]float32, n)
	for i := range pos {
		pos[i] = 0.1 + float32(math.Abs(float64(x[i])))
	}
	px, ppos, pa, pb, pdy := upload(t, d, x), upload(t, d, pos), upload(t, d, a), upload(t, d, b), upload(t, d, dy)
	py, pdx, pdb := alloc(t, d, n), alloc(t, d, n), alloc(t, d, n)
	y, dx, db := make([]float32, n), make([]float32, n), make([]float32, n)
	for op := UnaryRelu; op < numUnaryOps; op++ {
		in, pin := x, px
		if op == UnaryLog || op == UnarySqrt || op == UnaryRsqrt {
			in, pin = pos, ppos
		}
		if err := d.Unary(op, 0.5, py, pin, n); err != nil {
			t.Fatal(err)
		}
		unaryRef(op, 0.5, y, in)
		checkClose(t, fmt.Sprintf("unary op %d", op), download(t, d, py, n), y, 1e-6, 2e-6)
		if err := d.UnaryBwd(op, 0.5, pdx, pin, py, pdy, n); err != nil {
			t.Fatal(err)
		}
		unaryBwdRef(op, 0.5, dx, in, download(t, d, py, n), dy)
		checkClose(t, fmt.Sprintf("unary bwd op %d", op), download(t, d, pdx, n), dx, 1e-6, 2e-6)
	}
	for op := BinaryAdd; op < numBinaryOps; op++ {
		if err := d.Binary(op, py, pa, pb, n); err != nil {
			t.Fatal(err)
		}
		binaryRef(op, y, a, b)
		checkClose(t, fmt.Sprintf("binary op %d", op), download(t, d, py, n), y, 1e-6, 2e-6)
		dbPtr, dbHost := pdb, db
		if op == BinaryBCEWithLogits {
			dbPtr, dbHost = 0, nil
		}
		if err := d.BinaryBwd(op, pdx, dbPtr, pa, pb, pdy, n); err != nil {
			t.Fatal(err)
		}
		binaryBwdRef(op, dx, dbHost, a, b, dy)
		checkClose(t, "binary bwd da", download(t, d, pdx, n), dx, 1e-6, 2e-6)
		if dbHost != nil {
			checkClose(t, "binary bwd db", download(t, d, pdb, n), db, 1e-6, 2e-6)
		}
	}
	// Axpby with beta 0 must not read y: put NaNs there first.
	if err := d.Fill(py, float32(math.NaN()), n); err != nil {
		t.Fatal(err)
	}
	if err := d.Axpby(2, pa, 0, py, n); err != nil {
		t.Fatal(err)
	}
	if err := d.Axpby(-0.5, pb, 0.25, py, n); err != nil {
		t.Fatal(err)
	}
	fillRef(y, 0)
	axpbyRef(2, a, 0, y)
	axpbyRef(-0.5, b, 0.25, y)
	checkClose(t, "axpby", download(t, d, py, n), y, 1e-6, 1e-6)
}

func TestGPUChannelKernels(t *testing.T) {
	d := gpuDevice(t)
	const n, c, hw = 2, 7, 33 * 17
	x, dy, scale, shift := randn(90, n*c*hw), randn(91, n*c*hw), randn(92, c), randn(93, c)
	px, pdy, ps, psh := upload(t, d, x), upload(t, d, dy), upload(t, d, scale), upload(t, d, shift)
	pm, pv := alloc(t, d, c), alloc(t, d, c)
	if err := d.ChannelMeanVar(pm, pv, px, n, c, hw); err != nil {
		t.Fatal(err)
	}
	m, v := make([]float32, c), make([]float32, c)
	channelMeanVarRef(m, v, x, n, c, hw)
	checkClose(t, "channel mean", download(t, d, pm, c), m, 1e-5, 1e-5)
	checkClose(t, "channel var", download(t, d, pv, c), v, 1e-5, 1e-4)

	py := alloc(t, d, len(x))
	y := make([]float32, len(x))
	for _, tc := range []struct {
		name         string
		sp, shp      DevPtr
		shost, shhst []float32
	}{{"affine", ps, psh, scale, shift}, {"affine no scale", 0, psh, nil, shift}, {"affine no shift", ps, 0, scale, nil}} {
		if err := d.ChannelAffine(py, px, tc.sp, tc.shp, n, c, hw); err != nil {
			t.Fatal(err)
		}
		channelAffineRef(y, x, tc.shost, tc.shhst, n, c, hw)
		checkClose(t, tc.name, download(t, d, py, len(x)), y, 1e-6, 1e-6)
	}
	pdx, pds, pdsh := alloc(t, d, len(x)), alloc(t, d, c), alloc(t, d, c)
	if err := d.ChannelAffineBwd(pdx, pds, pdsh, px, pdy, ps, n, c, hw); err != nil {
		t.Fatal(err)
	}
	dx, ds, dsh := make([]float32, len(x)), make([]float32, c), make([]float32, c)
	channelAffineBwdRef(dx, ds, dsh, x, dy, scale, n, c, hw)
	checkClose(t, "affine dx", download(t, d, pdx, len(x)), dx, 1e-6, 1e-6)
	checkClose(t, "affine dscale", download(t, d, pds, c), ds, 1e-3, 1e-4)
	checkClose(t, "affine dshift", download(t, d, pdsh, c), dsh, 1e-3, 1e-4)
	// Only dshift wanted: x and the other outputs may be NULL.
	if err := d.ChannelAffineBwd(0, 0, pdsh, 0, pdy, 0, n, c, hw); err != nil {
		t.Fatal(err)
	}
	checkClose(t, "affine dshift only", download(t, d, pdsh, c), dsh, 1e-3, 1e-4)
}

func TestGPUSoftmaxCrossEntropy(t *testing.T) {
	d := gpuDevice(t)
	const n, k, ignore = 517, 81, -100
	logits := randn(15, n*k)
	for i := range logits {
		logits[i] *= 4
	}
	labels := make([]int32, n)
	weight := make([]float32, n)
	for i := range labels {
		labels[i] = int32((i * 37) % k)
		weight[i] = float32(i%3) * 0.5
	}
	labels[3], labels[10] = ignore, ignore
	pl, plab, pw := upload(t, d, logits), uploadInt32(t, d, labels), upload(t, d, weight)
	ploss, pprob := alloc(t, d, n), alloc(t, d, n*k)
	for _, wt := range []struct {
		name string
		ptr  DevPtr
		host []float32
	}{{"unweighted", 0, nil}, {"weighted", pw, weight}} {
		if err := d.SoftmaxCEFwd(ploss, pprob, pl, plab, wt.ptr, n, k, ignore); err != nil {
			t.Fatal(err)
		}
		loss, prob := make([]float32, n), make([]float32, n*k)
		softmaxCEFwdRef(loss, prob, logits, labels, wt.host, n, k, ignore)
		checkClose(t, wt.name+" ce loss", download(t, d, ploss, n), loss, 1e-5, 1e-5)
		checkClose(t, wt.name+" ce prob", download(t, d, pprob, n*k), prob, 1e-7, 1e-5)

		pdl := alloc(t, d, n*k)
		if err := d.SoftmaxCEBwd(pdl, pprob, plab, wt.ptr, n, k, ignore, 1.0/float32(n-2)); err != nil {
			t.Fatal(err)
		}
		dl := make([]float32, n*k)
		softmaxCEBwdRef(dl, download(t, d, pprob, n*k), labels, wt.host, n, k, ignore, 1.0/float32(n-2))
		checkClose(t, wt.name+" ce dlogits", download(t, d, pdl, n*k), dl, 1e-8, 1e-6)
	}
}

// TestGPUSigmoidFocalLoss runs RetinaNet's shape (9 classes, rows of every
// label kind, logits up to saturation) and a non-default gamma and alpha.
func TestGPUSigmoidFocalLoss(t *testing.T) {
	d := gpuDevice(t)
	const n, k = 1031, 9
	logits := randn(24, n*k)
	for i := range logits {
		logits[i] *= 6
	}
	logits[0], logits[1] = 120, -120
	labels, dloss := focalLabels(n, k), randn(25, n)
	pl, plab, pdy := upload(t, d, logits), uploadInt32(t, d, labels), upload(t, d, dloss)
	ploss, pdx := alloc(t, d, n), alloc(t, d, n*k)
	for _, c := range []struct{ gamma, alpha float32 }{{2, 0.25}, {1.5, -1}} {
		if err := d.SigmoidFocalFwd(ploss, pl, plab, n, k, c.gamma, c.alpha); err != nil {
			t.Fatal(err)
		}
		if err := d.SigmoidFocalBwd(pdx, pl, plab, pdy, n, k, c.gamma, c.alpha); err != nil {
			t.Fatal(err)
		}
		loss, dx := make([]float32, n), make([]float32, n*k)
		focalFwdRef(loss, logits, labels, n, k, c.gamma, c.alpha)
		focalBwdRef(dx, logits, labels, dloss, n, k, c.gamma, c.alpha)
		name := fmt.Sprintf("focal gamma %g alpha %g", c.gamma, c.alpha)
		checkClose(t, name+" loss", download(t, d, ploss, n), loss, 1e-6, 1e-5)
		checkClose(t, name+" dlogits", download(t, d, pdx, n*k), dx, 1e-7, 1e-5)
	}
}

// roiCases are RoIAlign configurations of the detectors: RoI heads at 7x7
// with sampling 0 (adaptive) and 2, aligned on and off, boxes partly outside
// the map and smaller than a pixel.
func roiCases() []struct {
	name string
	g    RoIAlignGeom
} {
	base := RoIAlignGeom{K: 37, C: 16, H: 25, W: 38, PH: 7, PW: 7, SpatialScale: 0.125}
	var out []struct {
		name string
		g    RoIAlignGeom
	}
	for _, sr := range []int{0, 2} {
		for _, al := range []bool{false, true} {
			g := base
			g.SamplingRatio, g.Aligned = sr, al
			name := "sr0"
			if sr == 2 {
				name = "sr2"
			}
			if al {
				name += "_aligned"
			}
			out = append(out, struct {
				name string
				g    RoIAlignGeom
			}{name, g})
		}
	}
	return out
}

// randomRoIs makes K boxes in image coordinates over a map of H×W at scale,
// a few partly outside the map and a few tiny.
func randomRoIs(k, batch, h, w int, scale float32) []float32 {
	u := randn(19, 5*k)
	rois := make([]float32, 5*k)
	iw, ih := float32(w)/scale, float32(h)/scale
	for i := 0; i < k; i++ {
		cx := (0.5 + 0.6*u[5*i]) * iw
		cy := (0.5 + 0.6*u[5*i+1]) * ih
		bw := float32(math.Abs(float64(u[5*i+2])))*iw/3 + 1
		bh := float32(math.Abs(float64(u[5*i+3])))*ih/3 + 1
		if i%9 == 0 {
			bw, bh = 0.3, 0.2 // smaller than a feature pixel
		}
		// Multiples of 1/8: scaled by 1/8 they stay exact, so a fused
		// multiply-add on the GPU cannot move roi size/pooled size across
		// an integer and change the adaptive sampling grid.
		eighth := func(v float32) float32 { return float32(math.Round(float64(v)*8) / 8) }
		rois[5*i] = float32(i % batch)
		rois[5*i+1], rois[5*i+2] = eighth(cx-bw/2), eighth(cy-bh/2)
		rois[5*i+3], rois[5*i+4] = eighth(cx+bw/2), eighth(cy+bh/2)
	}
	return rois
}

func TestGPURoIAlign(t *testing.T) {
	d := gpuDevice(t)
	const batch = 2
	for _, tc := range roiCases() {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.g
			input := randn(20, batch*g.C*g.H*g.W)
			rois := randomRoIs(g.K, batch, g.H, g.W, g.SpatialScale)
			pin, prois, pout := upload(t, d, input), upload(t, d, rois), alloc(t, d, g.OutSize())
			if err := d.RoIAlignFwd(pout, pin, prois, g); err != nil {
				t.Fatal(err)
			}
			out := make([]float32, g.OutSize())
			roiAlignFwdRef(out, input, rois, g)
			checkClose(t, "roi_align fwd", download(t, d, pout, len(out)), out, 1e-5, 1e-4)

			dout := randn(21, g.OutSize())
			pdout, pdin := upload(t, d, dout), alloc(t, d, len(input))
			if err := d.Fill(pdin, 0, len(input)); err != nil {
				t.Fatal(err)
			}
			if err := d.RoIAlignBwd(pdin, pdout, prois, g); err != nil {
				t.Fatal(err)
			}
			din := make([]float32, len(input))
			roiAlignBwdRef(din, dout, rois, g)
			checkClose(t, "roi_align bwd", download(t, d, pdin, len(din)), din, 1e-5, 1e-4)
		})
	}
}
