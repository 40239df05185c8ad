package gpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The index kernels (index.cu) and row softmax (softmax.cu) against their
// CPU twins: odd sizes, repeated indices (which the accumulating adjoints
// must add up), and an out-of-range index (NaN in a gather, skipped by a
// scatter).

func randomIndex(r *rand.Rand, n, dim int) []int32 {
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(r.IntN(dim))
	}
	return idx
}

func TestGPUIndexSelectAdd(t *testing.T) {
	d := gpuDevice(t)
	r := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		outer, dim, inner int
		idx               []int32
	}{
		{3, 7, 5, []int32{6, 0, 6, 2}},
		{2, 13, 9, randomIndex(r, 17, 13)},
		{1, 300, 1, randomIndex(r, 299, 300)},
		{5, 4, 33, []int32{3, 3, 3, 3, 3, 1}},
		{2, 6, 3, []int32{1, 6, -1, 5}}, // out of range
		{3, 5, 2, nil},
	}
	for _, c := range cases {
		name := fmt.Sprintf("[%d,%d,%d] by %d indices", c.outer, c.dim, c.inner, len(c.idx))
		nidx := len(c.idx)
		src := randn(uint64(c.dim), c.outer*c.dim*c.inner)
		ps, pi := upload(t, d, src), uploadInt32(t, d, append(c.idx, 0))
		sel := alloc(t, d, c.outer*nidx*c.inner)
		if err := d.IndexSelect(sel, ps, pi, c.outer, c.dim, c.inner, nidx); err != nil {
			t.Fatal(err)
		}
		want := make([]float32, c.outer*nidx*c.inner)
		indexSelectRef(want, src, c.idx, c.outer, c.dim, c.inner)
		got := download(t, d, sel, len(want))
		checkClose(t, "index select "+name, got, want, 0, 0)

		// The adjoint accumulates into a non-zero dst.
		grad := randn(uint64(nidx+1), len(want))
		dst := randn(uint64(c.inner+2), len(src))
		pg, pd := upload(t, d, grad), upload(t, d, dst)
		if err := d.IndexAdd(pd, pg, pi, c.outer, c.dim, c.inner, nidx); err != nil {
			t.Fatal(err)
		}
		indexAddRef(dst, grad, c.idx, c.outer, c.dim, c.inner)
		checkClose(t, "index add "+name, download(t, d, pd, len(dst)), dst, 1e-6, 1e-6)
	}
}

func TestGPUGatherScatterRows(t *testing.T) {
	d := gpuDevice(t)
	r := rand.New(rand.NewPCG(3, 4))
	cases := []struct {
		rows, cols, k int
		idx           []int32
	}{
		{4, 6, 3, []int32{0, 5, 5, 1, 2, 3, 4, 4, 0, 0, 1, 2}},
		{37, 11, 7, randomIndex(r, 37*7, 11)},
		{5, 300, 257, randomIndex(r, 5*257, 300)},
		{2, 3, 2, []int32{3, 0, -2, 2}}, // out of range
	}
	for _, c := range cases {
		name := fmt.Sprintf("[%d,%d] k %d", c.rows, c.cols, c.k)
		src := randn(uint64(c.cols), c.rows*c.cols)
		ps, pi, pg := upload(t, d, src), uploadInt32(t, d, c.idx), alloc(t, d, c.rows*c.k)
		if err := d.GatherRows(pg, ps, pi, c.rows, c.cols, c.k); err != nil {
			t.Fatal(err)
		}
		want := make([]float32, c.rows*c.k)
		gatherRowsRef(want, src, c.idx, c.rows, c.cols, c.k)
		checkClose(t, "gather rows "+name, download(t, d, pg, len(want)), want, 0, 0)

		grad, dst := randn(uint64(c.k), len(want)), randn(uint64(c.k+1), len(src))
		pgr, pd := upload(t, d, grad), upload(t, d, dst)
		if err := d.ScatterAddRows(pd, pgr, pi, c.rows, c.cols, c.k); err != nil {
			t.Fatal(err)
		}
		scatterAddRowsRef(dst, grad, c.idx, c.rows, c.cols, c.k)
		checkClose(t, "scatter add rows "+name, download(t, d, pd, len(dst)), dst, 1e-6, 1e-6)
	}
}

func TestGPUSoftmaxRows(t *testing.T) {
	d := gpuDevice(t)
	for _, s := range [][2]int{{7, 13}, {3, 300}, {1, 1}, {5, 81}, {2, 128}, {4, 2}} {
		rows, cols := s[0], s[1]
		name := fmt.Sprintf("[%d,%d]", rows, cols)
		x := randn(uint64(rows*cols), rows*cols)
		for i := range x {
			x[i] *= 5
		}
		if rows >= 4 {
			x[cols] = 80                      // a large logit: exp overflows without the max
			x[2*cols] = float32(math.Inf(-1)) // a zero probability
			x[3*cols] = float32(math.NaN())   // a NaN row
		}
		px, py := upload(t, d, x), alloc(t, d, rows*cols)
		if err := d.SoftmaxRows(py, px, rows, cols); err != nil {
			t.Fatal(err)
		}
		y := make([]float32, rows*cols)
		softmaxRowsRef(y, x, rows, cols)
		gy := download(t, d, py, len(y))
		checkClose(t, "softmax "+name, gy, y, 1e-7, 1e-6)

		// The backward pass from the GPU's own forward output.
		dy := randn(uint64(cols), rows*cols)
		pdy, pdx := upload(t, d, dy), alloc(t, d, rows*cols)
		if err := d.SoftmaxRowsBwd(pdx, py, pdy, rows, cols); err != nil {
			t.Fatal(err)
		}
		dx := make([]float32, rows*cols)
		softmaxRowsBwdRef(dx, gy, dy, rows, cols)
		checkClose(t, "softmax backward "+name, download(t, d, pdx, len(dx)), dx, 1e-6, 1e-6)

		// In place.
		if err := d.SoftmaxRows(px, px, rows, cols); err != nil {
			t.Fatal(err)
		}
		if got := download(t, d, px, len(y)); !slices.EqualFunc(got, gy, func(a, b float32) bool {
			return a == b || (a != a && b != b)
		}) {
			t.Errorf("softmax %s in place differs from out of place", name)
		}
	}
}
