//go:build !noasm

#include "textflag.h"

// TRANSPOSE16 transposes the 16×16 block held in rows Z0..Z15 (row r in Zr)
// so that Zc holds column c, using Z16..Z31 as scratch. Four rounds of
// shuffles: 32-bit interleave of row pairs, 64-bit interleave of those,
// then two rounds of 128-bit lane selects.
#define TRANSPOSE16 \
	VUNPCKLPS  Z1, Z0, Z16; \
	VUNPCKHPS  Z1, Z0, Z17; \
	VUNPCKLPS  Z3, Z2, Z18; \
	VUNPCKHPS  Z3, Z2, Z19; \
	VUNPCKLPS  Z5, Z4, Z20; \
	VUNPCKHPS  Z5, Z4, Z21; \
	VUNPCKLPS  Z7, Z6, Z22; \
	VUNPCKHPS  Z7, Z6, Z23; \
	VUNPCKLPS  Z9, Z8, Z24; \
	VUNPCKHPS  Z9, Z8, Z25; \
	VUNPCKLPS  Z11, Z10, Z26; \
	VUNPCKHPS  Z11, Z10, Z27; \
	VUNPCKLPS  Z13, Z12, Z28; \
	VUNPCKHPS  Z13, Z12, Z29; \
	VUNPCKLPS  Z15, Z14, Z30; \
	VUNPCKHPS  Z15, Z14, Z31; \
	VUNPCKLPD  Z18, Z16, Z0; \
	VUNPCKHPD  Z18, Z16, Z1; \
	VUNPCKLPD  Z19, Z17, Z2; \
	VUNPCKHPD  Z19, Z17, Z3; \
	VUNPCKLPD  Z22, Z20, Z4; \
	VUNPCKHPD  Z22, Z20, Z5; \
	VUNPCKLPD  Z23, Z21, Z6; \
	VUNPCKHPD  Z23, Z21, Z7; \
	VUNPCKLPD  Z26, Z24, Z8; \
	VUNPCKHPD  Z26, Z24, Z9; \
	VUNPCKLPD  Z27, Z25, Z10; \
	VUNPCKHPD  Z27, Z25, Z11; \
	VUNPCKLPD  Z30, Z28, Z12; \
	VUNPCKHPD  Z30, Z28, Z13; \
	VUNPCKLPD  Z31, Z29, Z14; \
	VUNPCKHPD  Z31, Z29, Z15; \
	VSHUFF32X4 $0x88, Z4, Z0, Z16; \
	VSHUFF32X4 $0xdd, Z4, Z0, Z17; \
	VSHUFF32X4 $0x88, Z12, Z8, Z18; \
	VSHUFF32X4 $0xdd, Z12, Z8, Z19; \
	VSHUFF32X4 $0x88, Z5, Z1, Z20; \
	VSHUFF32X4 $0xdd, Z5, Z1, Z21; \
	VSHUFF32X4 $0x88, Z13, Z9, Z22; \
	VSHUFF32X4 $0xdd, Z13, Z9, Z23; \
	VSHUFF32X4 $0x88, Z6, Z2, Z24; \
	VSHUFF32X4 $0xdd, Z6, Z2, Z25; \
	VSHUFF32X4 $0x88, Z14, Z10, Z26; \
	VSHUFF32X4 $0xdd, Z14, Z10, Z27; \
	VSHUFF32X4 $0x88, Z7, Z3, Z28; \
	VSHUFF32X4 $0xdd, Z7, Z3, Z29; \
	VSHUFF32X4 $0x88, Z15, Z11, Z30; \
	VSHUFF32X4 $0xdd, Z15, Z11, Z31; \
	VSHUFF32X4 $0x88, Z18, Z16, Z0; \
	VSHUFF32X4 $0xdd, Z18, Z16, Z8; \
	VSHUFF32X4 $0x88, Z19, Z17, Z4; \
	VSHUFF32X4 $0xdd, Z19, Z17, Z12; \
	VSHUFF32X4 $0x88, Z22, Z20, Z1; \
	VSHUFF32X4 $0xdd, Z22, Z20, Z9; \
	VSHUFF32X4 $0x88, Z23, Z21, Z5; \
	VSHUFF32X4 $0xdd, Z23, Z21, Z13; \
	VSHUFF32X4 $0x88, Z26, Z24, Z2; \
	VSHUFF32X4 $0xdd, Z26, Z24, Z10; \
	VSHUFF32X4 $0x88, Z27, Z25, Z6; \
	VSHUFF32X4 $0xdd, Z27, Z25, Z14; \
	VSHUFF32X4 $0x88, Z30, Z28, Z3; \
	VSHUFF32X4 $0xdd, Z30, Z28, Z11; \
	VSHUFF32X4 $0x88, Z31, Z29, Z7; \
	VSHUFF32X4 $0xdd, Z31, Z29, Z15

