package detection

import (
	"math"
	"testing"
)

func TestBaseAnchors(t *testing.T) {
	s2 := float32(math.Sqrt2)
	for _, tc := range []struct {
		name string
		gen  AnchorGenerator
		want []float32
	}{
		{"v2 stride 4 scale 8", AnchorGenerator{Strides: []int{4}, Scales: []float64{8}, Ratios: []float64{0.5, 1, 2}},
			[]float32{-16 * s2, -8 * s2, 16 * s2, 8 * s2, -16, -16, 16, 16, -8 * s2, -16 * s2, 8 * s2, 16 * s2}},
		{"torchvision rounds", AnchorGenerator{Strides: []int{4}, Scales: []float64{8}, Ratios: []float64{0.5, 1, 2}, RoundBase: true},
			[]float32{-23, -11, 23, 11, -16, -16, 16, 16, -11, -23, 11, 23}},
		{"ratio major", AnchorGenerator{Strides: []int{1}, Scales: []float64{2, 4}, Ratios: []float64{1, 4}},
			[]float32{-1, -1, 1, 1, -2, -2, 2, 2, -0.5, -2, 0.5, 2, -1, -4, 1, 4}},
		{"center offset", AnchorGenerator{Strides: []int{8}, Scales: []float64{1}, Ratios: []float64{1}, CenterOffset: 0.5},
			[]float32{0, 0, 8, 8}},
		// MMDetection's LegacyAnchorGenerator docstring example.
		{"legacy docstring", AnchorGenerator{Strides: []int{16}, BaseSizes: []float64{9}, Scales: []float64{1}, Ratios: []float64{1}, CenterOffset: 0.5, Legacy: true},
			[]float32{0, 0, 8, 8}},
		// v1: base 16, scale 8, ratio 1 -> centre 7.5, half extent 63.5.
		{"legacy v1 size 128", AnchorGenerator{Strides: []int{16}, Scales: []float64{8}, Ratios: []float64{1}, CenterOffset: 0.5, Legacy: true},
			[]float32{-56, -56, 71, 71}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.gen.Validate(); err != nil {
				t.Fatal(err)
			}
			allClose(t, "base", tc.gen.BaseAnchors(0), tc.want, 1e-6, 1e-6)
		})
	}
}

func TestGridAnchorsOrder(t *testing.T) {
	g := AnchorGenerator{Strides: []int{16}, BaseSizes: []float64{9}, Scales: []float64{1}, Ratios: []float64{1}, CenterOffset: 0.5, Legacy: true}
	want := []float32{0, 0, 8, 8, 16, 0, 24, 8, 0, 16, 8, 24, 16, 16, 24, 24}
	allClose(t, "grid", g.GridAnchors(0, 2, 2), want, 0, 0)

	r := RPNAnchors()
	a := r.GridAnchors(1, 3, 5)
	if got, want := NumBoxes(a), 3*5*3; got != want {
		t.Fatalf("got %d anchors, want %d", got, want)
	}
	// Anchor (y=2, x=4, ratio index 1) is the base anchor shifted by (32, 16).
	base := r.BaseAnchors(1)
	i := (2*5+4)*3 + 1
	allClose(t, "shifted", a[4*i:4*i+4], []float32{base[4] + 32, base[5] + 16, base[6] + 32, base[7] + 16}, 0, 0)
}

func TestValidFlags(t *testing.T) {
	g := AnchorGenerator{Strides: []int{8}, Scales: []float64{1}, Ratios: []float64{0.5, 2}}
	// Feature map 3x4 of a batch padded to 24x32; this image is 17x20 pixels
	// padded, so locations y < ceil(17/8)=3 and x < ceil(20/8)=3 are valid.
	got := g.ValidFlags(0, 3, 4, 17, 20)
	for y := 0; y < 3; y++ {
		for x := 0; x < 4; x++ {
			for a := 0; a < 2; a++ {
				if want := x < 3; got[(y*4+x)*2+a] != want {
					t.Errorf("valid(y=%d, x=%d, a=%d) = %v, want %v", y, x, a, !want, want)
				}
			}
		}
	}
}

func TestInsideFlags(t *testing.T) {
	anchors := []float32{-1, 0, 5, 5, 0, 0, 10, 10, 2, 2, 11, 9}
	valid := []bool{true, true, false}
	for _, tc := range []struct {
		border float32
		want   []bool
	}{
		{0, []bool{false, false, false}},
		{1, []bool{true, true, false}},
		{-1, []bool{true, true, false}},
	} {
		got := InsideFlags(anchors, valid, 10, 10, tc.border)
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("border %g: inside[%d] = %v, want %v", tc.border, i, got[i], tc.want[i])
			}
		}
	}
}

func TestAnchorGeneratorValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		gen  AnchorGenerator
	}{
		{"no strides", AnchorGenerator{Scales: []float64{8}, Ratios: []float64{1}}},
		{"zero stride", AnchorGenerator{Strides: []int{0}, Scales: []float64{8}, Ratios: []float64{1}}},
		{"negative ratio", AnchorGenerator{Strides: []int{4}, Scales: []float64{8}, Ratios: []float64{-1}}},
		{"base sizes count", AnchorGenerator{Strides: []int{4, 8}, BaseSizes: []float64{4}, Scales: []float64{8}, Ratios: []float64{1}}},
		{"offset 1", AnchorGenerator{Strides: []int{4}, Scales: []float64{8}, Ratios: []float64{1}, CenterOffset: 1}},
	} {
		if err := tc.gen.Validate(); err == nil {
			t.Errorf("%s: Validate returned nil", tc.name)
		}
	}
}
