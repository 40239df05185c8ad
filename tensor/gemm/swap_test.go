package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSwappedMatchesDirect: narrow products that Sgemm computes as Cᵀ give
// C bit for bit as the driver computing C directly, for every combination
// of transposes, beta 0 and 1 (and -0.75, which is not swapped), padded leading
// dimensions and one and two workers; the NaN guards around C catch
// writes past its rows.
func TestSwappedMatchesDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	kern := bestKernel()
	if kern.rowsFn == nil {
		t.Skipf("the %s kernel does not read B in place: Sgemm never swaps", kern.name)
	}
	shapes := [][3]int{{512, 98, 200}, {140, 40, 70}, {300, 7, 64}, {64, 100, 333}, {64, 4, 100}}
	swapped := 0
	for _, s := range shapes {
		for i := range 4 {
			for _, beta := range []float32{0, 1, -0.75} {
				p := problem{transA: i&1 == 1, transB: i&2 == 2, m: s[0], n: s[1], k: s[2], alpha: 1, beta: beta}
				p = p.withPad(3)
				if !swapPays(kern, p.transA, p.m, p.n, p.k, p.alpha, p.beta) {
					continue
				}
				swapped++
				a, b, c0 := p.operands(rng)
				for _, workers := range []int{1, 2} {
					want := c0.clone()
					g := gemmCall{transA: p.transA, transB: p.transB, m: p.m, n: p.n, k: p.k, alpha: 1, a: a.view, lda: p.lda, b: b.view, ldb: p.ldb, beta: p.beta, c: want.view, ldc: p.ldc}
					g.run(kern, defaultBlocking(), workers)
					got := c0.clone()
					SgemmWorkers(workers, p.transA, p.transB, p.m, p.n, p.k, 1, a.view, p.lda, b.view, p.ldb, p.beta, got.view, p.ldc)
					got.checkGuards(t, p.String())
					for j, v := range got.view {
						if math.Float32bits(v) != math.Float32bits(want.view[j]) {
							t.Fatalf("%v, %d workers: C[%d] = %g, direct gives %g", p, workers, j, v, want.view[j])
						}
					}
				}
			}
		}
	}
	if swapped == 0 {
		t.Fatal("no shape was swapped")
	}
}

// BenchmarkSwapped times narrow products computed directly and as Cᵀ
// (what Sgemm does for them) on two workers: the input-gradient GEMMs of
// ResNet-50's 7x7 stage, batch 2 (the 3x3 convs' dcol = Wᵀ·dY, the 1x1
// convs' dX), and, for the record, one with A untransposed that Sgemm
// does not swap.
func BenchmarkSwapped(b *testing.B) {
	kern := bestKernel()
	for _, s := range []problem{
		{transA: true, m: 4608, n: 98, k: 512},
		{transA: true, m: 2048, n: 98, k: 512},
		{transA: true, m: 1024, n: 98, k: 2048},
		{m: 2048, n: 98, k: 512},
	} {
		s.alpha = 1
		s = s.withPad(0)
		a, bm, c := s.operands(rand.New(rand.NewPCG(1, 2)))
		flops := 2 * float64(s.m*s.n*s.k)
		b.Run(s.String()+"/direct", func(b *testing.B) {
			for b.Loop() {
				g := gemmCall{transA: s.transA, m: s.m, n: s.n, k: s.k, alpha: 1, a: a.view, lda: s.lda, b: bm.view, ldb: s.ldb,
					strided: kern.rowsFn != nil && s.m <= inPlaceRows, c: c.view, ldc: s.ldc}
				g.run(kern, defaultBlocking(), 2)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(s.String()+"/swapped", func(b *testing.B) {
			for b.Loop() {
				sgemmSwapped(2, s.transA, false, s.m, s.n, s.k, a.view, s.lda, bm.view, s.ldb, 0, c.view, s.ldc)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
