// Macros shared by the 14×32 AVX-512 kernels (packed B and B in place) and
// their cuts to the top 8 rows or the left 16 columns of the tile.
// Accumulators Z0..Z27 hold the tile, row r in Z(2r), Z(2r+1) (the
// left-columns cut: row r in Z(r)); Z28, Z29 a row of B; Z30, Z31
// broadcasts of A. SI walks the packed A (14 values per k step), DX the
// rows of C (stride R8 bytes), R9 the rows to prefetch.

#define ROW(off, bc, acc0, acc1) \
	VBROADCASTSS off(SI), bc; \
	VFMADD231PS  Z28, bc, acc0; \
	VFMADD231PS  Z29, bc, acc1

// The rows of one k step, B already in Z28, Z29; aoff is the byte offset
// of its 14 A values. Two broadcast registers alternate so consecutive
// rows do not wait on each other.
#define ROWS8(aoff) \
	ROW(aoff+0, Z30, Z0, Z1); \
	ROW(aoff+4, Z31, Z2, Z3); \
	ROW(aoff+8, Z30, Z4, Z5); \
	ROW(aoff+12, Z31, Z6, Z7); \
	ROW(aoff+16, Z30, Z8, Z9); \
	ROW(aoff+20, Z31, Z10, Z11); \
	ROW(aoff+24, Z30, Z12, Z13); \
	ROW(aoff+28, Z31, Z14, Z15)

#define ROWS14(aoff) \
	ROWS8(aoff); \
	ROW(aoff+32, Z30, Z16, Z17); \
	ROW(aoff+36, Z31, Z18, Z19); \
	ROW(aoff+40, Z30, Z20, Z21); \
	ROW(aoff+44, Z31, Z22, Z23); \
	ROW(aoff+48, Z30, Z24, Z25); \
	ROW(aoff+52, Z31, Z26, Z27)

// The left 16 columns of one k step, B's left half in Z28: one FMA per
// row, the broadcast folded into it (.BCST rounds the same as a separate
// broadcast).
#define LROW(off, acc) \
	VFMADD231PS.BCST off(SI), Z28, acc

#define LROWS14(aoff) \
	LROW(aoff+0, Z0); \
	LROW(aoff+4, Z1); \
	LROW(aoff+8, Z2); \
	LROW(aoff+12, Z3); \
	LROW(aoff+16, Z4); \
	LROW(aoff+20, Z5); \
	LROW(aoff+24, Z6); \
	LROW(aoff+28, Z7); \
	LROW(aoff+32, Z8); \
	LROW(aoff+36, Z9); \
	LROW(aoff+40, Z10); \
	LROW(aoff+44, Z11); \
	LROW(aoff+48, Z12); \
	LROW(aoff+52, Z13)

// Zeroing and storing n accumulators, Z0 up: op(Zi) for each.
#define EACH8(op, a, b, c, d, e, f, g, h) \
	op(a); op(b); op(c); op(d); op(e); op(f); op(g); op(h)

#define EACH16(op) \
	EACH8(op, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7); \
	EACH8(op, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15)

#define EACH28(op) \
	EACH16(op); \
	EACH8(op, Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23); \
	op(Z24); op(Z25); op(Z26); op(Z27)

#define EACH14(op) \
	EACH8(op, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7); \
	op(Z8); op(Z9); op(Z10); op(Z11); op(Z12); op(Z13)

#define ZERO(z) VPXORD z, z, z

// C rows as pairs of accumulators (Z0 Z1 first): acc + beta*C (BETAROW,
// beta in Z30) or acc (STOREROW), DX stepping to the next row.
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

#define PAIRS8(op) \
	op(Z0, Z1); \
	op(Z2, Z3); \
	op(Z4, Z5); \
	op(Z6, Z7); \
	op(Z8, Z9); \
	op(Z10, Z11); \
	op(Z12, Z13); \
	op(Z14, Z15)

#define PAIRS14(op) \
	PAIRS8(op); \
	op(Z16, Z17); \
	op(Z18, Z19); \
	op(Z20, Z21); \
	op(Z22, Z23); \
	op(Z24, Z25); \
	op(Z26, Z27)

// C rows of one accumulator (the left-columns cut).
#define LBETAROW(acc) \
	VFMADD231PS (DX), Z30, acc; \
	VMOVUPS     acc, (DX); \
	ADDQ        R8, DX

#define LSTOREROW(acc) \
	VMOVUPS acc, (DX); \
	ADDQ    R8, DX

