package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// guard is the number of NaN elements placed before and after every matrix so
// that out-of-bounds reads poison results and out-of-bounds writes are caught.
const guard = 37

// problem is one SGEMM call: shapes, strides, scalars and transposes.
type problem struct {
	transA, transB bool
	m, n, k        int
	lda, ldb, ldc  int
	alpha, beta    float32
}

func (p problem) String() string {
	return fmt.Sprintf("tA=%v,tB=%v,m=%d,n=%d,k=%d,lda=%d,ldb=%d,ldc=%d,alpha=%g,beta=%g",
		p.transA, p.transB, p.m, p.n, p.k, p.lda, p.ldb, p.ldc, p.alpha, p.beta)
}

// withPad sets every leading dimension to its matrix's row length plus pad,
// so that callers can ask for tight (0) or loose strides.
func (p problem) withPad(pad int) problem {
	aCols, bCols := p.k, p.n
	if p.transA {
		aCols = p.m
	}
	if p.transB {
		bCols = p.k
	}
	p.lda = max(1, aCols) + pad
	p.ldb = max(1, bCols) + pad
	p.ldc = max(1, p.n) + pad
	return p
}

// guarded is a matrix embedded in a slice with NaN guard bands on both sides
// and NaN in the padding between rows.
type guarded struct {
	full           []float32
	rows, cols, ld int
	view           []float32
}

func newGuarded(rng *rand.Rand, rows, cols, ld int, fill bool) guarded {
	size := 0
	if rows > 0 && cols > 0 {
		size = (rows-1)*ld + cols
	}
	full := make([]float32, size+2*guard)
	nan := float32(math.NaN())
	for i := range full {
		full[i] = nan
	}
	g := guarded{full: full, rows: rows, cols: cols, ld: ld, view: full[guard : guard+size : guard+size]}
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			if fill {
				g.view[i*ld+j] = rng.Float32()*2 - 1
			}
		}
	}
	return g
}

func (g guarded) clone() guarded {
	h := g
	h.full = append([]float32(nil), g.full...)
	h.view = h.full[guard : guard+len(g.view) : guard+len(g.view)]
	return h
}

// checkGuards reports any element outside the matrix that is no longer NaN.
func (g guarded) checkGuards(t *testing.T, name string) {
	t.Helper()
	inside := func(idx int) bool {
		if idx < guard || idx >= guard+len(g.view) {
			return false
		}
		return (idx-guard)%g.ld < g.cols
	}
	for i, v := range g.full {
		if !inside(i) && !math.IsNaN(float64(v)) {
			t.Fatalf("%s: write outside the matrix at raw index %d (value %g)", name, i, v)
		}
	}
}

type sgemmFunc func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

// operands returns random a, b and c for p, guarded; c is filled only
// where beta reads it.
func (p problem) operands(rng *rand.Rand) (a, b, c guarded) {
	aRows, aCols := p.m, p.k
	if p.transA {
		aRows, aCols = p.k, p.m
	}
	bRows, bCols := p.k, p.n
	if p.transB {
		bRows, bCols = p.n, p.k
	}
	a = newGuarded(rng, aRows, aCols, p.lda, true)
	b = newGuarded(rng, bRows, bCols, p.ldb, true)
	return a, b, newGuarded(rng, p.m, p.n, p.ldc, p.beta != 0)
}

// runAndCompare runs f and SgemmRef on the same random problem and checks
// that the results agree within atol + rtol*|ref|*sqrt(k), llm.c style, and
// that nothing outside C was written.
func runAndCompare(t *testing.T, rng *rand.Rand, p problem, f sgemmFunc) {
	t.Helper()
	a, b, c := p.operands(rng)
	want := c.clone()
	SgemmRef(p.transA, p.transB, p.m, p.n, p.k, p.alpha, a.view, p.lda, b.view, p.ldb, p.beta, want.view, p.ldc)
	f(p.transA, p.transB, p.m, p.n, p.k, p.alpha, a.view, p.lda, b.view, p.ldb, p.beta, c.view, p.ldc)
	c.checkGuards(t, p.String())
	tol := 1e-5 * float64(max(p.k, 1))
	for i := 0; i < p.m; i++ {
		for j := 0; j < p.n; j++ {
			got, ref := float64(c.view[i*p.ldc+j]), float64(want.view[i*p.ldc+j])
			if math.IsNaN(got) || math.Abs(got-ref) > 1e-5+tol*(1+math.Abs(ref)) {
				t.Fatalf("%s: C[%d][%d] = %g, want %g", p, i, j, got, ref)
			}
		}
	}
}

// randomProblems returns count problems with sizes up to maxDim, covering
// all transposes, loose strides and the special alpha/beta values.
func randomProblems(rng *rand.Rand, count, maxDim int) []problem {
	alphas := []float32{1, -1, 0.5, 0, 2.25}
	betas := []float32{0, 1, -0.75, 0.5}
	var out []problem
	for i := 0; i < count; i++ {
		p := problem{
			transA: i&1 == 1,
			transB: i&2 == 2,
			m:      1 + rng.IntN(maxDim),
			n:      1 + rng.IntN(maxDim),
			k:      rng.IntN(maxDim + 1),
			alpha:  alphas[rng.IntN(len(alphas))],
			beta:   betas[rng.IntN(len(betas))],
		}
		out = append(out, p.withPad(rng.IntN(3)*rng.IntN(9)))
	}
	return out
}
