package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// conv2dDirect is the obvious seven-loop convolution, the oracle for the
// im2col + GEMM path, accumulated in float64.
func conv2dDirect(x []float32, n int, g ConvGeom, w []float32, cout int) []float32 {
	oh, ow := g.OutH(), g.OutW()
	y := make([]float32, n*cout*oh*ow)
	for b := 0; b < n; b++ {
		for o := 0; o < cout; o++ {
			for yy := 0; yy < oh; yy++ {
				for xx := 0; xx < ow; xx++ {
					var s float64
					for c := 0; c < g.C; c++ {
						for kh := 0; kh < g.KH; kh++ {
							ih := yy*g.StrideH - g.PadH + kh*g.DilationH
							if ih < 0 || ih >= g.H {
								continue
							}
							for kw := 0; kw < g.KW; kw++ {
								iw := xx*g.StrideW - g.PadW + kw*g.DilationW
								if iw < 0 || iw >= g.W {
									continue
								}
								s += float64(x[((b*g.C+c)*g.H+ih)*g.W+iw]) * float64(w[((o*g.C+c)*g.KH+kh)*g.KW+kw])
							}
						}
					}
					y[((b*cout+o)*oh+yy)*ow+xx] = float32(s)
				}
			}
		}
	}
	return y
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

// checkClose is the llm.c-style checker: |got−want| <= atol + rtol·|want|,
// reporting the first few mismatches.
func checkClose(t *testing.T, what string, got, want []float32, atol, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: length %d, want %d", what, len(got), len(want))
	}
	bad := 0
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(g) != math.IsNaN(w) || math.Abs(g-w) > atol+rtol*math.Abs(w) {
			if bad < 5 {
				t.Errorf("%s[%d] = %g, want %g", what, i, g, w)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d of %d mismatched", what, bad, len(got))
	}
}

func TestConv2dMatchesDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	tests := []struct {
		n, c, h, w, cout, kh, kw, s, p, d int
	}{
		{2, 3, 9, 7, 4, 3, 3, 1, 1, 1},
		{1, 5, 11, 13, 3, 3, 3, 2, 1, 1},
		{2, 4, 8, 8, 6, 1, 1, 1, 0, 1},
		{1, 4, 9, 9, 5, 1, 1, 2, 0, 1},
		{1, 3, 15, 14, 2, 7, 7, 2, 3, 1},
		{1, 2, 10, 9, 3, 3, 3, 1, 2, 2},
		{1, 2, 6, 5, 2, 3, 2, 1, 0, 1},
		{2, 2, 34, 33, 3, 3, 3, 1, 1, 1}, // OH·OW >= batchedColsLimit: per-image GEMMs
		{3, 3, 33, 32, 2, 1, 1, 1, 0, 1},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%+v", tc), func(t *testing.T) {
			e := NewEngine(NewCPU(0))
			xd := randSlice(rng, tc.n*tc.c*tc.h*tc.w)
			wd := randSlice(rng, tc.cout*tc.c*tc.kh*tc.kw)
			x := e.FromData(xd, tc.n, tc.c, tc.h, tc.w)
			w := e.FromData(wd, tc.cout, tc.c, tc.kh, tc.kw)
			opt := ConvOptions{Stride: [2]int{tc.s, tc.s}, Padding: [2]int{tc.p, tc.p}, Dilation: [2]int{tc.d, tc.d}}
			got := Conv2d(x, w, nil, opt).Data()
			want := conv2dDirect(xd, tc.n, convGeom(x, w, opt), wd, tc.cout)
			checkClose(t, "conv2d", got, want, 1e-5, 1e-4)
		})
	}
}