#define PREFETCHROW \
	PREFETCHT0 (R9); \
	PREFETCHT0 64(R9); \
	ADDQ       R8, R9

// KLOOP runs the CX k steps of a kernel, four per iteration: step4 (with
// its prefetches) in loop4, step4c in loopc, whose last crows iterations
// also prefetch one row of the C tile each: early enough to hide a cache
// miss, late enough that the lines are not evicted again before the stores
// (with a power-of-two ldc all 14 rows share two L1 sets, so prefetching
// the whole tile up front measured 6-13% slower). adv4 and adv1 move the
// A and B pointers past four and one steps; the CX%4 steps left run
// step1 in loop1. The store code follows at label store.
#define KLOOP(step4, step4c, adv4, step1, adv1, crows) \
	MOVQ CX, BX; \
	SHRQ $2, BX; \
	JZ   tail; \
	MOVQ $crows, R10; \
	CMPQ BX, R10; \
	JGT  split; \
	MOVQ BX, R10; \
	JMP  loopc; \
split: \
	SUBQ R10, BX; \
loop4: \
	step4; \
	adv4; \
	DECQ BX; \
	JNZ  loop4; \
loopc: \
	PREFETCHROW; \
	step4c; \
	adv4; \
	DECQ R10; \
	JNZ  loopc; \
tail: \
	ANDQ $3, CX; \
	JZ   store; \
loop1: \
	step1; \
	adv1; \
	DECQ CX; \
	JNZ  loop1

// KSTORE writes the tile: beta == ±0 means C is write-only. betaoff is
// beta's frame offset; beta and store write the rows.
#define KSTORE(betaoff, betarows, storerows) \
store: \
	MOVL betaoff(FP), AX; \
	ANDL $0x7fffffff, AX; \
	JZ   nobeta; \
	VBROADCASTSS betaoff(FP), Z30; \
	betarows; \
	VZEROUPPER; \
	RET; \
nobeta: \
	storerows; \
	VZEROUPPER; \
	RET

// Four k steps of step(aoff, boff), B's later rows b1, b2, b3 on (bytes
// of packed B, or bytes of the rows slice); FOURPF also prefetches A.
#define FOUR(step, b1, b2, b3) \
	step(0, 0); \
	step(56, b1); \
	step(112, b2); \
	step(168, b3)

#define FOURPF(step, b1, b2, b3) \
	PREFETCHT0 448(SI); \
	step(0, 0); \
	step(56, b1); \
	PREFETCHT0 512(SI); \
	step(112, b2); \
	step(168, b3)

// Pointer moves past four and one k steps: A and packed B (DI), or A and
// the rows slice (R11).
#define PADV4 ADDQ $224, SI; ADDQ $512, DI
#define PADV1 ADDQ $56, SI; ADDQ $128, DI
#define RADV4 ADDQ $224, SI; ADDQ $32, R11
#define RADV1 ADDQ $56, SI; ADDQ $8, R11

// One k step with packed B (both halves, or the left one) or with B's
// row p at DI + 4*rows[p] (R11 walks rows).
#define BSTEP(rows, aoff, boff) \
	VMOVUPS boff(DI), Z28; \
	VMOVUPS boff+64(DI), Z29; \
	rows(aoff)

#define RSTEP(rows, aoff, roff) \
	MOVQ    roff(R11), R12; \
	VMOVUPS (DI)(R12*4), Z28; \
	VMOVUPS 64(DI)(R12*4), Z29; \
	rows(aoff)

// The frame of func(k int, a, b, c []float32, ldc int, beta float32)
// loaded: CX k, SI a, DI b, DX and R9 c, R8 ldc in bytes.
#define PACKEDARGS \
	MOVQ k+0(FP), CX; \
	MOVQ a_base+8(FP), SI; \
	MOVQ b_base+32(FP), DI; \
	MOVQ c_base+56(FP), DX; \
	MOVQ ldc+80(FP), R8; \
	SHLQ $2, R8; \
	MOVQ DX, R9

// The frame of func(k int, a []float32, b *float32, rows []int, c
// []float32, ldc int, beta float32) loaded: as PACKEDARGS, R11 rows.
#define ROWSARGS \
	MOVQ k+0(FP), CX; \
	MOVQ a_base+8(FP), SI; \
	MOVQ b+32(FP), DI; \
	MOVQ rows_base+40(FP), R11; \
	MOVQ c_base+64(FP), DX; \
	MOVQ ldc+88(FP), R8; \
	SHLQ $2, R8; \
	MOVQ DX, R9
