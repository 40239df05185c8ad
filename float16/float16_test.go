package float16

import (
	"math"
	"testing"
)

func TestToFloat32(t *testing.T) {
	tests := map[uint16]float32{
		0x0000: 0, 0x3c00: 1, 0xc000: -2, 0x7bff: 65504, 0x0001: 1.0 / (1 << 24),
		0x8001: -1.0 / (1 << 24), 0x3555: 0.333251953125, 0x0400: 1.0 / (1 << 14),
	}
	for h, want := range tests {
		if got := ToFloat32(h); got != want {
			t.Errorf("ToFloat32(%#04x) = %v, want %v", h, got, want)
		}
	}
	if !math.IsInf(float64(ToFloat32(0x7c00)), 1) || !math.IsInf(float64(ToFloat32(0xfc00)), -1) {
		t.Error("infinities")
	}
	if v := ToFloat32(0x7e00); v == v {
		t.Error("NaN expected")
	}
	if math.Signbit(float64(ToFloat32(0x8000))) != true {
		t.Error("negative zero lost its sign")
	}
}