// TestKernelsParallelMatchSerial runs every kernel with a parallel path on
// inputs large enough to split, on a 1-worker and a 4-worker device.
func TestKernelsParallelMatchSerial(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	const n, c, h, w = 2, 8, 61, 67 // odd sizes, > 4·elemGrain elements
	x := randSlice(rng, n*c*h*w)
	scale, shift := randSlice(rng, c), randSlice(rng, c)
	g := ConvGeom{C: c, H: h, W: w, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilationH: 1, DilationW: 1}
	g2 := g
	g2.StrideH, g2.StrideW = 2, 2
	pg := PoolGeom{N: n, C: c, H: h, W: w, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}
	kernels := []struct {
		name string
		run  func(d *CPU) []float32
	}{
		{"unary sigmoid", func(d *CPU) []float32 { y := d.Alloc(len(x)); d.Unary(UnarySigmoid, 0, buf(x), y); return f(y) }},
		{"binary mul", func(d *CPU) []float32 { y := d.Alloc(len(x)); d.Binary(BinaryMul, buf(x), buf(x), y); return f(y) }},
		{"axpby", func(d *CPU) []float32 {
			y := buf(append([]float32(nil), x...))
			d.Axpby(2, buf(x), 0.5, y)
			return f(y)
		}},
		{"im2col s1", func(d *CPU) []float32 {
			col := d.Alloc(g.ColRows() * g.ColCols())
			d.Im2col(buf(x[:c*h*w]), g, col)
			return f(col)
		}},
		{"im2col s2", func(d *CPU) []float32 {
			col := d.Alloc(g2.ColRows() * g2.ColCols())
			d.Im2col(buf(x[:c*h*w]), g2, col)
			return f(col)
		}},
		{"col2im s2", func(d *CPU) []float32 {
			img := d.Alloc(c * h * w)
			d.Col2im(buf(randSlice(rand.New(rand.NewPCG(1, 1)), g2.ColRows()*g2.ColCols())), g2, img)
			return f(img)
		}},
		{"channel mean var", func(d *CPU) []float32 {
			m, v := d.Alloc(c), d.Alloc(c)
			d.ChannelMeanVar(buf(x), n, c, h*w, m, v)
			return append(f(m), f(v)...)
		}},
		{"channel affine", func(d *CPU) []float32 {
			y := d.Alloc(len(x))
			d.ChannelAffine(buf(x), n, c, h*w, buf(scale), buf(shift), y)
			return f(y)
		}},
		{"batch norm backward", func(d *CPU) []float32 {
			dx, dw, db := d.Alloc(len(x)), d.Alloc(c), d.Alloc(c)
			d.BatchNormBackward(buf(x), buf(x), n, c, h*w, buf(shift), buf(scale), buf(scale), dx, dw, db)
			return append(append(f(dx), f(dw)...), f(db)...)
		}},
		{"max pool", func(d *CPU) []float32 {
			y, a := d.Alloc(n*c*pg.OutH()*pg.OutW()), d.AllocIndex(n*c*pg.OutH()*pg.OutW())
			d.MaxPool2d(buf(x), pg, y, a)
			dx := d.Alloc(len(x))
			d.MaxPool2dBackward(y, a, pg, dx)
			return f(dx)
		}},
		{"upsample", func(d *CPU) []float32 {
			y := d.Alloc(len(x) * 4)
			d.UpsampleNearest(buf(x), n*c, h, w, 2, y)
			dx := d.Alloc(len(x))
			d.UpsampleNearestBackward(y, n*c, h, w, 2, dx)
			return f(dx)
		}},
		{"reduce sum", func(d *CPU) []float32 {
			y := d.Alloc(n * w)
			d.ReduceSum(buf(x), n, c*h, w, y)
			return f(y)
		}},
		{"strided copy", func(d *CPU) []float32 {
			y := d.Alloc(len(x))
			d.StridedCopy([]int{n, h * w, c}, buf(x), []int{c * h * w, 1, h * w}, y, []int{c * h * w, c, 1}, false)
			return f(y)
		}},
	}
	for _, k := range kernels {
		t.Run(k.name, func(t *testing.T) {
			want := k.run(NewCPU(1))
			got := k.run(NewCPU(4))
			checkClose(t, k.name, got, want, 0, 0)
		})
	}
}

func buf(s []float32) Buffer { return &cpuBuffer{data: s} }

