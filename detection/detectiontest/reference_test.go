package detectiontest

import "testing"

func TestReferenceNMS(t *testing.T) {
	boxes := []float32{0, 0, 10, 10, 1, 1, 10, 10, 20, 20, 30, 30, 0, 0, 10, 5}
	scores := []float32{0.9, 0.8, 0.7, 0.95}
	// Box 3 (IoU 0.5 with box 0) is kept first; box 0 survives (0.5 is not
	// > 0.5); box 1 overlaps box 0 by 0.81.
	got := ReferenceNMS(boxes, scores, 0.5, false)
	if want := []int{3, 0, 2}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("kept %v, want %v", got, want)
	}
}

func TestReferenceRoIAlignConstant(t *testing.T) {
	data := make([]float32, 2*5*6)
	for i := range data {
		data[i] = float32(i / 30) // channel 0 is 0, channel 1 is 1
	}
	p := RoIAlignParams{OutH: 2, OutW: 2, SpatialScale: 1, SamplingRatio: 2, Aligned: true}
	out := ReferenceRoIAlign(data, 1, 2, 5, 6, []float32{0, 1, 1, 4, 4}, p)
	want := []float32{0, 0, 0, 0, 1, 1, 1, 1}
	if msg := AllClose(out, want, Tolerance{Atol: 1e-6}); msg != "" {
		t.Fatal(msg)
	}
	// The backward of a sum spreads total mass 1 per output value and channel.
	grad := ReferenceRoIAlignBackward([]float32{1, 1, 1, 1, 1, 1, 1, 1}, 1, 2, 5, 6, []float32{0, 1, 1, 4, 4}, p)
	var s float32
	for _, v := range grad[:30] {
		s += v
	}
	if s < 3.9999 || s > 4.0001 {
		t.Fatalf("gradient mass %g, want 4", s)
	}
}
