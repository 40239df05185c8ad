//go:build !noasm

#include "textflag.h"
#include "kernel14x32_avx512.h"

// The 14×32 kernels (packed B, and B in place) cut to the top 8 rows of the
// tile, for edge blocks of op(A) with at most 8 rows left: A is still
// packed 14 values per k step, and each row's FMAs are those of the full
// kernel in the same order, so the rows are bit-identical to its. The
// last 8 iterations of four k steps prefetch the 8 rows of C.
#define PSTEP8(aoff, boff) BSTEP(ROWS8, aoff, boff)
#define RSTEP8(aoff, roff) RSTEP(ROWS8, aoff, roff)
#define PSTEP8X4PF FOURPF(PSTEP8, 128, 256, 384)
#define PSTEP8X4 FOUR(PSTEP8, 128, 256, 384)
#define RSTEP8X4PF FOURPF(RSTEP8, 8, 16, 24)
#define RSTEP8X4 FOUR(RSTEP8, 8, 16, 24)

// func sgemmKernelTop8x32AVX512(k int, a, b, c []float32, ldc int, beta float32)
TEXT ·sgemmKernelTop8x32AVX512(SB), NOSPLIT, $0-92
	PACKEDARGS
	EACH16(ZERO)
	KLOOP(PSTEP8X4PF, PSTEP8X4, PADV4, PSTEP8(0, 0), PADV1, 8)
	KSTORE(beta+88, PAIRS8(BETAROW), PAIRS8(STOREROW))

// func sgemmKernelTop8x32RowsAVX512(k int, a []float32, b *float32, rows []int, c []float32, ldc int, beta float32)
TEXT ·sgemmKernelTop8x32RowsAVX512(SB), NOSPLIT, $0-100
	ROWSARGS
	EACH16(ZERO)
	KLOOP(RSTEP8X4PF, RSTEP8X4, RADV4, RSTEP8(0, 0), RADV1, 8)
	KSTORE(beta+96, PAIRS8(BETAROW), PAIRS8(STOREROW))
