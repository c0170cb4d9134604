//go:build amd64 && !purego

#include "textflag.h"

// func xorBlocks(dst, src []byte, key uint64)
TEXT ·xorBlocks(SB), NOSPLIT, $0-56
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	SHRQ $6, CX       // whole 64-byte blocks
	JZ   done
	CMPB ·useAVX2(SB), $1
	JEQ  avx2
	MOVQ key+48(FP), X0
	PUNPCKLQDQ X0, X0 // the key word in both halves

sse2:
	MOVOU 0(SI), X1
	MOVOU 16(SI), X2
	MOVOU 32(SI), X3
	MOVOU 48(SI), X4
	PXOR  X0, X1
	PXOR  X0, X2
	PXOR  X0, X3
	PXOR  X0, X4
	MOVOU X1, 0(DI)
	MOVOU X2, 16(DI)
	MOVOU X3, 32(DI)
	MOVOU X4, 48(DI)
	ADDQ  $64, SI
	ADDQ  $64, DI
	DECQ  CX
	JNZ   sse2

done:
	RET

avx2:
	VPBROADCASTQ key+48(FP), Y0 // the key word in all four quarters

avx2loop:
	VMOVDQU 0(SI), Y1
	VMOVDQU 32(SI), Y2
	VPXOR   Y0, Y1, Y1
	VPXOR   Y0, Y2, Y2
	VMOVDQU Y1, 0(DI)
	VMOVDQU Y2, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     avx2loop
	VZEROUPPER
	RET

// func cpuHasAVX2() bool
//
// AVX2 is usable when the processor has it (CPUID leaf 7, EBX bit 5), has
// AVX and XSAVE enabled by the OS (leaf 1, ECX bits 27 and 28), and the OS
// saves the YMM registers on a context switch (XCR0 bits 1 and 2).
TEXT ·cpuHasAVX2(SB), NOSPLIT, $0-1
	XORL AX, AX
	XORL CX, CX
	CPUID
	CMPL AX, $7
	JLT  no
	MOVL $1, AX
	XORL CX, CX
	CPUID
	ANDL $0x18000000, CX
	CMPL CX, $0x18000000
	JNE  no
	XORL CX, CX
	XGETBV
	ANDL $6, AX
	CMPL AX, $6
	JNE  no
	MOVL $7, AX
	XORL CX, CX
	CPUID
	BTL  $5, BX
	JCC  no
	MOVB $1, ret+0(FP)
	RET

no:
	MOVB $0, ret+0(FP)
	RET
