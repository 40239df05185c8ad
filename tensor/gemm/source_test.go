package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// storedSource is a Source over a stored matrix with row stride ld.
type storedSource struct {
	m  []float32
	ld int
}

func (s storedSource) Span(row, col int, dst []float32) {
	copy(dst, s.m[row*s.ld+col:row*s.ld+col+len(dst)])
}

// TestSgemmFromMatchesStoredB: packing B from a Source gives the bits of
// Sgemm on the stored matrix, for both layouts of B, tiny (unpacked),
// serial and parallel sizes, edges that are not whole tiles, beta 0 and 1.
func TestSgemmFromMatchesStoredB(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, transB := range []bool{false, true} {
		for _, sh := range [][3]int{{1, 1, 1}, {3, 5, 7}, {20, 70, 33}, {64, 700, 300}, {130, 4200, 577}} {
			m, n, k := sh[0], sh[1], sh[2]
			rows, cols := k, n
			if transB {
				rows, cols = n, k
			}
			b := randomSlice(rng, rows*(cols+3))
			a := randomSlice(rng, m*k)
			c0 := randomSlice(rng, m*n)
			for _, workers := range []int{1, 2} {
				for _, beta := range []float32{0, 1} {
					want := append([]float32(nil), c0...)
					got := append([]float32(nil), c0...)
					SgemmWorkers(workers, false, transB, m, n, k, 0.5, a, k, b, cols+3, beta, want, n)
					SgemmFrom(workers, false, transB, m, n, k, 0.5, a, k, storedSource{b, cols + 3}, beta, got, n)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("transB=%v %dx%dx%d workers=%d beta=%g: c[%d] = %g, want %g",
								transB, m, n, k, workers, beta, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}
