package selsearch

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestDisjointSet(t *testing.T) {
	d := newDisjointSet(6)
	r := d.union(d.find(0), d.find(1))
	if d.size[r] != 2 || d.find(0) != d.find(1) {
		t.Fatalf("after union(0,1): size %d, roots %d %d", d.size[r], d.find(0), d.find(1))
	}
	r = d.union(d.find(2), d.find(3))
	r = d.union(d.find(1), d.find(3))
	if d.size[r] != 4 {
		t.Errorf("size of {0,1,2,3} = %d, want 4", d.size[r])
	}
	for _, x := range []int32{0, 1, 2, 3} {
		if d.find(x) != r {
			t.Errorf("find(%d) = %d, want root %d", x, d.find(x), r)
		}
	}
	for _, x := range []int32{4, 5} {
		if d.find(x) != x || d.size[x] != 1 {
			t.Errorf("untouched element %d: root %d size %d", x, d.find(x), d.size[x])
		}
	}
}

func TestRadixSortMatchesStableSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, 1000, 5000} {
		keys := make([]uint32, n)
		vals := make([]uint32, n)
		for i := range keys {
			// Few distinct values, so ties (and stability) matter.
			keys[i] = math.Float32bits(float32(rng.IntN(50)) * 0.37)
			vals[i] = uint32(i)
		}
		type kv struct{ k, v uint32 }
		want := make([]kv, n)
		for i := range want {
			want[i] = kv{keys[i], vals[i]}
		}
		slices.SortStableFunc(want, func(a, b kv) int {
			return cmpFloat(math.Float32frombits(a.k), math.Float32frombits(b.k))
		})
		radixSort(keys, vals)
		for i := range want {
			if keys[i] != want[i].k || vals[i] != want[i].v {
				t.Fatalf("n=%d: element %d = (%v, %d), want (%v, %d)", n, i,
					math.Float32frombits(keys[i]), vals[i], math.Float32frombits(want[i].k), want[i].v)
			}
		}
	}
}

func cmpFloat(a, b float32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// grey makes a one-channel image from rows of values.
func grey(rows ...[]uint8) *planes {
	h, w := len(rows), len(rows[0])
	p := &planes{w: w, h: h, c: 1, pix: make([]uint8, w*h)}
	for y, r := range rows {
		copy(p.pix[y*w:], r)
	}
	return p
}

// halves is a w x h image, left half a, right half b.
func halves(w, h int, a, b uint8) *planes {
	rows := make([][]uint8, h)
	for y := range rows {
		rows[y] = make([]uint8, w)
		for x := range rows[y] {
			rows[y][x] = a
			if x >= w/2 {
				rows[y][x] = b
			}
		}
	}
	return grey(rows...)
}

func TestSegmentThresholds(t *testing.T) {
	tests := []struct {
		name      string
		img       *planes
		k         float64
		minRegion int
		want      int // segments
	}{
		{"constant image is one segment", halves(8, 8, 10, 10), 1, 0, 1},
		{"strong edge splits at small k", halves(8, 8, 10, 200), 1, 0, 2},
		// k/|C| grows the tolerance of small components: at k = 1e5 two
		// 32-pixel halves (k/32 > 190) merge across the 190 step.
		{"large k merges across the edge", halves(8, 8, 10, 200), 1e5, 0, 1},
		{"min region joins small segments", halves(8, 8, 10, 200), 1, 40, 1},
		{"min region below segment size keeps both", halves(8, 8, 10, 200), 1, 32, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seg := buildGraph(tt.img, 0).segment(tt.k, tt.minRegion)
			if seg.n != tt.want {
				t.Fatalf("segments = %d, want %d", seg.n, tt.want)
			}
			if tt.want == 2 && (seg.labels[0] == seg.labels[7] || seg.labels[0] != seg.labels[3]) {
				t.Errorf("labels of row 0 = %v, want the halves split at x=4", seg.labels[:8])
			}
		})
	}
}

func TestSegmentInternalDifference(t *testing.T) {
	// A gentle ramp (steps of 2) with one jump of 30. Columns join first
	// (weight 0), then the ramp steps while components are small (k/|C| is
	// large); with k = 30 a half of 18 pixels tolerates 2 + 30/18 = 3.7,
	// far below the jump, so the jump separates two segments.
	row := []uint8{0, 2, 4, 6, 8, 10, 40, 42, 44, 46, 48, 50}
	seg := buildGraph(grey(row, row, row), 0).segment(30, 0)
	if seg.n != 2 {
		t.Fatalf("segments = %d, want 2 (labels %v)", seg.n, seg.labels[:12])
	}
	if seg.labels[5] == seg.labels[6] || seg.labels[0] != seg.labels[5] || seg.labels[6] != seg.labels[11] {
		t.Errorf("labels %v: want the split between x=5 and x=6", seg.labels[:12])
	}
}

func TestGaussianKernels(t *testing.T) {
	g := gaussianKernel(0.8)
	var sum float64
	for _, v := range g {
		sum += float64(v)
	}
	if math.Abs(sum-1) > 1e-6 || len(g) != 9 {
		t.Errorf("gaussian(0.8): %d taps summing to %v, want 9 taps summing to 1", len(g), sum)
	}
	// The derivative kernel applied to a ramp of slope 1 gives about 1.
	d := derivativeKernel(1)
	var resp float64
	for i, v := range d {
		resp += float64(v) * float64(i)
	}
	if math.Abs(resp-1) > 0.01 {
		t.Errorf("derivative kernel on a unit ramp = %v, want about 1", resp)
	}
}

func TestColourConversions(t *testing.T) {
	tests := []struct {
		r, g, b uint8
		hsv     [3]uint8
		lab     [3]uint8
	}{
		{255, 0, 0, [3]uint8{0, 255, 255}, [3]uint8{136, 208, 195}},
		{0, 255, 0, [3]uint8{60, 255, 255}, [3]uint8{224, 42, 211}},
		{0, 0, 255, [3]uint8{120, 255, 255}, [3]uint8{82, 207, 20}},
		{255, 255, 255, [3]uint8{0, 0, 255}, [3]uint8{255, 128, 128}},
		{0, 0, 0, [3]uint8{0, 0, 0}, [3]uint8{0, 128, 128}},
	}
	lin := srgbToLinear()
	for _, tt := range tests {
		h, s, v := hsv(tt.r, tt.g, tt.b)
		if [3]uint8{h, s, v} != tt.hsv {
			t.Errorf("hsv(%d,%d,%d) = %v, want %v", tt.r, tt.g, tt.b, [3]uint8{h, s, v}, tt.hsv)
		}
		l, a, bb := lab(lin, tt.r, tt.g, tt.b)
		got := [3]uint8{l, a, bb}
		for i := range got {
			if d := int(got[i]) - int(tt.lab[i]); d < -1 || d > 1 {
				t.Errorf("lab(%d,%d,%d) = %v, want %v (OpenCV, +-1)", tt.r, tt.g, tt.b, got, tt.lab)
				break
			}
		}
	}
}
