// Macros shared by the 14×32 AVX-512 kernels (packed B and B in place).
// Accumulators Z0..Z27 hold the tile, row r in Z(2r), Z(2r+1); Z28, Z29 a
// row of B; Z30, Z31 broadcasts of A. DX walks the rows of C (stride R8
// bytes), R9 the rows to prefetch.

#define ROW(off, bc, acc0, acc1) \
	VBROADCASTSS off(SI), bc; \
	VFMADD231PS  Z28, bc, acc0; \
	VFMADD231PS  Z29, bc, acc1

// The 14 rows of one k step, B already in Z28, Z29; aoff is the byte
// offset of its 14 A values.
#define ROWS14(aoff) \
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

#define ZERO14X32 \
	VPXORD Z0, Z0, Z0; \
	VPXORD Z1, Z1, Z1; \
	VPXORD Z2, Z2, Z2; \
	VPXORD Z3, Z3, Z3; \
	VPXORD Z4, Z4, Z4; \
	VPXORD Z5, Z5, Z5; \
	VPXORD Z6, Z6, Z6; \
	VPXORD Z7, Z7, Z7; \
	VPXORD Z8, Z8, Z8; \
	VPXORD Z9, Z9, Z9; \
	VPXORD Z10, Z10, Z10; \
	VPXORD Z11, Z11, Z11; \
	VPXORD Z12, Z12, Z12; \
	VPXORD Z13, Z13, Z13; \
	VPXORD Z14, Z14, Z14; \
	VPXORD Z15, Z15, Z15; \
	VPXORD Z16, Z16, Z16; \
	VPXORD Z17, Z17, Z17; \
	VPXORD Z18, Z18, Z18; \
	VPXORD Z19, Z19, Z19; \
	VPXORD Z20, Z20, Z20; \
	VPXORD Z21, Z21, Z21; \
	VPXORD Z22, Z22, Z22; \
	VPXORD Z23, Z23, Z23; \
	VPXORD Z24, Z24, Z24; \
	VPXORD Z25, Z25, Z25; \
	VPXORD Z26, Z26, Z26; \
	VPXORD Z27, Z27, Z27

// Row r of C gets acc + beta*C (BETAROW, beta in Z30) or acc (STOREROW).
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

#define BETA14X32 \
	BETAROW(Z0, Z1); \
	BETAROW(Z2, Z3); \
	BETAROW(Z4, Z5); \
	BETAROW(Z6, Z7); \
	BETAROW(Z8, Z9); \
	BETAROW(Z10, Z11); \
	BETAROW(Z12, Z13); \
	BETAROW(Z14, Z15); \
	BETAROW(Z16, Z17); \
	BETAROW(Z18, Z19); \
	BETAROW(Z20, Z21); \
	BETAROW(Z22, Z23); \
	BETAROW(Z24, Z25); \
	BETAROW(Z26, Z27)

#define STORE14X32 \
	STOREROW(Z0, Z1); \
	STOREROW(Z2, Z3); \
	STOREROW(Z4, Z5); \
	STOREROW(Z6, Z7); \
	STOREROW(Z8, Z9); \
	STOREROW(Z10, Z11); \
	STOREROW(Z12, Z13); \
	STOREROW(Z14, Z15); \
	STOREROW(Z16, Z17); \
	STOREROW(Z18, Z19); \
	STOREROW(Z20, Z21); \
	STOREROW(Z22, Z23); \
	STOREROW(Z24, Z25); \
	STOREROW(Z26, Z27)

#define PREFETCHROW \
	PREFETCHT0 (R9); \
	PREFETCHT0 64(R9); \
	ADDQ       R8, R9
