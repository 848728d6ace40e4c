//go:build amd64

#include "textflag.h"

// Constants of the float32 exp and log1p below, one float32 (or int32) each.
DATA ·absMask+0(SB)/4, $0x7fffffff
GLOBL ·absMask(SB), RODATA|NOPTR, $4
DATA ·expLimit+0(SB)/4, $0x42ae0000
GLOBL ·expLimit(SB), RODATA|NOPTR, $4
DATA ·log2E+0(SB)/4, $0x3fb8aa3b
GLOBL ·log2E(SB), RODATA|NOPTR, $4
DATA ·ln2Hi+0(SB)/4, $0x3f318000
GLOBL ·ln2Hi(SB), RODATA|NOPTR, $4
DATA ·ln2Lo+0(SB)/4, $0xb95e8083
GLOBL ·ln2Lo(SB), RODATA|NOPTR, $4
DATA ·one+0(SB)/4, $0x3f800000
GLOBL ·one(SB), RODATA|NOPTR, $4
DATA ·two+0(SB)/4, $0x40000000
GLOBL ·two(SB), RODATA|NOPTR, $4
DATA ·bias127+0(SB)/4, $0x0000007f
GLOBL ·bias127(SB), RODATA|NOPTR, $4
DATA ·exp0+0(SB)/4, $0x3f800000
GLOBL ·exp0(SB), RODATA|NOPTR, $4
DATA ·exp1+0(SB)/4, $0x3f800000
GLOBL ·exp1(SB), RODATA|NOPTR, $4
DATA ·exp2+0(SB)/4, $0x3f000000
GLOBL ·exp2(SB), RODATA|NOPTR, $4
DATA ·exp3+0(SB)/4, $0x3e2aaaab
GLOBL ·exp3(SB), RODATA|NOPTR, $4
DATA ·exp4+0(SB)/4, $0x3d2aaaab
GLOBL ·exp4(SB), RODATA|NOPTR, $4
DATA ·exp5+0(SB)/4, $0x3c088889
GLOBL ·exp5(SB), RODATA|NOPTR, $4
DATA ·exp6+0(SB)/4, $0x3ab60b61
GLOBL ·exp6(SB), RODATA|NOPTR, $4
DATA ·exp7+0(SB)/4, $0x39500d01
GLOBL ·exp7(SB), RODATA|NOPTR, $4
DATA ·log0+0(SB)/4, $0x3f800000
GLOBL ·log0(SB), RODATA|NOPTR, $4
DATA ·log1+0(SB)/4, $0x3eaaaaab
GLOBL ·log1(SB), RODATA|NOPTR, $4
DATA ·log2+0(SB)/4, $0x3e4ccccd
GLOBL ·log2(SB), RODATA|NOPTR, $4
DATA ·log3+0(SB)/4, $0x3e124925
GLOBL ·log3(SB), RODATA|NOPTR, $4
DATA ·log4+0(SB)/4, $0x3de38e39
GLOBL ·log4(SB), RODATA|NOPTR, $4
DATA ·log5+0(SB)/4, $0x3dba2e8c
GLOBL ·log5(SB), RODATA|NOPTR, $4
DATA ·log6+0(SB)/4, $0x3d9d89d9
GLOBL ·log6(SB), RODATA|NOPTR, $4
DATA ·log7+0(SB)/4, $0x3d888889
GLOBL ·log7(SB), RODATA|NOPTR, $4

