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

// TestFromFloat32 checks values whose binary16 patterns numpy's cast gives
// (astype(np.float16)): ties to even, overflow to infinity, subnormals.
func TestFromFloat32(t *testing.T) {
	tests := []struct {
		f    float32
		want uint16
	}{
		{1.0 / 3, 0x3555},
		{65504, 0x7bff},
		{65519.99, 0x7bff}, // just under the midpoint to infinity
		{65520, 0x7c00},    // the midpoint: ties to even is infinity
		{1e6, 0x7c00},
		{-1e6, 0xfc00},
		{1e-8, 0x0000},
		{0x1p-25, 0x0000},                      // half the smallest subnormal: tie to even 0
		{math.Nextafter32(0x1p-25, 1), 0x0001}, // just over it
		{3 * 0x1p-26, 0x0001},                  // 1.5 units: tie, odd 1 stays
		{1.5 * 0x1p-24, 0x0002},                // 1.5 units: tie to even 2
		{2.5 * 0x1p-24, 0x0002},                // 2.5 units: tie to even 2
		{1 + 0x1p-10 + 0x1p-11, 0x3c02},        // mantissa tie rounds up to even
		{1 + 0x1p-11, 0x3c00},                  // mantissa tie rounds down to even
		{-0.1, 0xae66},
		{0x1p-14 - 0x1p-25, 0x0400}, // rounds up from the subnormals into the normals
	}
	for _, tc := range tests {
		if got := FromFloat32(tc.f); got != tc.want {
			t.Errorf("FromFloat32(%g) = %#04x, want %#04x", tc.f, got, tc.want)
		}
	}
	if got := FromFloat32(float32(math.Copysign(0, -1))); got != 0x8000 {
		t.Errorf("-0 = %#04x, want 0x8000", got)
	}
	if got := FromFloat32(float32(math.NaN())); got&0x7c00 != 0x7c00 || got&0x3ff == 0 {
		t.Errorf("NaN = %#04x, want a NaN pattern", got)
	}
}

// TestFromFloat32EveryHalf: every half survives the round trip, and each
// midpoint between neighbours rounds to the even one, a hair either side
// to the nearer one.
func TestFromFloat32EveryHalf(t *testing.T) {
	for h := uint32(0); h < 0x7c00; h++ { // positive finite halves; the sign is a separate bit
		lo, hi := ToFloat32(uint16(h)), ToFloat32(uint16(h+1))
		if got := FromFloat32(lo); got != uint16(h) {
			t.Fatalf("round trip of %#04x gave %#04x", h, got)
		}
		if got := FromFloat32(-lo); got != uint16(h)|0x8000 {
			t.Fatalf("round trip of -%#04x gave %#04x", h, got)
		}
		if h == 0x7bff {
			break // the midpoint to infinity is TestFromFloat32's 65520
		}
		mid := float32((float64(lo) + float64(hi)) / 2) // exact: 11 significant bits plus one
		even := uint16(h)
		if h&1 == 1 {
			even = uint16(h + 1)
		}
		if got := FromFloat32(mid); got != even {
			t.Fatalf("midpoint %g of %#04x and %#04x gave %#04x, want %#04x", mid, h, h+1, got, even)
		}
		if got := FromFloat32(math.Nextafter32(mid, 0)); got != uint16(h) {
			t.Fatalf("just under midpoint %g gave %#04x, want %#04x", mid, got, h)
		}
		if got := FromFloat32(math.Nextafter32(mid, 1e9)); got != uint16(h+1) {
			t.Fatalf("just over midpoint %g gave %#04x, want %#04x", mid, got, h+1)
		}
	}
}

// TestBFloat16 checks torch's .to(torch.bfloat16) patterns and the round
// trip of every finite bfloat16 with its midpoints.
func TestBFloat16(t *testing.T) {
	tests := []struct {
		f    float32
		want uint16
	}{
		{1.0 / 3, 0x3eab}, {65520, 0x4780}, {1e-8, 0x322c}, {0x1p-25, 0x3300},
		{-0.1, 0xbdcd}, {1 + 0x1p-8, 0x3f80}, {1 + 0x1p-7 + 0x1p-8, 0x3f82},
		{math.MaxFloat32, 0x7f80}, {0x1p-128, 0x0020}, // overflow to inf; a subnormal stays
	}
	for _, tc := range tests {
		if got := BFloat16FromFloat32(tc.f); got != tc.want {
			t.Errorf("BFloat16FromFloat32(%g) = %#04x, want %#04x", tc.f, got, tc.want)
		}
	}
	if v := RoundBF16(float32(math.NaN())); v == v {
		t.Error("NaN expected")
	}
	for h := uint32(0); h < 0x7f80; h++ {
		lo, hi := BFloat16ToFloat32(uint16(h)), BFloat16ToFloat32(uint16(h+1))
		if got := BFloat16FromFloat32(lo); got != uint16(h) {
			t.Fatalf("round trip of %#04x gave %#04x", h, got)
		}
		mid := math.Float32frombits(h<<16 | 0x8000)
		want := uint16(h + h&1)
		if got := BFloat16FromFloat32(mid); got != want || !(mid > lo && mid < hi) {
			t.Fatalf("midpoint %g of %#04x gave %#04x, want %#04x", mid, h, got, want)
		}
	}
}

func TestRound(t *testing.T) {
	if got := Round(0.1); got != 0.0999755859375 {
		t.Errorf("Round(0.1) = %v", got)
	}
	if got := Round(70000); !math.IsInf(float64(got), 1) {
		t.Errorf("Round(70000) = %v, want +Inf", got)
	}
	if got := RoundBF16(0.1); got != 0.10009765625 {
		t.Errorf("RoundBF16(0.1) = %v", got)
	}
}
