//go:build amd64 && !purego

#include "textflag.h"

// func xorBlocks(dst, src []byte, key uint64)
TEXT ·xorBlocks(SB), NOSPLIT, $0-56
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	MOVQ key+48(FP), AX
	MOVQ AX, X0
	PUNPCKLQDQ X0, X0 // the key word in both halves
	SHRQ $6, CX       // whole 64-byte blocks
	JZ   done

loop:
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
	JNZ   loop

done:
	RET