func TestIm2colMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	d := NewCPU(1)
	for _, g := range []ConvGeom{
		{C: 2, H: 5, W: 7, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, DilationH: 1, DilationW: 1},
		{C: 3, H: 8, W: 5, KH: 3, KW: 2, StrideH: 2, StrideW: 3, PadH: 2, PadW: 1, DilationH: 2, DilationW: 1},
		{C: 1, H: 4, W: 4, KH: 5, KW: 5, StrideH: 1, StrideW: 1, PadH: 3, PadW: 3, DilationH: 1, DilationW: 1},
	} {
		x := randSlice(rng, g.C*g.H*g.W)
		col := d.Alloc(g.ColRows() * g.ColCols())
		d.Im2col(buf(x), g, col)
		oh, ow := g.OutH(), g.OutW()
		want := make([]float32, len(f(col)))
		for c := 0; c < g.C; c++ {
			for kh := 0; kh < g.KH; kh++ {
				for kw := 0; kw < g.KW; kw++ {
					r := (c*g.KH+kh)*g.KW + kw
					for y := 0; y < oh; y++ {
						for xx := 0; xx < ow; xx++ {
							ih, iw := y*g.StrideH-g.PadH+kh*g.DilationH, xx*g.StrideW-g.PadW+kw*g.DilationW
							if ih >= 0 && ih < g.H && iw >= 0 && iw < g.W {
								want[r*oh*ow+y*ow+xx] = x[(c*g.H+ih)*g.W+iw]
							}
						}
					}
				}
			}
		}
		checkClose(t, fmt.Sprintf("im2col %+v", g), f(col), want, 0, 0)
		// Col2im is the adjoint: <im2col(x), r> == <x, col2im(r)>.
		r := randSlice(rng, len(want))
		img := d.Alloc(len(x))
		d.Col2im(buf(r), g, img)
		var lhs, rhs float64
		for i := range want {
			lhs += float64(want[i]) * float64(r[i])
		}
		for i := range x {
			rhs += float64(x[i]) * float64(f(img)[i])
		}
		if !close64(lhs, rhs, 1e-4, 1e-5) {
			t.Fatalf("col2im not adjoint: %g vs %g", lhs, rhs)
		}
	}
}

// maxPoolRef is the obvious argmax (first maximum in window order), the
// oracle for the branch-free key kernel.
func maxPoolRef(x []float32, g PoolGeom) ([]float32, []int32) {
	oh, ow := g.OutH(), g.OutW()
	y, arg := make([]float32, g.N*g.C*oh*ow), make([]int32, g.N*g.C*oh*ow)
	for p := 0; p < g.N*g.C; p++ {
		plane := x[p*g.H*g.W : (p+1)*g.H*g.W]
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				bi := -1
				for ky := 0; ky < g.KH; ky++ {
					for kx := 0; kx < g.KW; kx++ {
						iy, ix := oy*g.StrideH-g.PadH+ky, ox*g.StrideW-g.PadW+kx
						if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
							continue
						}
						if i := iy*g.W + ix; bi < 0 || plane[i] > plane[bi] {
							bi = i
						}
					}
				}
				o := (p*oh+oy)*ow + ox
				y[o], arg[o] = plane[bi], int32(bi)
			}
		}
	}
	return y, arg
}

func TestMaxPoolMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	d := NewCPU(1)
	for _, g := range []PoolGeom{
		{N: 2, C: 3, H: 9, W: 8, KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1},
		{N: 1, C: 2, H: 7, W: 7, KH: 2, KW: 2, StrideH: 2, StrideW: 2},
		{N: 1, C: 1, H: 6, W: 11, KH: 3, KW: 2, StrideH: 1, StrideW: 3, PadH: 1, PadW: 1},
	} {
		// Few distinct values, negatives and signed zeros: many ties.
		vals := []float32{-3, -1, -0.5, 0, 0.5, 2, float32(math.Inf(-1)), float32(math.Inf(1))}
		x := make([]float32, g.N*g.C*g.H*g.W)
		for i := range x {
			x[i] = vals[rng.IntN(len(vals))]
		}
		y, arg := d.Alloc(g.N*g.C*g.OutH()*g.OutW()), d.AllocIndex(g.N*g.C*g.OutH()*g.OutW())
		d.MaxPool2d(buf(x), g, y, arg)
		wantY, wantArg := maxPoolRef(x, g)
		checkClose(t, fmt.Sprintf("max pool %+v", g), f(y), wantY, 0, 0)
		for i, a := range CPUIndexData(arg) {
			if a != wantArg[i] {
				t.Fatalf("max pool %+v: argmax[%d] = %d, want %d", g, i, a, wantArg[i])
			}
		}
	}
	// NaN wins its window, as in PyTorch.
	g := PoolGeom{N: 1, C: 1, H: 2, W: 2, KH: 2, KW: 2, StrideH: 2, StrideW: 2}
	y, arg := d.Alloc(1), d.AllocIndex(1)
	d.MaxPool2d(buf([]float32{1, float32(math.NaN()), 5, 2}), g, y, arg)
	if v := f(y)[0]; v == v || CPUIndexData(arg)[0] != 1 {
		t.Fatalf("NaN window gave %g at %d", v, CPUIndexData(arg)[0])
	}
	// Also in a whole 3x3 window (unrolled).
	g = PoolGeom{N: 1, C: 1, H: 3, W: 3, KH: 3, KW: 3, StrideH: 1, StrideW: 1}
	d.MaxPool2d(buf([]float32{1, 7, 5, 2, 7, float32(math.NaN()), 0, 3, 7}), g, y, arg)
	if v := f(y)[0]; v == v || CPUIndexData(arg)[0] != 5 {
		t.Fatalf("NaN in a 3x3 window gave %g at %d", v, CPUIndexData(arg)[0])
	}
}

