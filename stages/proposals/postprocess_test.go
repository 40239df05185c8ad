package proposals

import (
	"math"
	"testing"
)

func TestFinish(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name                 string
		boxes, scores        []float32
		minSize              float64
		topK                 int
		wantBoxes, wantScore []float32
	}{
		{"clips to the image", []float32{-5, -1, 12, 30}, []float32{1}, 0, 0, []float32{0, 0, 10, 20}, []float32{1}},
		{"drops empty boxes after clipping", []float32{11, 0, 15, 5, 0, 0, 3, 3}, []float32{0.9, 0.1}, 0, 0, []float32{0, 0, 3, 3}, []float32{0.1}},
		{"drops sides below min_size", []float32{0, 0, 1.5, 8, 0, 0, 2, 8}, []float32{0.9, 0.1}, 2, 0, []float32{0, 0, 2, 8}, []float32{0.1}},
		{"sorts by score, ties keep order", []float32{0, 0, 1, 1, 0, 0, 2, 2, 0, 0, 3, 3}, []float32{0.5, 0.9, 0.5}, 0, 0,
			[]float32{0, 0, 2, 2, 0, 0, 1, 1, 0, 0, 3, 3}, []float32{0.9, 0.5, 0.5}},
		{"keeps top k", []float32{0, 0, 1, 1, 0, 0, 2, 2, 0, 0, 3, 3}, []float32{0.1, 0.2, 0.3}, 0, 2,
			[]float32{0, 0, 3, 3, 0, 0, 2, 2}, []float32{0.3, 0.2}},
		{"drops non-finite values", []float32{0, 0, nan, 1, 0, 0, 2, 2}, []float32{0.9, nan}, 0, 0, []float32{}, []float32{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, s := finish(tt.boxes, tt.scores, 10, 20, tt.minSize, tt.topK)
			if !near(b, tt.wantBoxes, 0) || !near(s, tt.wantScore, 0) {
				t.Errorf("got %v %v, want %v %v", b, s, tt.wantBoxes, tt.wantScore)
			}
		})
	}
}
