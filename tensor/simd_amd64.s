//go:build !noasm

#include "textflag.h"

// Vector loops of the CPU device's hottest elementwise passes. Each takes a
// count that is a multiple of its block (16 values, or 4 for the float64
// sums; the row loops mask a row's last values instead) and computes exactly what the scalar Go loop it replaces computes:
// the same operations, rounded the same way, in the same order per element
// (the sums keep the Go loops' four float64 accumulators as four lanes).

// The row loops of addRowsAVX512 and addEvensRowsAVX512: ROWSARGS loads
// their arguments (DI dst, SI src, CX w, DX rows, R8 and R9 the strides in
// bytes), ROWSTART points R10 and R11 at a row and R12 at its count of
// whole blocks (CX) and sets ZF when there are none, ROWNEXT steps to the
// next row and sets ZF after the last.
#define ROWSARGS \
	MOVQ dst+0(FP), DI; \
	MOVQ src+8(FP), SI; \
	MOVQ w+16(FP), CX; \
	MOVQ rows+24(FP), DX; \
	MOVQ dstStride+32(FP), R8; \
	MOVQ srcStride+40(FP), R9; \
	SHLQ $2, R8; \
	SHLQ $2, R9

#define ROWSTART \
	MOVQ  DI, R10; \
	MOVQ  SI, R11; \
	MOVQ  CX, R12; \
	TESTQ R12, R12

#define ROWNEXT \
	ADDQ R8, DI; \
	ADDQ R9, SI; \
	DECQ DX

// func reluAVX512(dst, src *float32, n int)
// dst = max(src, 0) as Go computes it: NaN stays NaN with its sign bit
// cleared, −0 becomes +0. VMAXPS keeps its second source for NaN and −0;
// clearing the sign bit then changes nothing else.
TEXT ·reluAVX512(SB), NOSPLIT, $0-24
	MOVQ   dst+0(FP), DI
	MOVQ   src+8(FP), SI
	MOVQ   n+16(FP), CX
	SHRQ   $4, CX
	JZ     reludone
	VPXORD Z0, Z0, Z0
	MOVL   $0x7fffffff, AX
	VPBROADCASTD AX, Z3

reluloop:
	VMOVUPS (SI), Z1
	VMAXPS  Z1, Z0, Z2
	VPANDD  Z3, Z2, Z2
	VMOVUPS Z2, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     reluloop
	VZEROUPPER

reludone:
	RET

// func reluGradAVX512(dx, dy, y *float32, n int)
// dx = dy where y's bits as int32 are > 0 (y > 0 or a positive NaN), else +0.
TEXT ·reluGradAVX512(SB), NOSPLIT, $0-32
	MOVQ   dx+0(FP), DI
	MOVQ   dy+8(FP), DX
	MOVQ   y+16(FP), SI
	MOVQ   n+24(FP), CX
	SHRQ   $4, CX
	JZ     rgdone
	VPXORD Z0, Z0, Z0

rgloop:
	VMOVDQU32 (SI), Z1
	VPCMPGTD  Z0, Z1, K1
	VMOVUPS.Z (DX), K1, Z2
	VMOVUPS   Z2, (DI)
	ADDQ      $64, SI
	ADDQ      $64, DX
	ADDQ      $64, DI
	DECQ      CX
	JNZ       rgloop
	VZEROUPPER

rgdone:
	RET