func TestReluBackwardMatchesReference(t *testing.T) {
	x := []float32{-2, -0.0, 0, 1e-30, -1e-30, 3, float32(math.Inf(1)), float32(math.Inf(-1))}
	dy := []float32{1, 2, 3, 4, 5, 6, 7, 8}
	dx := make([]float32, len(x))
	NewCPU(1).UnaryBackward(UnaryRelu, 0, buf(x), nil, buf(dy), buf(dx))
	for i := range x {
		want := float32(0)
		if x[i] > 0 {
			want = dy[i]
		}
		if dx[i] != want {
			t.Fatalf("relu backward at x=%g: %g, want %g", x[i], dx[i], want)
		}
	}
}

func TestValidColsMatchesBruteForce(t *testing.T) {
	for x0 := -7; x0 <= 7; x0++ {
		for stride := 1; stride <= 4; stride++ {
			for w := 1; w <= 9; w++ {
				for ow := 0; ow <= 8; ow++ {
					lo, hi := validCols(x0, stride, w, ow)
					for x := 0; x < ow; x++ {
						in := x0+x*stride >= 0 && x0+x*stride < w
						if in != (x >= lo && x < hi) {
							t.Fatalf("validCols(%d,%d,%d,%d) = [%d,%d) wrong at %d", x0, stride, w, ow, lo, hi, x)
						}
					}
				}
			}
		}
	}
}

// TestSortRowsTopKMatchesFullSort compares the heap path (small k) with the
// full stable sort on rows with many ties and NaNs.
func TestSortRowsTopKMatchesFullSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	d := NewCPU(2)
	const rows, cols = 3, 1001
	x := make([]float32, rows*cols)
	for i := range x {
		x[i] = float32(rng.IntN(50)) - 25
		if rng.IntN(100) == 0 {
			x[i] = float32(math.NaN())
		}
	}
	for _, desc := range []bool{true, false} {
		full := d.AllocIndex(rows * cols)
		d.SortRows(buf(x), rows, cols, cols, desc, full)
		for _, k := range []int{0, 1, 7, 100, 250} {
			part := d.AllocIndex(rows * k)
			d.SortRows(buf(x), rows, cols, k, desc, part)
			for r := 0; r < rows; r++ {
				got, want := CPUIndexData(part)[r*k:(r+1)*k], CPUIndexData(full)[r*cols:r*cols+k]
				if !slices.Equal(got, want) {
					t.Fatalf("descending=%v k=%d row %d: %v, want %v", desc, k, r, got[:min(k, 8)], want[:min(k, 8)])
				}
			}
		}
		// The full sort is stable: equal keys in ascending column order.
		for r := 0; r < rows; r++ {
			o := CPUIndexData(full)[r*cols : (r+1)*cols]
			for i := 1; i < cols; i++ {
				a, b := x[r*cols+int(o[i-1])], x[r*cols+int(o[i])]
				if (a == b || (a != a && b != b)) && o[i-1] > o[i] {
					t.Fatalf("row %d not stable at %d", r, i)
				}
			}
		}
	}
}

func TestUnrolledSumsMatchPlainLoops(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	for _, n := range []int{0, 1, 3, 4, 5, 17, 1000} {
		xs, gs := randSlice(rng, n), randSlice(rng, n)
		var s, q, sg, sgx float64
		for i := range xs {
			s += float64(xs[i])
			q += float64(xs[i]) * float64(xs[i])
			sg += float64(gs[i])
			sgx += float64(gs[i]) * float64(xs[i])
		}
		gotS, gotQ := sum2(xs)
		gotSg, gotSgx := dotSum(gs, xs)
		for _, c := range [][2]float64{{gotS, s}, {gotQ, q}, {sum1(xs), s}, {gotSg, sg}, {gotSgx, sgx}} {
			if !close64(c[0], c[1], 1e-9, 1e-12) {
				t.Fatalf("n=%d: unrolled sum %g, plain %g", n, c[0], c[1])
			}
		}
	}
}
