//go:build !noasm

#include "textflag.h"
#include "kernel14x32_avx512.h"

// The 14×32 kernel of kernel_avx512_amd64.s with B read in place: k step p
// loads its two zmm rows of B from b + rows[p] (element offsets), not from a
// packed micro-panel. The arithmetic is the packed kernel's, FMA for FMA, so
// the tiles are bit-identical.
#define RLOAD(roff) \
	MOVQ    roff(R11), R12; \
	VMOVUPS (DI)(R12*4), Z28; \
	VMOVUPS 64(DI)(R12*4), Z29

#define STEP(aoff, roff) \
	RLOAD(roff); \
	ROWS14(aoff)

// Prefetches the B row eight k steps ahead.
#define BPREFETCH(roff) \
	MOVQ       roff(R11), R13; \
	PREFETCHT0 (DI)(R13*4); \
	PREFETCHT0 64(DI)(R13*4)

// func sgemmKernel14x32RowsAVX512(k int, a []float32, b *float32, rows []int, c []float32, ldc int, beta float32)
TEXT ·sgemmKernel14x32RowsAVX512(SB), NOSPLIT, $0-100
	MOVQ k+0(FP), CX
	MOVQ a_base+8(FP), SI
	MOVQ b+32(FP), DI
	MOVQ rows_base+40(FP), R11
	MOVQ c_base+64(FP), DX
	MOVQ ldc+88(FP), R8
	SHLQ $2, R8

	MOVQ DX, R9

	ZERO14X32

	// Main loop: four k steps per iteration, as in the packed kernel; B
	// rows are prefetched eight steps ahead while at least 12 remain
	// (loop4), and the last 14 iterations (loopc) prefetch the C tile.
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
	BPREFETCH(64)
	STEP(0, 0)
	BPREFETCH(72)
	STEP(56, 8)
	PREFETCHT0 512(SI)
	BPREFETCH(80)
	STEP(112, 16)
	BPREFETCH(88)
	STEP(168, 24)
	ADDQ $224, SI
	ADDQ $32, R11
	DECQ BX
	JNZ  loop4

loopc:
	PREFETCHROW
	STEP(0, 0)
	STEP(56, 8)
	STEP(112, 16)
	STEP(168, 24)
	ADDQ $224, SI
	ADDQ $32, R11
	DECQ R10
	JNZ  loopc

tail:
	ANDQ $3, CX
	JZ   store

loop1:
	STEP(0, 0)
	ADDQ $56, SI
	ADDQ $8, R11
	DECQ CX
	JNZ  loop1

store:
	// beta == ±0 means C is write-only.
	MOVL beta+96(FP), AX
	ANDL $0x7fffffff, AX
	JZ   nobeta
	VBROADCASTSS beta+96(FP), Z30
	BETA14X32
	VZEROUPPER
	RET

nobeta:
	STORE14X32
	VZEROUPPER
	RET
