//go:build !noasm

#include "textflag.h"

// func fmaPeakAVX512(iters int, x float32) float32
//
// 24 independent zmm accumulators each take acc += x*x per iteration:
// 24 chains cover the 4-cycle FMA latency of both FMA pipes several times
// over, so the loop runs at the FMA throughput limit.
TEXT ·fmaPeakAVX512(SB), NOSPLIT, $0-20
	MOVQ         iters+0(FP), CX
	VBROADCASTSS x+8(FP), Z31
	VPXORD       Z0, Z0, Z0
	VPXORD       Z1, Z1, Z1
	VPXORD       Z2, Z2, Z2
	VPXORD       Z3, Z3, Z3
	VPXORD       Z4, Z4, Z4
	VPXORD       Z5, Z5, Z5
	VPXORD       Z6, Z6, Z6
	VPXORD       Z7, Z7, Z7
	VPXORD       Z8, Z8, Z8
	VPXORD       Z9, Z9, Z9
	VPXORD       Z10, Z10, Z10
	VPXORD       Z11, Z11, Z11
	VPXORD       Z12, Z12, Z12
	VPXORD       Z13, Z13, Z13
	VPXORD       Z14, Z14, Z14
	VPXORD       Z15, Z15, Z15
	VPXORD       Z16, Z16, Z16
	VPXORD       Z17, Z17, Z17
	VPXORD       Z18, Z18, Z18
	VPXORD       Z19, Z19, Z19
	VPXORD       Z20, Z20, Z20
	VPXORD       Z21, Z21, Z21
	VPXORD       Z22, Z22, Z22
	VPXORD       Z23, Z23, Z23
	TESTQ        CX, CX
	JZ           done

loop:
	VFMADD231PS Z31, Z31, Z0
	VFMADD231PS Z31, Z31, Z1
	VFMADD231PS Z31, Z31, Z2
	VFMADD231PS Z31, Z31, Z3
	VFMADD231PS Z31, Z31, Z4
	VFMADD231PS Z31, Z31, Z5
	VFMADD231PS Z31, Z31, Z6
	VFMADD231PS Z31, Z31, Z7
	VFMADD231PS Z31, Z31, Z8
	VFMADD231PS Z31, Z31, Z9
	VFMADD231PS Z31, Z31, Z10
	VFMADD231PS Z31, Z31, Z11
	VFMADD231PS Z31, Z31, Z12
	VFMADD231PS Z31, Z31, Z13
	VFMADD231PS Z31, Z31, Z14
	VFMADD231PS Z31, Z31, Z15
	VFMADD231PS Z31, Z31, Z16
	VFMADD231PS Z31, Z31, Z17
	VFMADD231PS Z31, Z31, Z18
	VFMADD231PS Z31, Z31, Z19
	VFMADD231PS Z31, Z31, Z20
	VFMADD231PS Z31, Z31, Z21
	VFMADD231PS Z31, Z31, Z22
	VFMADD231PS Z31, Z31, Z23
	DECQ        CX
	JNZ         loop

done:
	// Fold the chains so none of them is dead, return lane 0.
	VADDPS Z1, Z0, Z0
	VADDPS Z23, Z0, Z0
	MOVSS  X0, ret+16(FP)
	VZEROUPPER
	RET

// func fmaPeakAVX2(iters int, x float32) float32
//
// 12 independent ymm accumulators each take acc += x*x per iteration.
TEXT ·fmaPeakAVX2(SB), NOSPLIT, $0-20
	MOVQ         iters+0(FP), CX
	VBROADCASTSS x+8(FP), Y15
	VXORPS       Y0, Y0, Y0
	VXORPS       Y1, Y1, Y1
	VXORPS       Y2, Y2, Y2
	VXORPS       Y3, Y3, Y3
	VXORPS       Y4, Y4, Y4
	VXORPS       Y5, Y5, Y5
	VXORPS       Y6, Y6, Y6
	VXORPS       Y7, Y7, Y7
	VXORPS       Y8, Y8, Y8
	VXORPS       Y9, Y9, Y9
	VXORPS       Y10, Y10, Y10
	VXORPS       Y11, Y11, Y11
	TESTQ        CX, CX
	JZ           done

loop:
	VFMADD231PS Y15, Y15, Y0
	VFMADD231PS Y15, Y15, Y1
	VFMADD231PS Y15, Y15, Y2
	VFMADD231PS Y15, Y15, Y3
	VFMADD231PS Y15, Y15, Y4
	VFMADD231PS Y15, Y15, Y5
	VFMADD231PS Y15, Y15, Y6
	VFMADD231PS Y15, Y15, Y7
	VFMADD231PS Y15, Y15, Y8
	VFMADD231PS Y15, Y15, Y9
	VFMADD231PS Y15, Y15, Y10
	VFMADD231PS Y15, Y15, Y11
	DECQ        CX
	JNZ         loop

done:
	VADDPS Y1, Y0, Y0
	VADDPS Y11, Y0, Y0
	MOVSS  X0, ret+16(FP)
	VZEROUPPER
	RET
