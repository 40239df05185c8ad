package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRowsKernels checks every kernel that reads B in place against the
// same kernel on B packed from those rows: bit for bit, for k around the
// unrolling and prefetch distances, rows out of order and overlapping, and
// beta zero (C full of NaN must not leak), one and other.
func TestRowsKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, kern := range runnableKernels() {
		if kern.rowsFn == nil {
			continue
		}
		mr, nr := kern.mr, kern.nr
		for _, k := range []int{0, 1, 3, 4, 5, 8, 11, 12, 13, 55, 56, 57, 60, 64, 257} {
			for _, beta := range []float32{0, 1, -0.5} {
				b := randomSlice(rng, 3*nr+k)
				rows := make([]int, k)
				packed := make([]float32, k*nr)
				for p := range rows {
					rows[p] = rng.IntN(len(b) - nr + 1)
					copy(packed[p*nr:(p+1)*nr], b[rows[p]:])
				}
				a := randomSlice(rng, k*mr)
				ldc := nr + 3
				c := newGuarded(rng, mr, nr, ldc, beta != 0)
				want := c.clone()
				kern.fn(k, a, packed, want.view, ldc, beta)
				if len(b) > 0 {
					kern.rowsFn(k, a, &b[0], rows, c.view, ldc, beta)
				}
				c.checkGuards(t, kern.name)
				for i, v := range c.view {
					if math.Float32bits(v) != math.Float32bits(want.view[i]) {
						t.Fatalf("%s k=%d beta=%g: C[%d] = %g, packed B gives %g", kern.name, k, beta, i, v, want.view[i])
					}
				}
			}
		}
	}
}

// TestInPlaceBMatchesPacked runs the blocked driver on problems with B read
// in place and packed, with blockings that make edge tiles and several
// panels everywhere, on one and several workers: the products must be
// bit-identical.
func TestInPlaceBMatchesPacked(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, kern := range runnableKernels() {
		if kern.rowsFn == nil {
			continue
		}
		for _, bl := range []blocking{{mc: kern.mr, kc: 5, nc: kern.nr}, {mc: 2 * kern.mr, kc: 13, nc: 3 * kern.nr}, defaultBlocking()} {
			for _, workers := range []int{1, 3} {
				for _, p := range randomProblems(rng, 24, 90) {
					if p.transB || p.m == 0 || p.n == 0 || p.k == 0 || p.alpha == 0 {
						continue
					}
					aRows, aCols := p.m, p.k
					if p.transA {
						aRows, aCols = p.k, p.m
					}
					a := newGuarded(rng, aRows, aCols, p.lda, true)
					b := newGuarded(rng, p.k, p.n, p.ldb, true) // NaN between rows: no over-reads
					c0 := newGuarded(rng, p.m, p.n, p.ldc, p.beta != 0)
					var got [2][]float32
					for v, strided := range []bool{false, true} {
						c := c0.clone()
						g := gemmCall{transA: p.transA, m: p.m, n: p.n, k: p.k, alpha: p.alpha, a: a.view, lda: p.lda, b: b.view, ldb: p.ldb, strided: strided, beta: p.beta, c: c.view, ldc: p.ldc}
						g.run(kern, bl, workers)
						c.checkGuards(t, kern.name)
						got[v] = c.view
					}
					for i := range got[0] {
						if math.Float32bits(got[0][i]) != math.Float32bits(got[1][i]) {
							t.Fatalf("%s %+v blocking %+v workers %d: C[%d] in place %g, packed %g", kern.name, p, bl, workers, i, got[1][i], got[0][i])
						}
					}
				}
			}
		}
	}
}

// TestSgemmRows checks SgemmRows against SgemmWorkers on B gathered from
// the same rows, bit for bit: rows out of order, repeated and overlapping,
// as a convolution's im2col rows over its padded input are.
func TestSgemmRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, d := range [][3]int{{1, 1, 1}, {7, 13, 17}, {14, 32, 4}, {64, 3136, 64}, {33, 100, 700}, {300, 97, 65}, {5, 4200, 9}} {
		m, n, k := d[0], d[1], d[2]
		for _, transA := range []bool{false, true} {
			b := randomSlice(rng, n+2*k+5)
			rows := make([]int, k)
			stored := make([]float32, k*n)
			for p := range rows {
				rows[p] = rng.IntN(len(b) - n + 1)
				copy(stored[p*n:(p+1)*n], b[rows[p]:])
			}
			lda := k
			if transA {
				lda = m
			}
			a := randomSlice(rng, m*k)
			c0 := randomSlice(rng, m*n)
			want := append([]float32(nil), c0...)
			got := append([]float32(nil), c0...)
			SgemmWorkers(2, transA, false, m, n, k, 0.75, a, lda, stored, n, 0.5, want, n)
			SgemmRows(2, transA, m, n, k, 0.75, a, lda, b, rows, 0.5, got, n)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("m=%d n=%d k=%d transA=%v: C[%d] = %g, stored B gives %g", m, n, k, transA, i, got[i], want[i])
				}
			}
		}
	}
}

// TestSgemmRowsPanicsOnRowOutOfRange: a row that runs past b is a
// programmer error, reported before any kernel reads memory.
func TestSgemmRowsPanicsOnRowOutOfRange(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a row past the end of b")
		}
	}()
	b := make([]float32, 40)
	SgemmRows(1, false, 1, 32, 2, 1, []float32{1, 1}, 2, b, []int{0, 9}, 0, make([]float32, 32), 32)
}
