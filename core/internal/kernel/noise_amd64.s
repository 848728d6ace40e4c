//go:build amd64

#include "textflag.h"

// Constants of BoxMuller, one float32 or int32 each.
DATA ·bmOneInt+0(SB)/4, $0x00000001
GLOBL ·bmOneInt(SB), RODATA|NOPTR, $4
DATA ·bmTwoInt+0(SB)/4, $0x00000002
GLOBL ·bmTwoInt(SB), RODATA|NOPTR, $4
DATA ·bmMantMask+0(SB)/4, $0x007fffff
GLOBL ·bmMantMask(SB), RODATA|NOPTR, $4
DATA ·bmOneBits+0(SB)/4, $0x3f800000
GLOBL ·bmOneBits(SB), RODATA|NOPTR, $4
DATA ·bmTwoM24+0(SB)/4, $0x33800000
GLOBL ·bmTwoM24(SB), RODATA|NOPTR, $4
DATA ·bmSqrt2+0(SB)/4, $0x3fb504f3
GLOBL ·bmSqrt2(SB), RODATA|NOPTR, $4
DATA ·bmHalf+0(SB)/4, $0x3f000000
GLOBL ·bmHalf(SB), RODATA|NOPTR, $4
DATA ·bmLn2+0(SB)/4, $0x3f317218
GLOBL ·bmLn2(SB), RODATA|NOPTR, $4
DATA ·bmMinusTwo+0(SB)/4, $0xc0000000
GLOBL ·bmMinusTwo(SB), RODATA|NOPTR, $4
DATA ·bmFour+0(SB)/4, $0x40800000
GLOBL ·bmFour(SB), RODATA|NOPTR, $4
DATA ·bmQuarter+0(SB)/4, $0x3e800000
GLOBL ·bmQuarter(SB), RODATA|NOPTR, $4
DATA ·bmTwoPi+0(SB)/4, $0x40c90fdb
GLOBL ·bmTwoPi(SB), RODATA|NOPTR, $4
DATA ·bmSin1+0(SB)/4, $0xbe2aaaab
GLOBL ·bmSin1(SB), RODATA|NOPTR, $4
DATA ·bmSin2+0(SB)/4, $0x3c088889
GLOBL ·bmSin2(SB), RODATA|NOPTR, $4
DATA ·bmSin3+0(SB)/4, $0xb9500d01
GLOBL ·bmSin3(SB), RODATA|NOPTR, $4
DATA ·bmSin4+0(SB)/4, $0x3638ef1d
GLOBL ·bmSin4(SB), RODATA|NOPTR, $4
DATA ·bmCos1+0(SB)/4, $0xbf000000
GLOBL ·bmCos1(SB), RODATA|NOPTR, $4
DATA ·bmCos2+0(SB)/4, $0x3d2aaaab
GLOBL ·bmCos2(SB), RODATA|NOPTR, $4
DATA ·bmCos3+0(SB)/4, $0xbab60b61
GLOBL ·bmCos3(SB), RODATA|NOPTR, $4
DATA ·bmCos4+0(SB)/4, $0x37d00d01
GLOBL ·bmCos4(SB), RODATA|NOPTR, $4
DATA ·bmCos5+0(SB)/4, $0xb493f27e
GLOBL ·bmCos5(SB), RODATA|NOPTR, $4

// func BoxMuller(bits *uint32, out *float32, pairs int, std float32)
//
// For i < pairs, with u1 = ((bits[i] >> 8) + 1)·2^-24 in (0, 1] and
// u2 = (bits[pairs+i] >> 8)·2^-24 in [0, 1):
//
//	out[i]       = std·sqrt(-2 ln u1)·cos(2π u2)
//	out[pairs+i] = std·sqrt(-2 ln u1)·sin(2π u2)
//
// ln is evaluated as e·ln2 + 2·atanh(s) with s = (m-1)/(m+1) for the
// mantissa m in [√½, √2), summed to s^9; sin and cos of the angle reduced
// to [-π/4, π/4] by Taylor polynomials to x^9 and x^10. pairs must be a
// multiple of 8.
TEXT ·BoxMuller(SB), NOSPLIT, $0-28
	MOVQ bits+0(FP), SI
	MOVQ out+8(FP), DI
	MOVQ pairs+16(FP), CX
	MOVQ CX, R8
	SHLQ $2, R8 // byte offset of the second half
	SHRQ $3, CX
	JZ   bmdone
	VBROADCASTSS std+24(FP), Y14