// STORE16 stores columns Z0..Z15 (lanes in K1) dstStride apart from DI.
#define STORE16 \
	MOVQ    DI, AX; \
	VMOVUPS Z0, K1, (AX); ADDQ R9, AX; \
	VMOVUPS Z1, K1, (AX); ADDQ R9, AX; \
	VMOVUPS Z2, K1, (AX); ADDQ R9, AX; \
	VMOVUPS Z3, K1, (AX); ADDQ R9, AX; \
	VMOVUPS Z4, K1, (AX); ADDQ R9, AX; \
	VMOVUPS Z5, K1, (AX); ADDQ R9, AX; \
	VMOVUPS Z6, K1, (AX); ADDQ R9, AX; \
	VMOVUPS Z7, K1, (AX); ADDQ R9, AX; \
	VMOVUPS Z8, K1, (AX); ADDQ R9, AX; \
	VMOVUPS Z9, K1, (AX); ADDQ R9, AX; \
	VMOVUPS Z10, K1, (AX); ADDQ R9, AX; \
	VMOVUPS Z11, K1, (AX); ADDQ R9, AX; \
	VMOVUPS Z12, K1, (AX); ADDQ R9, AX; \
	VMOVUPS Z13, K1, (AX); ADDQ R9, AX; \
	VMOVUPS Z14, K1, (AX); ADDQ R9, AX; \
	VMOVUPS Z15, K1, (AX)

// Load row r of the block (AX walks the rows, R8 apart), scaled by Z31.
#define LOADSCALED(zr) \
	VMULPS (AX), Z31, zr; \
	ADDQ   R8, AX

#define LOAD(zr) \
	VMOVUPS (AX), zr; \
	ADDQ    R8, AX

// func transpose14AVX512(dst, src []float32, ld, chunks, dstStride int, alpha float32)
TEXT ·transpose14AVX512(SB), NOSPLIT, $0-76
	MOVQ  dst_base+0(FP), DI
	MOVQ  src_base+24(FP), SI
	MOVQ  ld+48(FP), R8
	SHLQ  $2, R8
	MOVQ  chunks+56(FP), CX
	MOVQ  dstStride+64(FP), R9
	SHLQ  $2, R9
	MOVL  $0x3fff, AX
	KMOVW AX, K1
	TESTQ CX, CX
	JZ    done14

loop14:
	VBROADCASTSS alpha+72(FP), Z31
	MOVQ         SI, AX
	LOADSCALED(Z0)
	LOADSCALED(Z1)
	LOADSCALED(Z2)
	LOADSCALED(Z3)
	LOADSCALED(Z4)
	LOADSCALED(Z5)
	LOADSCALED(Z6)
	LOADSCALED(Z7)
	LOADSCALED(Z8)
	LOADSCALED(Z9)
	LOADSCALED(Z10)
	LOADSCALED(Z11)
	LOADSCALED(Z12)
	LOADSCALED(Z13)
	VPXORD       Z14, Z14, Z14
	VPXORD       Z15, Z15, Z15
	TRANSPOSE16
	STORE16
	ADDQ         $64, SI
	MOVQ         R9, AX
	SHLQ         $4, AX
	ADDQ         AX, DI
	DECQ         CX
	JNZ          loop14

done14:
	VZEROUPPER
	RET

// func transpose16AVX512(dst, src []float32, ld, chunks, dstStride int)
TEXT ·transpose16AVX512(SB), NOSPLIT, $0-72
	MOVQ  dst_base+0(FP), DI
	MOVQ  src_base+24(FP), SI
	MOVQ  ld+48(FP), R8
	SHLQ  $2, R8
	MOVQ  chunks+56(FP), CX
	MOVQ  dstStride+64(FP), R9
	SHLQ  $2, R9
	MOVL  $0xffff, AX
	KMOVW AX, K1
	TESTQ CX, CX
	JZ    done16