// EXPNEG sets Y6 = e^{-Y1} for Y1 >= 0 lanes (NaN propagates): Y1 is clamped
// to 87, reduced as Y1 = k·ln2 - r with |r| <= ln2/2 (ln2 split in a high
// and a low part), e^r is the degree-7 Taylor polynomial (truncation error
// below 6e-9 relative) and 2^-k is built in the exponent bits. It clobbers
// Y1-Y5 and Y10.
#define EXPNEG \
	VBROADCASTSS ·expLimit(SB), Y10 \
	VMINPS       Y1, Y10, Y1 \
	VBROADCASTSS ·log2E(SB), Y10 \
	VMULPS       Y10, Y1, Y2 \
	VCVTPS2DQ    Y2, Y3 \
	VCVTDQ2PS    Y3, Y2 \
	VBROADCASTSS ·ln2Hi(SB), Y10 \
	VMULPS       Y10, Y2, Y4 \
	VSUBPS       Y1, Y4, Y4 \
	VBROADCASTSS ·ln2Lo(SB), Y10 \
	VFMADD231PS  Y10, Y2, Y4 \
	VBROADCASTSS ·exp7(SB), Y5 \
	VBROADCASTSS ·exp6(SB), Y10 \
	VFMADD213PS  Y10, Y4, Y5 \
	VBROADCASTSS ·exp5(SB), Y10 \
	VFMADD213PS  Y10, Y4, Y5 \
	VBROADCASTSS ·exp4(SB), Y10 \
	VFMADD213PS  Y10, Y4, Y5 \
	VBROADCASTSS ·exp3(SB), Y10 \
	VFMADD213PS  Y10, Y4, Y5 \
	VBROADCASTSS ·exp2(SB), Y10 \
	VFMADD213PS  Y10, Y4, Y5 \
	VBROADCASTSS ·exp1(SB), Y10 \
	VFMADD213PS  Y10, Y4, Y5 \
	VBROADCASTSS ·exp0(SB), Y10 \
	VFMADD213PS  Y10, Y4, Y5 \
	VBROADCASTSS ·bias127(SB), Y10 \
	VPSUBD       Y3, Y10, Y3 \
	VPSLLD       $23, Y3, Y3 \
	VMULPS       Y3, Y5, Y6

// func Softplus(z, r, df *float32, n int)
//
// r[i] = ln(1 + e^{z[i]}) and df[i] = sigmoid(z[i]) for i < n; n must be a
// multiple of 8. ln(1+e) for e = e^{-|z|} in (0, 1] is 2·atanh(s) with
// s = e/(2+e) <= 1/3, summed to s^15 (first omitted term below 1e-8).
TEXT ·Softplus(SB), NOSPLIT, $0-32
	MOVQ z+0(FP), SI
	MOVQ r+8(FP), DI
	MOVQ df+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ   spdone
	VBROADCASTSS ·one(SB), Y11
	VXORPS       Y12, Y12, Y12

sploop:
	VMOVUPS      (SI), Y0
	VBROADCASTSS ·absMask(SB), Y1
	VANDPS       Y0, Y1, Y1
	EXPNEG

	VBROADCASTSS ·two(SB), Y10
	VADDPS       Y6, Y10, Y7
	VDIVPS       Y7, Y6, Y7
	VMULPS       Y7, Y7, Y8
	VBROADCASTSS ·log7(SB), Y9
	VBROADCASTSS ·log6(SB), Y10
	VFMADD213PS  Y10, Y8, Y9
	VBROADCASTSS ·log5(SB), Y10
	VFMADD213PS  Y10, Y8, Y9
	VBROADCASTSS ·log4(SB), Y10
	VFMADD213PS  Y10, Y8, Y9
	VBROADCASTSS ·log3(SB), Y10
	VFMADD213PS  Y10, Y8, Y9
	VBROADCASTSS ·log2(SB), Y10
	VFMADD213PS  Y10, Y8, Y9
	VBROADCASTSS ·log1(SB), Y10
	VFMADD213PS  Y10, Y8, Y9
	VBROADCASTSS ·log0(SB), Y10
	VFMADD213PS  Y10, Y8, Y9
	VMULPS       Y7, Y9, Y9
	VADDPS       Y9, Y9, Y9
	VMAXPS       Y0, Y12, Y13
	VADDPS       Y9, Y13, Y13

	VADDPS       Y6, Y11, Y1
	VBLENDVPS    Y0, Y6, Y11, Y14
	VDIVPS       Y1, Y14, Y14

	VMOVUPS      Y13, (DI)
	VMOVUPS      Y14, (DX)
	ADDQ         $32, SI
	ADDQ         $32, DI
	ADDQ         $32, DX
	DECQ         CX
	JNZ          sploop

spdone:
	VZEROUPPER
	RET

// func Sigmoid(y *float32, n int)
//
// y[i] = 1/(1 + e^{-y[i]}) for i < n; n must be a multiple of 8.
TEXT ·Sigmoid(SB), NOSPLIT, $0-16
	MOVQ y+0(FP), SI
	MOVQ n+8(FP), CX
	SHRQ $3, CX
	JZ   sgdone
	VBROADCASTSS ·one(SB), Y11

sgloop:
	VMOVUPS      (SI), Y0
	VBROADCASTSS ·absMask(SB), Y1
	VANDPS       Y0, Y1, Y1
	EXPNEG
	VADDPS       Y6, Y11, Y1
	VBLENDVPS    Y0, Y6, Y11, Y14
	VDIVPS       Y1, Y14, Y14
	VMOVUPS      Y14, (SI)
	ADDQ         $32, SI
	DECQ         CX
	JNZ          sgloop

