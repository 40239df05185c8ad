//go:build !noasm

#include "textflag.h"
#include "kernel14x32_avx512.h"

// One k step of the 14×32 kernel: two zmm rows of B are loaded at the start
// of the step, then each of the 14 A values is broadcast and multiplied
// into its row's two accumulators. Four steps per iteration take 4*14*4 =
// 224 bytes of A and 4*32*4 = 512 bytes of B.
#define STEP14(aoff, boff) BSTEP(ROWS14, aoff, boff)
#define STEP14X4PF FOURPF(STEP14, 128, 256, 384)
#define STEP14X4 FOUR(STEP14, 128, 256, 384)

// func sgemmKernel14x32AVX512(k int, a, b, c []float32, ldc int, beta float32)
TEXT ·sgemmKernel14x32AVX512(SB), NOSPLIT, $0-92
	PACKEDARGS
	EACH28(ZERO)
	KLOOP(STEP14X4PF, STEP14X4, PADV4, STEP14(0, 0), PADV1, 14)
	KSTORE(beta+88, PAIRS14(BETAROW), PAIRS14(STOREROW))