bmloop:
	VMOVDQU (SI), Y0
	VMOVDQU (SI)(R8*1), Y1

	// u1 in (0, 1] and its logarithm.
	VPSRLD       $8, Y0, Y0
	VPBROADCASTD ·bmOneInt(SB), Y15
	VPADDD       Y15, Y0, Y0
	VCVTDQ2PS    Y0, Y0
	VBROADCASTSS ·bmTwoM24(SB), Y15
	VMULPS       Y15, Y0, Y0
	VPSRLD       $23, Y0, Y2
	VPBROADCASTD ·bmMantMask(SB), Y15
	VPAND        Y15, Y0, Y3
	VPBROADCASTD ·bmOneBits(SB), Y15
	VPOR         Y15, Y3, Y3
	VBROADCASTSS ·bmSqrt2(SB), Y15
	VCMPPS       $0x1e, Y15, Y3, Y4
	VBROADCASTSS ·bmHalf(SB), Y15
	VMULPS       Y15, Y3, Y5
	VBLENDVPS    Y4, Y5, Y3, Y3
	VPSUBD       Y4, Y2, Y2
	VPBROADCASTD ·bias127(SB), Y15
	VPSUBD       Y15, Y2, Y2
	VCVTDQ2PS    Y2, Y2
	VBROADCASTSS ·one(SB), Y15
	VSUBPS       Y15, Y3, Y4
	VADDPS       Y15, Y3, Y5
	VDIVPS       Y5, Y4, Y4
	VMULPS       Y4, Y4, Y5
	VBROADCASTSS ·log4(SB), Y6
	VBROADCASTSS ·log3(SB), Y15
	VFMADD213PS  Y15, Y5, Y6
	VBROADCASTSS ·log2(SB), Y15
	VFMADD213PS  Y15, Y5, Y6
	VBROADCASTSS ·log1(SB), Y15
	VFMADD213PS  Y15, Y5, Y6
	VBROADCASTSS ·log0(SB), Y15
	VFMADD213PS  Y15, Y5, Y6
	VMULPS       Y4, Y6, Y6
	VADDPS       Y6, Y6, Y6
	VBROADCASTSS ·bmLn2(SB), Y15
	VFMADD231PS  Y15, Y2, Y6

	// Radius std·sqrt(-2 ln u1).
	VBROADCASTSS ·bmMinusTwo(SB), Y15
	VMULPS       Y15, Y6, Y6
	VSQRTPS      Y6, Y7
	VMULPS       Y14, Y7, Y7

	// u2 in [0, 1) in turns, reduced to x in [-π/4, π/4] and quadrant q.
	VPSRLD       $8, Y1, Y1
	VCVTDQ2PS    Y1, Y1
	VBROADCASTSS ·bmTwoM24(SB), Y15
	VMULPS       Y15, Y1, Y1
	VROUNDPS     $0, Y1, Y8
	VSUBPS       Y8, Y1, Y1
	VBROADCASTSS ·bmFour(SB), Y15
	VMULPS       Y15, Y1, Y8
	VROUNDPS     $0, Y8, Y8
	VBROADCASTSS ·bmQuarter(SB), Y15
	VFNMADD231PS Y15, Y8, Y1
	VBROADCASTSS ·bmTwoPi(SB), Y15
	VMULPS       Y15, Y1, Y1
	VCVTPS2DQ    Y8, Y8
	VMULPS       Y1, Y1, Y9

	// sin x in Y2, cos x in Y3.
	VBROADCASTSS ·bmSin4(SB), Y2
	VBROADCASTSS ·bmSin3(SB), Y15
	VFMADD213PS  Y15, Y9, Y2
	VBROADCASTSS ·bmSin2(SB), Y15
	VFMADD213PS  Y15, Y9, Y2
	VBROADCASTSS ·bmSin1(SB), Y15
	VFMADD213PS  Y15, Y9, Y2
	VBROADCASTSS ·one(SB), Y15
	VFMADD213PS  Y15, Y9, Y2
	VMULPS       Y1, Y2, Y2
	VBROADCASTSS ·bmCos5(SB), Y3
	VBROADCASTSS ·bmCos4(SB), Y15
	VFMADD213PS  Y15, Y9, Y3
	VBROADCASTSS ·bmCos3(SB), Y15
	VFMADD213PS  Y15, Y9, Y3
	VBROADCASTSS ·bmCos2(SB), Y15
	VFMADD213PS  Y15, Y9, Y3
	VBROADCASTSS ·bmCos1(SB), Y15
	VFMADD213PS  Y15, Y9, Y3
	VBROADCASTSS ·one(SB), Y15
	VFMADD213PS  Y15, Y9, Y3

	// Rotate by q quarter turns: odd q swaps sin and cos, and the signs
	// follow the quadrant.
	VPSLLD       $31, Y8, Y4
	VPBROADCASTD ·bmOneInt(SB), Y15
	VPADDD       Y15, Y8, Y5
	VPBROADCASTD ·bmTwoInt(SB), Y15
	VPAND        Y15, Y5, Y5
	VPSLLD       $30, Y5, Y5
	VPAND        Y15, Y8, Y6
	VPSLLD       $30, Y6, Y6
	VBLENDVPS    Y4, Y2, Y3, Y10
	VBLENDVPS    Y4, Y3, Y2, Y11
	VXORPS       Y5, Y10, Y10
	VXORPS       Y6, Y11, Y11

	VMULPS       Y7, Y10, Y10
	VMULPS       Y7, Y11, Y11
	VMOVUPS      Y10, (DI)
	VMOVUPS      Y11, (DI)(R8*1)
	ADDQ         $32, SI
	ADDQ         $32, DI
	DECQ         CX
	JNZ          bmloop

bmdone:
	VZEROUPPER
	RET
