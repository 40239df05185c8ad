package safetensors

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/detflow/detflow/float16"
)

// DType is a safetensors element type, spelled as in the header.
type DType string

// The element types this package knows. Reading converts F16, BF16 and F64
// to float32 and every integer type and BOOL to int64.
const (
	F32  DType = "F32"
	F16  DType = "F16"
	BF16 DType = "BF16"
	F64  DType = "F64"
	I64  DType = "I64"
	I32  DType = "I32"
	I16  DType = "I16"
	I8   DType = "I8"
	U8   DType = "U8"
	U16  DType = "U16"
	U32  DType = "U32"
	U64  DType = "U64"
	BOOL DType = "BOOL"
)

// Size returns the bytes per element, or 0 for an unknown type.
func (d DType) Size() int {
	switch d {
	case BOOL, U8, I8:
		return 1
	case F16, BF16, I16, U16:
		return 2
	case F32, I32, U32:
		return 4
	case F64, I64, U64:
		return 8
	}
	return 0
}

// IsFloat reports whether d is read into Tensor.F32.
func (d DType) IsFloat() bool {
	return d == F32 || d == F16 || d == BF16 || d == F64
}

// decodeFloats converts n little-endian elements of a float type.
func decodeFloats(d DType, b []byte, n int) []float32 {
	out := make([]float32, n)
	le := binary.LittleEndian
	switch d {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
	case F64:
		for i := range out {
			out[i] = float32(math.Float64frombits(le.Uint64(b[8*i:])))
		}
	case F16:
		for i := range out {
			out[i] = float16.ToFloat32(le.Uint16(b[2*i:]))
		}
	case BF16:
		for i := range out {
			out[i] = math.Float32frombits(uint32(le.Uint16(b[2*i:])) << 16)
		}
	}
	return out
}

// decodeInts converts n little-endian elements of an integer or bool type.
func decodeInts(d DType, b []byte, n int) ([]int64, error) {
	out := make([]int64, n)
	le := binary.LittleEndian
	for i := range out {
		switch d {
		case I64:
			out[i] = int64(le.Uint64(b[8*i:]))
		case U64:
			u := le.Uint64(b[8*i:])
			if u > math.MaxInt64 {
				return nil, fmt.Errorf("element %d: U64 value %d does not fit in int64", i, u)
			}
			out[i] = int64(u)
		case I32:
			out[i] = int64(int32(le.Uint32(b[4*i:])))
		case U32:
			out[i] = int64(le.Uint32(b[4*i:]))
		case I16:
			out[i] = int64(int16(le.Uint16(b[2*i:])))
		case U16:
			out[i] = int64(le.Uint16(b[2*i:]))
		case I8:
			out[i] = int64(int8(b[i]))
		case U8:
			out[i] = int64(b[i])
		case BOOL:
			if b[i] > 1 {
				return nil, fmt.Errorf("element %d: BOOL byte %d is neither 0 nor 1", i, b[i])
			}
			out[i] = int64(b[i])
		}
	}
	return out, nil
}