loop16:
	MOVQ SI, AX
	LOAD(Z0)
	LOAD(Z1)
	LOAD(Z2)
	LOAD(Z3)
	LOAD(Z4)
	LOAD(Z5)
	LOAD(Z6)
	LOAD(Z7)
	LOAD(Z8)
	LOAD(Z9)
	LOAD(Z10)
	LOAD(Z11)
	LOAD(Z12)
	LOAD(Z13)
	LOAD(Z14)
	LOAD(Z15)
	TRANSPOSE16
	STORE16
	ADDQ $64, SI
	MOVQ R9, AX
	SHLQ $4, AX
	ADDQ AX, DI
	DECQ CX
	JNZ  loop16

done16:
	VZEROUPPER
	RET

// LOADROW loads source row n−1 (its lanes in K2, the rest zero) into zr
// if there are at least n rows (BX), else jumps to smallloaded.
#define LOADROW(zr, n) \
	CMPQ      BX, $n; \
	JLT       smallloaded; \
	VMOVUPS.Z (AX), K2, zr; \
	ADDQ      R8, AX

// STOREROW stores column n−1, zr (its lanes in K1), if there are at least
// n columns (CX), else jumps to smallstored.
#define STOREROW(zr, n) \
	CMPQ    CX, $n; \
	JLT     smallstored; \
	VMOVUPS zr, K1, (DI); \
	ADDQ    R9, DI

// func transposeSmallAVX512(dst, src []float32, ld, rows, cols, dstStride int)
// Registers past the last row are not loaded: their lanes of the columns
// fall outside K1 and are never stored.
TEXT ·transposeSmallAVX512(SB), NOSPLIT, $0-80
	MOVQ   dst_base+0(FP), DI
	MOVQ   src_base+24(FP), SI
	MOVQ   ld+48(FP), R8
	SHLQ   $2, R8
	MOVQ   rows+56(FP), BX
	MOVQ   cols+64(FP), CX
	MOVQ   dstStride+72(FP), R9
	SHLQ   $2, R9
	MOVQ   $1, AX
	SHLXQ  CX, AX, AX
	DECQ   AX
	KMOVW  AX, K2
	MOVQ   $1, AX
	SHLXQ  BX, AX, AX
	DECQ   AX
	KMOVW  AX, K1
	MOVQ   SI, AX
	LOADROW(Z0, 1)
	LOADROW(Z1, 2)
	LOADROW(Z2, 3)
	LOADROW(Z3, 4)
	LOADROW(Z4, 5)
	LOADROW(Z5, 6)
	LOADROW(Z6, 7)
	LOADROW(Z7, 8)
	LOADROW(Z8, 9)
	LOADROW(Z9, 10)
	LOADROW(Z10, 11)
	LOADROW(Z11, 12)
	LOADROW(Z12, 13)
	LOADROW(Z13, 14)
	LOADROW(Z14, 15)
	LOADROW(Z15, 16)

smallloaded:
	TRANSPOSE16
	STOREROW(Z0, 1)
	STOREROW(Z1, 2)
	STOREROW(Z2, 3)
	STOREROW(Z3, 4)
	STOREROW(Z4, 5)
	STOREROW(Z5, 6)
	STOREROW(Z6, 7)
	STOREROW(Z7, 8)
	STOREROW(Z8, 9)
	STOREROW(Z9, 10)
	STOREROW(Z10, 11)
	STOREROW(Z11, 12)
	STOREROW(Z12, 13)
	STOREROW(Z13, 14)
	STOREROW(Z14, 15)
	STOREROW(Z15, 16)

smallstored:
	VZEROUPPER
	RET

// func copy14AVX512(dst, src []float32, ld, rows int)
// dst[p*14+i] = src[p*ld+i] for p < rows, i < 14: one masked load and one
// masked store per row, touching nothing past each row's 14 values.
TEXT ·copy14AVX512(SB), NOSPLIT, $0-64
	MOVQ  dst_base+0(FP), DI
	MOVQ  src_base+24(FP), SI
	MOVQ  ld+48(FP), R8
	SHLQ  $2, R8
	MOVQ  rows+56(FP), CX
	TESTQ CX, CX
	JZ    c14done
	MOVQ  $0x3fff, AX
	KMOVW AX, K1

c14loop:
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS   Z0, K1, (DI)
	ADDQ      R8, SI
	ADDQ      $56, DI
	DECQ      CX
	JNZ       c14loop
	VZEROUPPER

c14done:
	RET
