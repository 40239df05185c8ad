package detectiontest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// NMSFunc is an NMS implementation under test: kept indices by decreasing
// score, ties by increasing index.
type NMSFunc func(boxes, scores []float32, iouThr float64) []int

// RoIAlignFunc is a RoIAlign implementation under test (forward).
type RoIAlignFunc func(data []float32, n, c, h, w int, rois []float32, p RoIAlignParams) ([]float32, error)

// RoIAlignBackwardFunc is a RoIAlign backward under test: the feature gradient.
type RoIAlignBackwardFunc func(gradOut []float32, n, c, h, w int, rois []float32, p RoIAlignParams) ([]float32, error)

// Tolerance of the conformance checks: |got-want| <= Atol + Rtol*|want|.
// The CPU implementation matches the references exactly; a GPU one may
// reorder sums (atomics in the backward).
type Tolerance struct{ Rtol, Atol float64 }

// AllClose reports the first few values of got that differ from want beyond
// tol, and how many; an empty string means they agree.
func AllClose(got, want []float32, tol Tolerance) string {
	if len(got) != len(want) {
		return fmt.Sprintf("got %d values, want %d", len(got), len(want))
	}
	msg, bad := "", 0
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		if math.Abs(g-w) <= tol.Atol+tol.Rtol*math.Abs(w) {
			continue
		}
		if bad < 5 {
			msg += fmt.Sprintf("[%d] = %.9g, want %.9g; ", i, g, w)
		}
		bad++
	}
	if bad == 0 {
		return ""
	}
	return fmt.Sprintf("%s%d of %d values differ", msg, bad, len(got))
}

// RandomBoxes returns n xyxy boxes with centres in [0, size) and sides in
// [minWH, maxWH).
func RandomBoxes(rng *rand.Rand, n int, size, minWH, maxWH float32) []float32 {
	out := make([]float32, 0, 4*n)
	for range n {
		cx, cy := rng.Float32()*size, rng.Float32()*size
		w, h := minWH+rng.Float32()*(maxWH-minWH), minWH+rng.Float32()*(maxWH-minWH)
		out = append(out, cx-w/2, cy-h/2, cx+w/2, cy+h/2)
	}
	return out
}

// CheckNMS runs an NMS implementation on random and tie-heavy inputs and
// compares it with ReferenceNMS; the kept indices must be identical.
func CheckNMS(t *testing.T, nms NMSFunc) {
	t.Helper()
	for _, tc := range []struct {
		n, levels int
		thr       float64
	}{{0, 0, 0.5}, {1, 0, 0.5}, {300, 0, 0.5}, {300, 0, 0.7}, {200, 5, 0.5}, {100, 1, 0.3}} {
		rng := rand.New(rand.NewPCG(uint64(tc.n), uint64(tc.levels)))
		boxes := RandomBoxes(rng, tc.n, 100, 1, 40)
		scores := make([]float32, tc.n)
		for i := range scores {
			scores[i] = rng.Float32()
			if tc.levels > 0 {
				scores[i] = float32(rng.IntN(tc.levels)) / float32(tc.levels)
			}
		}
		got, want := nms(boxes, scores, tc.thr), ReferenceNMS(boxes, scores, tc.thr, false)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("nms n=%d ties=%d thr=%g: kept %v, want %v", tc.n, tc.levels, tc.thr, got, want)
		}
	}
}

// CheckRoIAlign runs a RoIAlign forward and backward on random maps and RoIs
// (inside, across and outside the borders, tiny and large) for every
// aligned/sampling-ratio combination and compares with the references.
func CheckRoIAlign(t *testing.T, fwd RoIAlignFunc, bwd RoIAlignBackwardFunc, tol Tolerance) {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 8))
	n, c, h, w := 2, 3, 11, 13
	data := make([]float32, n*c*h*w)
	for i := range data {
		data[i] = float32(rng.NormFloat64())
	}
	// Centres on a 56 x 56 image whose map is 11 x 13 at scale 1/4: some
	// RoIs cross or leave the map.
	rois := RandomBoxes(rng, 25, 56, 0.3, 50)
	withBatch := make([]float32, 0, len(rois)/4*5)
	for i := 0; i < len(rois)/4; i++ {
		withBatch = append(withBatch, float32(rng.IntN(n)))
		withBatch = append(withBatch, rois[4*i:4*i+4]...)
	}
	for _, aligned := range []bool{false, true} {
		for _, sr := range []int{0, 1, 2} {
			p := RoIAlignParams{OutH: 7, OutW: 5, SpatialScale: 0.25, SamplingRatio: sr, Aligned: aligned}
			name := fmt.Sprintf("aligned=%v sr=%d", aligned, sr)
			got, err := fwd(data, n, c, h, w, withBatch, p)
			if err != nil {
				t.Fatalf("%s: forward: %v", name, err)
			}
			if msg := AllClose(got, ReferenceRoIAlign(data, n, c, h, w, withBatch, p), tol); msg != "" {
				t.Errorf("%s: forward: %s", name, msg)
			}
			gout := make([]float32, len(got))
			for i := range gout {
				gout[i] = float32(rng.NormFloat64())
			}
			grad, err := bwd(gout, n, c, h, w, withBatch, p)
			if err != nil {
				t.Fatalf("%s: backward: %v", name, err)
			}
			if msg := AllClose(grad, ReferenceRoIAlignBackward(gout, n, c, h, w, withBatch, p), tol); msg != "" {
				t.Errorf("%s: backward: %s", name, msg)
			}
		}
	}
}
