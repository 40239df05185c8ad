//go:build !noasm

#include "textflag.h"
#include "kernel14x32_avx512.h"

// The 14×32 packed kernel cut to the left 16 columns of the tile, for edge
// slivers of B with at most 16 columns left: B is still packed 32 values
// per k step (only the left half is loaded), and each column's FMAs are
// those of the full kernel in the same order, so the columns are
// bit-identical to its.
#define LSTEP(aoff, boff) \
	VMOVUPS boff(DI), Z28; \
	LROWS14(aoff)

#define LSTEPX4PF FOURPF(LSTEP, 128, 256, 384)
#define LSTEPX4 FOUR(LSTEP, 128, 256, 384)

// func sgemmKernelLeft14x16AVX512(k int, a, b, c []float32, ldc int, beta float32)
TEXT ·sgemmKernelLeft14x16AVX512(SB), NOSPLIT, $0-92
	PACKEDARGS
	EACH14(ZERO)
	KLOOP(LSTEPX4PF, LSTEPX4, PADV4, LSTEP(0, 0), PADV1, 14)
	KSTORE(beta+88, EACH14(LBETAROW), EACH14(LSTOREROW))
