package pth

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/detflow/detflow/float16"
)

// storageType is a resolved torch.<Type>Storage class: the element type
// of a storage referenced from data.pkl.
type storageType struct {
	dtype    string
	itemSize int
}

// storageTypes maps PyTorch's storage class names to element types.
var storageTypes = map[string]storageType{
	"FloatStorage":    {"float32", 4},
	"HalfStorage":     {"float16", 2},
	"BFloat16Storage": {"bfloat16", 2},
	"DoubleStorage":   {"float64", 8},
	"LongStorage":     {"int64", 8},
	"IntStorage":      {"int32", 4},
	"ShortStorage":    {"int16", 2},
	"CharStorage":     {"int8", 1},
	"ByteStorage":     {"uint8", 1},
	"BoolStorage":     {"bool", 1},
	"UntypedStorage":  {"uint8", 1},
}

func isFloatDType(d string) bool {
	return d == "float32" || d == "float16" || d == "bfloat16" || d == "float64"
}

// storage is one storage record, decoded to float32 or int64 elements.
// It is created when data.pkl first names it and filled when its bytes are
// read.
type storage struct {
	key    string
	dtype  string
	numel  int64
	loaded bool
	f32    []float32
	i64    []int64
}

func (s *storage) len() int {
	if s.f32 != nil {
		return len(s.f32)
	}
	return len(s.i64)
}

// fill decodes the storage's raw bytes, numel elements of type st in byte
// order bo.
func (s *storage) fill(st storageType, raw []byte, bo binary.ByteOrder) error {
	if int64(len(raw)) != s.numel*int64(st.itemSize) {
		return fmt.Errorf("storage %q: %d bytes, want %d (%d %s elements)", s.key, len(raw), s.numel*int64(st.itemSize), s.numel, st.dtype)
	}
	n := int(s.numel)
	if isFloatDType(st.dtype) {
		s.f32 = make([]float32, n)
		for i := range s.f32 {
			s.f32[i] = floatAt(st.dtype, raw, i, bo)
		}
		s.loaded = true
		return nil
	}
	s.i64 = make([]int64, n)
	for i := range s.i64 {
		v, err := intAt(st.dtype, raw, i, bo)
		if err != nil {
			return fmt.Errorf("storage %q: %w", s.key, err)
		}
		s.i64[i] = v
	}
	s.loaded = true
	return nil
}

func floatAt(dtype string, raw []byte, i int, bo binary.ByteOrder) float32 {
	switch dtype {
	case "float16":
		return float16.ToFloat32(bo.Uint16(raw[2*i:]))
	case "bfloat16":
		return math.Float32frombits(uint32(bo.Uint16(raw[2*i:])) << 16)
	case "float64":
		return float32(math.Float64frombits(bo.Uint64(raw[8*i:])))
	}
	return math.Float32frombits(bo.Uint32(raw[4*i:]))
}

func intAt(dtype string, raw []byte, i int, bo binary.ByteOrder) (int64, error) {
	switch dtype {
	case "int64":
		return int64(bo.Uint64(raw[8*i:])), nil
	case "int32":
		return int64(int32(bo.Uint32(raw[4*i:]))), nil
	case "int16":
		return int64(int16(bo.Uint16(raw[2*i:]))), nil
	case "int8":
		return int64(int8(raw[i])), nil
	case "uint8":
		return int64(raw[i]), nil
	case "bool":
		if raw[i] > 1 {
			return 0, fmt.Errorf("element %d: bool byte %d is neither 0 nor 1", i, raw[i])
		}
		return int64(raw[i]), nil
	}
	return 0, fmt.Errorf("element type %q not supported", dtype)
}
