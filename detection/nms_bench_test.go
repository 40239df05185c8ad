package detection

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchNMSInput makes n proposal-like boxes on a 1333x800 image (sizes 16..400
// px, heavily overlapping) with random scores, as testdata/bench_torchvision_ops.py.
func benchNMSInput(n int) (boxes, scores []float32, classes []int) {
	rng := rand.New(rand.NewPCG(99, uint64(n)))
	boxes = make([]float32, 0, 4*n)
	for range n {
		cx, cy := rng.Float32()*1333, rng.Float32()*800
		w, h := 16+rng.Float32()*384, 16+rng.Float32()*384
		boxes = append(boxes, cx-w/2, cy-h/2, cx+w/2, cy+h/2)
	}
	scores = randomScores(rng, n, 0)
	classes = make([]int, n)
	for i := range classes {
		classes[i] = rng.IntN(80)
	}
	return boxes, scores, classes
}

func BenchmarkNMS(b *testing.B) {
	for _, n := range []int{500, 2000, 5000} {
		for _, thr := range []float64{0.5, 0.7} {
			b.Run(fmt.Sprintf("n=%d/iou=%g", n, thr), func(b *testing.B) {
				boxes, scores, _ := benchNMSInput(n)
				benchLoop(b, func() error { NMS(boxes, scores, thr, false); return nil })
			})
		}
	}
}

func BenchmarkBatchedNMS(b *testing.B) {
	boxes, scores, classes := benchNMSInput(2000)
	benchLoop(b, func() error { BatchedNMS(boxes, scores, classes, 0.5, false); return nil })
}

// BenchmarkNMSReference is the naive oracle, for scale.
func BenchmarkNMSReference(b *testing.B) {
	boxes, scores, _ := benchNMSInput(500)
	benchLoop(b, func() error { referenceNMS(boxes, scores, 0.7, false); return nil })
}
