// Package float16 converts between float32 and the two 16-bit formats that
// numpy, PyTorch and safetensors files store and that mixed-precision
// training computes in: IEEE 754 binary16 (half) and bfloat16. Conversions
// to 16 bits round to nearest, ties to even, as the hardware's and
// PyTorch's casts do; Round and RoundBF16 are those casts and back, the
// rounding that an emulated half-precision operation applies.
package float16

import "math"

// ToFloat32 converts a binary16 value exactly (every half is a float32).
func ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf and NaN keep their payload
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: mant * 2^-24
		v := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// FromFloat32 converts f to binary16, rounding to nearest with ties to
// even: magnitudes from 65520 up become infinity, those below 2^-14 become
// subnormals (steps of 2^-24), those up to 2^-25 zero (keeping the sign).
// A NaN stays a quiet NaN.
func FromFloat32(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant == 0 {
			return sign | 0x7c00
		}
		return sign | 0x7e00 | uint16(mant>>13)
	}
	e := exp - 127 + 15 // the biased half exponent
	switch {
	case e >= 0x1f:
		return sign | 0x7c00
	case e <= 0: // subnormal in half: the significand in units of 2^-24
		if e < -10 {
			return sign // below 2^-25, nearer zero than the smallest subnormal
		}
		return sign | uint16(roundShift(mant|0x800000, uint32(14-e)))
	}
	// A carry out of the mantissa moves into the exponent, up to infinity.
	return sign | uint16(roundShift(uint32(e)<<23|mant, 13))
}

// roundShift is m >> s rounded to nearest, ties to even.
func roundShift(m, s uint32) uint32 {
	q, rem, half := m>>s, m&(1<<s-1), uint32(1)<<(s-1)
	if rem > half || (rem == half && q&1 == 1) {
		q++
	}
	return q
}

// Round is f rounded to the nearest binary16 value, as a float32.
func Round(f float32) float32 { return ToFloat32(FromFloat32(f)) }
