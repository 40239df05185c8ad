package float16

import "math"

// BFloat16ToFloat32 converts a bfloat16 value (the top half of a float32)
// exactly.
func BFloat16ToFloat32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// BFloat16FromFloat32 converts f to bfloat16, rounding to nearest with ties
// to even. bfloat16 has float32's exponent range, so only values within
// half a step of the largest finite float32 overflow to infinity, and
// subnormals stay subnormal. A NaN stays a quiet NaN.
func BFloat16FromFloat32(f float32) uint16 {
	b := math.Float32bits(f)
	if f != f {
		return uint16(b>>16) | 0x40
	}
	return uint16(roundShift(b, 16))
}

// RoundBF16 is f rounded to the nearest bfloat16 value, as a float32.
func RoundBF16(f float32) float32 { return BFloat16ToFloat32(BFloat16FromFloat32(f)) }