sgdone:
	VZEROUPPER
	RET

// func LeakySoftplus(z, bias, prev, r, df *float32, n int, alpha, keep float32)
//
// With u = z[i] + bias[i]: r[i] = keep·prev[i] + alpha·ln(1 + e^u) and
// df[i] = sigmoid(u) for i < n, as Softplus computes them; n must be a
// multiple of 8.
TEXT ·LeakySoftplus(SB), NOSPLIT, $0-56
	MOVQ z+0(FP), SI
	MOVQ bias+8(FP), BX
	MOVQ prev+16(FP), R8
	MOVQ r+24(FP), DI
	MOVQ df+32(FP), DX
	MOVQ n+40(FP), CX
	SHRQ $3, CX
	JZ   lsdone
	VBROADCASTSS ·one(SB), Y11
	VXORPS       Y12, Y12, Y12

lsloop:
	VMOVUPS      (SI), Y0
	VADDPS       (BX), Y0, Y0
	VBROADCASTSS ·absMask(SB), Y1
	VANDPS       Y0, Y1, Y1
	EXPNEG

	VBROADCASTSS ·two(SB), Y10
	VADDPS       Y6, Y10, Y7
	VDIVPS       Y7, Y6, Y7
	VMULPS       Y7, Y7, Y8
	VBROADCASTSS ·log7(SB), Y9
	VBROADCASTSS ·log6(SB), Y10
	VFMADD213PS  Y10, Y8, Y9
	VBROADCASTSS ·log5(SB), Y10
	VFMADD213PS  Y10, Y8, Y9
	VBROADCASTSS ·log4(SB), Y10
	VFMADD213PS  Y10, Y8, Y9
	VBROADCASTSS ·log3(SB), Y10
	VFMADD213PS  Y10, Y8, Y9
	VBROADCASTSS ·log2(SB), Y10
	VFMADD213PS  Y10, Y8, Y9
	VBROADCASTSS ·log1(SB), Y10
	VFMADD213PS  Y10, Y8, Y9
	VBROADCASTSS ·log0(SB), Y10
	VFMADD213PS  Y10, Y8, Y9
	VMULPS       Y7, Y9, Y9
	VADDPS       Y9, Y9, Y9
	VMAXPS       Y0, Y12, Y13
	VADDPS       Y9, Y13, Y13

	VADDPS       Y6, Y11, Y1
	VBLENDVPS    Y0, Y6, Y11, Y14
	VDIVPS       Y1, Y14, Y14

	VBROADCASTSS alpha+48(FP), Y15
	VMULPS       Y15, Y13, Y13
	VBROADCASTSS keep+52(FP), Y15
	VFMADD231PS  (R8), Y15, Y13

	VMOVUPS      Y13, (DI)
	VMOVUPS      Y14, (DX)
	ADDQ         $32, SI
	ADDQ         $32, BX
	ADDQ         $32, R8
	ADDQ         $32, DI
	ADDQ         $32, DX
	DECQ         CX
	JNZ          lsloop


lsdone:
	VZEROUPPER
	RET

// func LeakyBackward(dr, df, dz, prevDr *float32, n int, alpha, keep float32)
//
// dz[i] = alpha·dr[i]·df[i] and prevDr[i] += keep·dr[i] for i < n; n must be
// a multiple of 8.
TEXT ·LeakyBackward(SB), NOSPLIT, $0-48
	MOVQ dr+0(FP), SI
	MOVQ df+8(FP), BX
	MOVQ dz+16(FP), DI
	MOVQ prevDr+24(FP), DX
	MOVQ n+32(FP), CX
	SHRQ $3, CX
	JZ   lbdone
	VBROADCASTSS alpha+40(FP), Y14
	VBROADCASTSS keep+44(FP), Y15

lbloop:
	VMOVUPS     (SI), Y0
	VMULPS      (BX), Y0, Y1
	VMULPS      Y14, Y1, Y1
	VMOVUPS     Y1, (DI)
	VMOVUPS     (DX), Y2
	VFMADD231PS Y0, Y15, Y2
	VMOVUPS     Y2, (DX)
	ADDQ        $32, SI
	ADDQ        $32, BX
	ADDQ        $32, DI
	ADDQ        $32, DX
	DECQ        CX
	JNZ         lbloop

lbdone:
	VZEROUPPER
	RET