// func affineAVX512(dst, src *float32, n int, a, b float32)
// dst = src*a + b, the product rounded before the add (no FMA).
TEXT ·affineAVX512(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	SHRQ         $4, CX
	JZ           afdone
	VBROADCASTSS a+24(FP), Z3
	VBROADCASTSS b+28(FP), Z4

afloop:
	VMULPS  (SI), Z3, Z1
	VADDPS  Z4, Z1, Z1
	VMOVUPS Z1, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     afloop
	VZEROUPPER

afdone:
	RET

// func addAVX512(dst, src *float32, n int)
// dst += src.
TEXT ·addAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	JZ   adddone

addloop:
	VMOVUPS (DI), Z1
	VADDPS  (SI), Z1, Z1
	VMOVUPS Z1, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     addloop
	VZEROUPPER

adddone:
	RET

// TAIL16MASK leaves K1 masking the last w mod 16 values of a row (CX w),
// AX their count and CX the whole vectors.
#define TAIL16MASK \
	MOVQ  CX, AX; \
	ANDQ  $15, AX; \
	MOVQ  $1, BX; \
	SHLXQ AX, BX, BX; \
	DECQ  BX; \
	KMOVW BX, K1; \
	SHRQ  $4, CX

// ROWS16LOOP runs vec on each whole vector of every row (R10 dst, R11
// src), then tail on the last AX values under K1, and returns.
#define ROWS16LOOP(vec, tail) \
rowloop: \
	ROWSTART; \
	JZ rowtail; \
rowvec: \
	vec; \
	ADDQ $64, R10; \
	ADDQ $64, R11; \
	DECQ R12; \
	JNZ  rowvec; \
rowtail: \
	TESTQ AX, AX; \
	JZ    rownext; \
	tail; \
rownext: \
	ROWNEXT; \
	JNZ rowloop; \
	VZEROUPPER; \
	RET

#define ADDVEC \
	VMOVUPS (R10), Z1; \
	VADDPS  (R11), Z1, Z1; \
	VMOVUPS Z1, (R10)

#define ADDTAIL \
	VMOVUPS.Z (R10), K1, Z1; \
	VMOVUPS.Z (R11), K1, Z2; \
	VADDPS    Z2, Z1, Z1; \
	VMOVUPS   Z1, K1, (R10)

#define COPYVEC \
	VMOVUPS (R11), Z1; \
	VMOVUPS Z1, (R10)

#define COPYTAIL \
	VMOVUPS.Z (R11), K1, Z1; \
	VMOVUPS   Z1, K1, (R10)

// func addRowsAVX512(dst, src *float32, w, rows, dstStride, srcStride int)
// dst[r·dstStride + i] += src[r·srcStride + i] for r < rows, i < w (w ≥ 1):
// whole vectors, then the last w mod 16 values under a mask, which also
// keeps the loads from reading past a row.
TEXT ·addRowsAVX512(SB), NOSPLIT, $0-48
	ROWSARGS
	TAIL16MASK
	ROWS16LOOP(ADDVEC, ADDTAIL)

// func copyRowsAVX512(dst, src *float32, w, rows, dstStride, srcStride int)
// dst[r·dstStride + i] = src[r·srcStride + i] for r < rows, i < w (w ≥ 1),
// as addRowsAVX512 goes.
TEXT ·copyRowsAVX512(SB), NOSPLIT, $0-48
	ROWSARGS
	TAIL16MASK
	ROWS16LOOP(COPYVEC, COPYTAIL)

// func evensRowsAVX512(dst, src *float32, w, rows, dstStride, srcStride int, masks uint64)
// dst[r·dstStride + i] = src[r·srcStride + 2i] for r < rows, i < w (w ≥ 1):
// 16 values from 32 by one two-table permute (evenIdx), the last 1..16 of
// a row from loads under the masks in masks' low 16 bits (first 16 values)
// and next 16 (second 16), so that no load reads past src[2(w-1)], and a
// store under the mask in bits 32..47.
TEXT ·evensRowsAVX512(SB), NOSPLIT, $0-56
	ROWSARGS
	MOVQ      masks+48(FP), BX
	KMOVW     BX, K1
	SHRQ      $16, BX
	KMOVW     BX, K2
	SHRQ      $16, BX
	KMOVW     BX, K3
	DECQ      CX
	SHRQ      $4, CX
	VMOVDQU32 evenIdx<>(SB), Z3

errow:
	ROWSTART
	JZ ertail

ervec:
	VMOVUPS   (R11), Z1
	VPERMT2PS 64(R11), Z3, Z1
	VMOVUPS   Z1, (R10)
	ADDQ      $128, R11
	ADDQ      $64, R10
	DECQ      R12
	JNZ       ervec

ertail:
	VMOVUPS.Z (R11), K1, Z1
	VMOVUPS.Z 64(R11), K2, Z2
	VPERMT2PS Z2, Z3, Z1
	VMOVUPS   Z1, K3, (R10)
	ROWNEXT
	JNZ errow
	VZEROUPPER
	RET

// func addEvensRowsAVX512(dst, src *float32, w, rows, dstStride, srcStride int)
// dst[r·dstStride + 2i] += src[r·srcStride + i] for r < rows, i < w (w ≥ 1):
// eight values at a time expanded into the even lanes, loaded and stored
// under the even-lane mask so the odd values are left as they are.
TEXT ·addEvensRowsAVX512(SB), NOSPLIT, $0-48
	ROWSARGS
	MOVQ  $0x5555, BX
	KMOVW BX, K2
	MOVQ  CX, AX
	ANDQ  $7, AX
	SHLQ  $1, AX
	MOVQ  $1, R13
	SHLXQ AX, R13, R13
	DECQ  R13
	ANDQ  BX, R13
	KMOVW R13, K3
	SHRQ  $3, CX

aerow:
	ROWSTART
	JZ aetail

aevec:
	VEXPANDPS.Z (R11), K2, Z2
	VMOVUPS.Z   (R10), K2, Z1
	VADDPS      Z2, Z1, Z1
	VMOVUPS     Z1, K2, (R10)
	ADDQ        $32, R11
	ADDQ        $64, R10
	DECQ        R12
	JNZ         aevec

aetail:
	TESTQ       AX, AX
	JZ          aenext
	VEXPANDPS.Z (R11), K3, Z2
	VMOVUPS.Z   (R10), K3, Z1
	VADDPS      Z2, Z1, Z1
	VMOVUPS     Z1, K3, (R10)

aenext:
	ROWNEXT
	JNZ aerow
	VZEROUPPER
	RET

// func bnGradAVX512(dst, xs, gs *float32, n int, p *[5]float32)
// dst = k·((g − meanG) − ((x − m)·inv)·meanGX), p = {m, inv, meanG, meanGX, k},
// each operation rounded as the Go loop rounds it.
TEXT ·bnGradAVX512(SB), NOSPLIT, $0-40
	MOVQ         dst+0(FP), DI
	MOVQ         xs+8(FP), SI
	MOVQ         gs+16(FP), DX
	MOVQ         n+24(FP), CX
	MOVQ         p+32(FP), AX
	SHRQ         $4, CX
	JZ           bndone
	VBROADCASTSS 0(AX), Z10
	VBROADCASTSS 4(AX), Z11
	VBROADCASTSS 8(AX), Z12
	VBROADCASTSS 12(AX), Z13
	VBROADCASTSS 16(AX), Z14

bnloop:
	VMOVUPS (SI), Z1
	VSUBPS  Z10, Z1, Z1 // x − m
	VMULPS  Z11, Z1, Z1 // x̂ = (x − m)·inv
	VMULPS  Z13, Z1, Z1 // x̂·meanGX
	VMOVUPS (DX), Z2
	VSUBPS  Z12, Z2, Z2 // g − meanG
	VSUBPS  Z1, Z2, Z2  // (g − meanG) − x̂·meanGX
	VMULPS  Z14, Z2, Z2 // k·(…)
	VMOVUPS Z2, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $64, DI
	DECQ    CX
	JNZ     bnloop
	VZEROUPPER

bndone:
	RET

// func dotSumAVX(gs, xs *float32, n int, acc *[8]float64)
// acc[0:4] += g and acc[4:8] += g·x, lane i%4 for value i (the products
// of two float32 are exact in float64, so FMA rounds as mul-then-add).
TEXT ·dotSumAVX(SB), NOSPLIT, $0-32
	MOVQ    gs+0(FP), SI
	MOVQ    xs+8(FP), DX
	MOVQ    n+16(FP), CX
	MOVQ    acc+24(FP), AX
	VMOVUPD 0(AX), Y0
	VMOVUPD 32(AX), Y1
	SHRQ    $2, CX
	JZ      dsstore

dsloop:
	VCVTPS2PD   (SI), Y2
	VCVTPS2PD   (DX), Y3
	VADDPD      Y2, Y0, Y0
	VFMADD231PD Y3, Y2, Y1
	ADDQ        $16, SI
	ADDQ        $16, DX
	DECQ        CX
	JNZ         dsloop

dsstore:
	VMOVUPD Y0, 0(AX)
	VMOVUPD Y1, 32(AX)
	VZEROUPPER
	RET

// func sum2AVX(xs *float32, n int, acc *[8]float64)
// acc[0:4] += x and acc[4:8] += x², lane i%4 for value i.
TEXT ·sum2AVX(SB), NOSPLIT, $0-24
	MOVQ    xs+0(FP), SI
	MOVQ    n+8(FP), CX
	MOVQ    acc+16(FP), AX
	VMOVUPD 0(AX), Y0
	VMOVUPD 32(AX), Y1
	SHRQ    $2, CX
	JZ      s2store

s2loop:
	VCVTPS2PD   (SI), Y2
	VADDPD      Y2, Y0, Y0
	VFMADD231PD Y2, Y2, Y1
	ADDQ        $16, SI
	DECQ        CX
	JNZ         s2loop

s2store:
	VMOVUPD Y0, 0(AX)
	VMOVUPD Y1, 32(AX)
	VZEROUPPER
	RET

// evenIdx picks the even lanes of two 16-float tables (VPERMT2PS indices).
DATA evenIdx<>+0(SB)/4, $0
DATA evenIdx<>+4(SB)/4, $2
DATA evenIdx<>+8(SB)/4, $4
DATA evenIdx<>+12(SB)/4, $6
DATA evenIdx<>+16(SB)/4, $8
DATA evenIdx<>+20(SB)/4, $10
DATA evenIdx<>+24(SB)/4, $12
DATA evenIdx<>+28(SB)/4, $14
DATA evenIdx<>+32(SB)/4, $16
DATA evenIdx<>+36(SB)/4, $18
DATA evenIdx<>+40(SB)/4, $20
DATA evenIdx<>+44(SB)/4, $22
DATA evenIdx<>+48(SB)/4, $24
DATA evenIdx<>+52(SB)/4, $26
DATA evenIdx<>+56(SB)/4, $28
DATA evenIdx<>+60(SB)/4, $30
GLOBL evenIdx<>(SB), RODATA|NOPTR, $64
