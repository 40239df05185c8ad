//go:build !noasm

#include "textflag.h"

// One k step of the 14×32 kernel: two zmm rows of B are loaded at the start
// of the step (BLOAD), then each of the 14 A values is broadcast and
// multiplied into its row's two accumulators. Two broadcast registers
// alternate so consecutive rows do not wait on each other.
#define BLOAD(off) \
	VMOVUPS off(DI), Z28; \
	VMOVUPS off+64(DI), Z29

#define ROW(off, bc, acc0, acc1) \
	VBROADCASTSS off(SI), bc; \
	VFMADD231PS  Z28, bc, acc0; \
	VFMADD231PS  Z29, bc, acc1

#define STEP(aoff, boff) \
	BLOAD(boff); \
	ROW(aoff+0, Z30, Z0, Z1); \
	ROW(aoff+4, Z31, Z2, Z3); \
	ROW(aoff+8, Z30, Z4, Z5); \
	ROW(aoff+12, Z31, Z6, Z7); \
	ROW(aoff+16, Z30, Z8, Z9); \
	ROW(aoff+20, Z31, Z10, Z11); \
	ROW(aoff+24, Z30, Z12, Z13); \
	ROW(aoff+28, Z31, Z14, Z15); \
	ROW(aoff+32, Z30, Z16, Z17); \
	ROW(aoff+36, Z31, Z18, Z19); \
	ROW(aoff+40, Z30, Z20, Z21); \
	ROW(aoff+44, Z31, Z22, Z23); \
	ROW(aoff+48, Z30, Z24, Z25); \
	ROW(aoff+52, Z31, Z26, Z27)

// Row r of C gets acc + beta*C (BETAROW) or acc (STOREROW); DX walks the rows.
#define BETAROW(acc0, acc1) \
	VFMADD231PS (DX), Z30, acc0; \
	VFMADD231PS 64(DX), Z30, acc1; \
	VMOVUPS     acc0, (DX); \
	VMOVUPS     acc1, 64(DX); \
	ADDQ        R8, DX

#define STOREROW(acc0, acc1) \
	VMOVUPS acc0, (DX); \
	VMOVUPS acc1, 64(DX); \
	ADDQ    R8, DX

#define PREFETCHROW \
	PREFETCHT0 (R9); \
	PREFETCHT0 64(R9); \
	ADDQ       R8, R9

// func sgemmKernel14x32AVX512(k int, a, b, c []float32, ldc int, beta float32)
TEXT ·sgemmKernel14x32AVX512(SB), NOSPLIT, $0-92
	MOVQ k+0(FP), CX
	MOVQ a_base+8(FP), SI
	MOVQ b_base+32(FP), DI
	MOVQ c_base+56(FP), DX
	MOVQ ldc+80(FP), R8
	SHLQ $2, R8

	MOVQ DX, R9

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	VPXORD Z24, Z24, Z24
	VPXORD Z25, Z25, Z25
	VPXORD Z26, Z26, Z26
	VPXORD Z27, Z27, Z27

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
	BETAROW(Z0, Z1)
	BETAROW(Z2, Z3)
	BETAROW(Z4, Z5)
	BETAROW(Z6, Z7)
	BETAROW(Z8, Z9)
	BETAROW(Z10, Z11)
	BETAROW(Z12, Z13)
	BETAROW(Z14, Z15)
	BETAROW(Z16, Z17)
	BETAROW(Z18, Z19)
	BETAROW(Z20, Z21)
	BETAROW(Z22, Z23)
	BETAROW(Z24, Z25)
	BETAROW(Z26, Z27)
	VZEROUPPER
	RET

nobeta:
	STOREROW(Z0, Z1)
	STOREROW(Z2, Z3)
	STOREROW(Z4, Z5)
	STOREROW(Z6, Z7)
	STOREROW(Z8, Z9)
	STOREROW(Z10, Z11)
	STOREROW(Z12, Z13)
	STOREROW(Z14, Z15)
	STOREROW(Z16, Z17)
	STOREROW(Z18, Z19)
	STOREROW(Z20, Z21)
	STOREROW(Z22, Z23)
	STOREROW(Z24, Z25)
	STOREROW(Z26, Z27)
	VZEROUPPER
	RET
