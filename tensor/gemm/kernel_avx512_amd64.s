//go:build !noasm

#include "textflag.h"
#include "kernel14x32_avx512.h"

// One k step of the 14×32 kernel: two zmm rows of B are loaded at the start
// of the step (BLOAD), then each of the 14 A values is broadcast and
// multiplied into its row's two accumulators. Two broadcast registers
// alternate so consecutive rows do not wait on each other.
#define BLOAD(off) \
	VMOVUPS off(DI), Z28; \
	VMOVUPS off+64(DI), Z29

#define STEP(aoff, boff) \
	BLOAD(boff); \
	ROWS14(aoff)

// func sgemmKernel14x32AVX512(k int, a, b, c []float32, ldc int, beta float32)
TEXT ·sgemmKernel14x32AVX512(SB), NOSPLIT, $0-92
	MOVQ k+0(FP), CX
	MOVQ a_base+8(FP), SI
	MOVQ b_base+32(FP), DI
	MOVQ c_base+56(FP), DX
	MOVQ ldc+80(FP), R8
	SHLQ $2, R8

	MOVQ DX, R9

	ZERO14X32

	// Main loop: four k steps per iteration (4*14*4 = 224 bytes of A,
	// 4*32*4 = 512 bytes of B). The last 14 iterations (loopc) also
	// prefetch one row of the C tile each: early enough to hide a cache
	// miss, late enough that the lines are not evicted again before the
	// stores (with a power-of-two ldc all 14 rows share two L1 sets, so
	// prefetching the whole tile up front measured 6-13% slower).
	MOVQ CX, BX
	SHRQ $2, BX
	JZ   tail
	MOVQ $14, R10
	CMPQ BX, R10
	JGT  split
	MOVQ BX, R10
	JMP  loopc

split:
	SUBQ R10, BX

loop4:
	PREFETCHT0 448(SI)
	STEP(0, 0)
	STEP(56, 128)
	PREFETCHT0 512(SI)
	STEP(112, 256)
	STEP(168, 384)
	ADDQ $224, SI
	ADDQ $512, DI
	DECQ BX
	JNZ  loop4

loopc:
	PREFETCHROW
	STEP(0, 0)
	STEP(56, 128)
	STEP(112, 256)
	STEP(168, 384)
	ADDQ $224, SI
	ADDQ $512, DI
	DECQ R10
	JNZ  loopc

tail:
	ANDQ $3, CX
	JZ   store

loop1:
	STEP(0, 0)
	ADDQ $56, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  loop1

store:
	// beta == ±0 means C is write-only.
	MOVL beta+88(FP), AX
	ANDL $0x7fffffff, AX
	JZ   nobeta
	VBROADCASTSS beta+88(FP), Z30
	BETA14X32
	VZEROUPPER
	RET

nobeta:
	STORE14X32
	VZEROUPPER
	RET
