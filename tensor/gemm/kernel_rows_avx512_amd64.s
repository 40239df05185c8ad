//go:build !noasm

#include "textflag.h"
#include "kernel14x32_avx512.h"

// The 14×32 kernel of kernel_avx512_amd64.s with B read in place: k step p
// loads its two zmm rows of B from b + rows[p] (element offsets), not from a
// packed micro-panel. The arithmetic is the packed kernel's, FMA for FMA, so
// the tiles are bit-identical.
#define STEP14(aoff, roff) RSTEP(ROWS14, aoff, roff)
#define STEP14X4 FOUR(STEP14, 8, 16, 24)

// Prefetches the B row eight k steps ahead.
#define BPREFETCH(roff) \
	MOVQ       roff(R11), R13; \
	PREFETCHT0 (DI)(R13*4); \
	PREFETCHT0 64(DI)(R13*4)

// Four steps with the A and B prefetches, while at least 12 remain.
#define STEP14X4PF \
	PREFETCHT0 448(SI); \
	BPREFETCH(64); \
	STEP14(0, 0); \
	BPREFETCH(72); \
	STEP14(56, 8); \
	PREFETCHT0 512(SI); \
	BPREFETCH(80); \
	STEP14(112, 16); \
	BPREFETCH(88); \
	STEP14(168, 24)

// func sgemmKernel14x32RowsAVX512(k int, a []float32, b *float32, rows []int, c []float32, ldc int, beta float32)
TEXT ·sgemmKernel14x32RowsAVX512(SB), NOSPLIT, $0-100
	ROWSARGS
	EACH28(ZERO)
	KLOOP(STEP14X4PF, STEP14X4, RADV4, STEP14(0, 0), RADV1, 14)
	KSTORE(beta+96, PAIRS14(BETAROW), PAIRS14(STOREROW))
