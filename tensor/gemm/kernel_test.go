package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMicroKernels compares every micro-kernel this machine can run with
// the plain-Go tile loop, for k values around the unrolling factor and for
// beta zero (C full of NaN must not leak), one and other.
func TestMicroKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, kern := range runnableKernels() {
		t.Run(kern.name, func(t *testing.T) {
			for _, k := range []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 31, 64, 257} {
				for _, beta := range []float32{0, 1, -0.5} {
					checkMicroKernel(t, rng, kern, k, beta)
				}
			}
		})
	}
}

func checkMicroKernel(t *testing.T, rng *rand.Rand, kern microKernel, k int, beta float32) {
	t.Helper()
	mr, nr := kern.mr, kern.nr
	ldc := nr + 5
	a := newGuarded(rng, 1, k*mr, k*mr+1, true)
	b := newGuarded(rng, 1, k*nr, k*nr+1, true)
	c := newGuarded(rng, mr, nr, ldc, beta != 0)
	want := c.clone()
	kernelGoTile(mr, nr, k, a.view, b.view, want.view, ldc, beta)
	kern.fn(k, a.view, b.view, c.view, ldc, beta)
	c.checkGuards(t, kern.name)
	for i := 0; i < mr; i++ {
		for j := 0; j < nr; j++ {
			got, ref := c.view[i*ldc+j], want.view[i*ldc+j]
			if math.IsNaN(float64(got)) || math.Abs(float64(got-ref)) > 1e-5*float64(k+1)*(1+math.Abs(float64(ref))) {
				t.Fatalf("%s k=%d beta=%g: C[%d][%d] = %g, want %g", kern.name, k, beta, i, j, got, ref)
			}
		}
	}
}

// TestBlockedVariants runs the blocked driver with every runnable kernel,
// with tiny blocking sizes (so that every loop of the nest takes several
// trips and edge blocks appear everywhere) and with the default ones, on one
// and several workers.
func TestBlockedVariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, kern := range runnableKernels() {
		blockings := []blocking{
			{mc: kern.mr, kc: 5, nc: kern.nr},
			{mc: 2 * kern.mr, kc: 13, nc: 3 * kern.nr},
			defaultBlocking(),
		}
		for _, bl := range blockings {
			for _, workers := range []int{1, 3} {
				f := func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
					if m == 0 || n == 0 || k == 0 || alpha == 0 {
						Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
						return
					}
					g := gemmCall{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}
					g.run(kern, bl, workers)
				}
				for _, p := range randomProblems(rng, 24, 70) {
					runAndCompare(t, rng, p, f)
				}
			}
		}
	}
}

// TestEdgeKernels checks the top-rows and left-columns kernels against
// the same part of the full ones' tile, bit for bit, with B packed and (top
// rows) in place, for k around the unrolling and prefetch distances and beta
// zero (C full of NaN must not leak), one and other; C outside that part
// must stay untouched.
func TestEdgeKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, kern := range runnableKernels() {
		if kern.topFn == nil && kern.leftFn == nil {
			continue
		}
		mr, nr := kern.mr, kern.nr
		for _, k := range []int{0, 1, 3, 4, 5, 31, 32, 33, 36, 37, 64, 257} {
			for _, beta := range []float32{0, 1, -0.5} {
				a, b := randomSlice(rng, k*mr), randomSlice(rng, 2*nr+k)
				rows, packed := make([]int, k), make([]float32, k*nr)
				for p := range rows {
					rows[p] = rng.IntN(len(b) - nr + 1)
					copy(packed[p*nr:(p+1)*nr], b[rows[p]:])
				}
				ldc := nr + 3
				c0 := newGuarded(rng, mr, nr, ldc, beta != 0)
				full, fullRows := c0.clone(), c0.clone()
				kern.fn(k, a, packed, full.view, ldc, beta)
				kern.rowsFn(k, a, &b[0], rows, fullRows.view, ldc, beta)
				check := func(name string, h, w int, run func(c []float32), want guarded) {
					t.Helper()
					c := c0.clone()
					run(c.view)
					c.checkGuards(t, kern.name)
					for i, v := range c.view {
						ref := want.view[i]
						if i/ldc >= h || i%ldc >= w {
							ref = c0.view[i]
						}
						if math.Float32bits(v) != math.Float32bits(ref) {
							t.Fatalf("%s %s k=%d beta=%g: C[%d][%d] = %g, want %g", kern.name, name, k, beta, i/ldc, i%ldc, v, ref)
						}
					}
				}
				if kern.topFn != nil {
					check("top", kern.topMR, nr, func(c []float32) { kern.topFn(k, a, packed, c, ldc, beta) }, full)
					check("top rows", kern.topMR, nr, func(c []float32) { kern.topRowsFn(k, a, &b[0], rows, c, ldc, beta) }, fullRows)
				}
				if kern.leftFn != nil {
					check("left", mr, kern.leftNR, func(c []float32) { kern.leftFn(k, a, packed, c, ldc, beta) }, full)
				}
			}
		}
	}
}
