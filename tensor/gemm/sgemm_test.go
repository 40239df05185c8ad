package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestSgemmFixedShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dims := [][3]int{{1, 1, 1}, {0, 5, 3}, {5, 0, 3}, {4, 4, 0}, {7, 13, 17}, {31, 37, 41}, {97, 101, 103}, {64, 64, 64}, {1, 300, 7}, {300, 1, 7}, {33, 513, 259}}
	for _, d := range dims {
		for tr := 0; tr < 4; tr++ {
			for _, pad := range []int{0, 3} {
				for _, ab := range [][2]float32{{1, 0}, {-0.5, 1}, {2, -1.5}, {0, 0.5}} {
					p := problem{transA: tr&1 == 1, transB: tr&2 == 2, m: d[0], n: d[1], k: d[2], alpha: ab[0], beta: ab[1]}.withPad(pad)
					runAndCompare(t, rng, p, Sgemm)
				}
			}
		}
	}
}

func TestSgemmRandomShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, p := range randomProblems(rng, 300, 80) {
		runAndCompare(t, rng, p, Sgemm)
	}
}

// TestSgemmAlphaZeroIgnoresAB checks the BLAS rule that alpha == 0 reads
// neither A nor B (NaNs there must not reach C).
func TestSgemmAlphaZeroIgnoresAB(t *testing.T) {
	nan := float32(math.NaN())
	a := []float32{nan, nan, nan, nan}
	b := []float32{nan, nan, nan, nan}
	for _, tc := range []struct {
		beta float32
		c    []float32
		want []float32
	}{
		{beta: 0, c: []float32{nan, nan, nan, nan}, want: []float32{0, 0, 0, 0}},
		{beta: 2, c: []float32{1, 2, 3, 4}, want: []float32{2, 4, 6, 8}},
	} {
		Sgemm(false, false, 2, 2, 2, 0, a, 2, b, 2, tc.beta, tc.c, 2)
		for i := range tc.want {
			if tc.c[i] != tc.want[i] {
				t.Errorf("beta=%g: c = %v, want %v", tc.beta, tc.c, tc.want)
				break
			}
		}
	}
}

// TestSgemmPanicsOnShortSlices checks that impossible arguments panic with
// the package prefix instead of corrupting memory.
func TestSgemmPanicsOnShortSlices(t *testing.T) {
	buf := make([]float32, 100)
	for _, tc := range []struct {
		name string
		call func()
	}{
		{"short a", func() { Sgemm(false, false, 10, 2, 10, 1, buf[:99], 10, buf, 2, 0, buf, 2) }},
		{"short b transposed", func() { Sgemm(false, true, 2, 10, 10, 1, buf, 10, buf[:99], 10, 0, buf, 10) }},
		{"short c", func() { Sgemm(false, false, 10, 10, 1, 1, buf, 1, buf, 10, 0, buf[:99], 10) }},
		{"small ldc", func() { Sgemm(false, false, 2, 3, 2, 1, buf, 2, buf, 3, 0, buf, 2) }},
		{"negative m", func() { Sgemm(false, false, -1, 2, 2, 1, buf, 2, buf, 2, 0, buf, 2) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				msg, ok := r.(string)
				if !ok || !strings.HasPrefix(msg, "gemm: ") {
					t.Fatalf("recovered %v, want a panic starting with %q", r, "gemm: ")
				}
			}()
			tc.call()
		})
	}
}

// TestSgemmLarge runs one product big enough for several kc steps and A
// blocks with the default blocking, on all workers.
func TestSgemmLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, p := range []problem{
		{m: 701, n: 333, k: 517, alpha: 1, beta: 0},
		{transA: true, transB: true, m: 350, n: 610, k: 600, alpha: -1, beta: 0.5},
	} {
		runAndCompare(t, rng, p.withPad(1), Sgemm)
	}
}

func TestKernelNameIsRunnable(t *testing.T) {
	name := KernelName()
	for _, k := range runnableKernels() {
		if k.name == name {
			return
		}
	}
	t.Fatalf("KernelName() = %q, not among the runnable kernels", name)
}

// TestSgemmSerialDoesNotAllocate checks that a steady-state call on the
// caller's goroutine reuses its pooled workspace (training loops call
// Sgemm millions of times).
func TestSgemmSerialDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector (sync.Pool drops items)")
	}
	const n = 64 // below serialWork: one goroutine
	a := make([]float32, n*n)
	c := make([]float32, n*n)
	allocs := testing.AllocsPerRun(50, func() {
		Sgemm(false, true, n, n, n, 1, a, n, a, n, 0.5, c, n)
	})
	if allocs >= 0.5 {
		t.Fatalf("Sgemm allocated %.2f times per call, want 0", allocs)
	}
}

// TestSgemmWorkers checks the explicit worker counts replicas use,
// including counts above the core count and the clamp of 0 to 1.
func TestSgemmWorkers(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, workers := range []int{0, 1, 3} {
		f := func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
			SgemmWorkers(workers, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		}
		for _, p := range randomProblems(rng, 20, 260) {
			runAndCompare(t, rng, p, f)
		}
	}
}

// TestSgemmConcurrentCalls: data-parallel replicas call Sgemm from several
// goroutines at once (here parallel subtests); each call has its own
// workspace and team, and helpers of one call that start late must not
// touch the next call's workspace.
func TestSgemmConcurrentCalls(t *testing.T) {
	for g := range 4 {
		t.Run(fmt.Sprint("caller", g), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(9, uint64(g)))
			for _, p := range randomProblems(rng, 12, 200) {
				f := func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
					SgemmWorkers(2, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
				}
				runAndCompare(t, rng, p, f)
			}
		})
	}
}

// TestPackedABlockReuse: a worker keeps its packed block of op(A) for the
// next run of slivers of the same block, across column panels too (n above
// the panel width), but never into the next call, whose A differs (same
// shapes back to back, few rows so that blocks split into runs; with one
// block and one k step the next call's first block has the same place).
func TestPackedABlockReuse(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	f := func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
		SgemmWorkers(2, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	}
	for _, p := range []problem{
		{m: 20, n: defaultBlocking().nc + 100, k: 700, alpha: 1},
		{m: 20, n: 3000, k: 300, alpha: 1}, // one block, one k step
		{transA: true, m: 64, n: 900, k: 650, alpha: 0.5, beta: 1},
		{transB: true, m: 700, n: 300, k: 333, alpha: 1},
	} {
		p = p.withPad(0)
		for range 3 {
			runAndCompare(t, rng, p, f)
		}
	}
}
