package gemm

// blocking holds the cache-blocking sizes of the Goto/BLIS loop nest:
//
//	for jc in steps of nc:          op(B) panel kc×nc packed once, shared (L3)
//	  for pc in steps of kc:
//	    for ic in steps of mc:      op(A) block mc×kc packed per worker (L2)
//	      for jr in steps of NR:    B micro-panel kc×NR stays in L1
//	        for ir in steps of MR:  micro-kernel on an MR×NR tile of C
type blocking struct {
	mc, kc, nc int
}

// defaultBlocking returns sizes tuned on a 2-core AMD EPYC (Zen 5, 48 KiB L1d
// and 1 MiB L2 per core, 32 MiB shared L3) with the 14×32 AVX-512 kernel: a
// 320×32 B micro-panel is 40 KiB (L1), a 336×320 A block 420 KiB (L2), a
// 320×4096 B panel 5 MiB (L3).
// A sweep of kc in 192..384 and mc in 224..504 (BenchmarkBlocking, timed by
// thread CPU time on the shared machine) put everything within 4% at
// n=1024 and 2048; these were among the best. kc and mc are upper bounds:
// run splits k and m into equal steps no larger than them.
func defaultBlocking() blocking {
	return blocking{mc: 336, kc: 320, nc: 4096}
}

// roundUp rounds x up to a multiple of q.
func roundUp(x, q int) int {
	return (x + q - 1) / q * q
}

// ceilDiv returns ⌈x/q⌉.
func ceilDiv(x, q int) int {
	return (x + q - 1) / q
}
