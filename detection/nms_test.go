package detection

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/detflow/detflow/detection/detectiontest"
)

// referenceNMS is detectiontest's slow oracle.
var referenceNMS = detectiontest.ReferenceNMS

func randomBoxes(rng *rand.Rand, n int, size, minWH, maxWH float32) []float32 {
	out := make([]float32, 0, 4*n)
	for range n {
		cx, cy := rng.Float32()*size, rng.Float32()*size
		w, h := minWH+rng.Float32()*(maxWH-minWH), minWH+rng.Float32()*(maxWH-minWH)
		out = append(out, cx-w/2, cy-h/2, cx+w/2, cy+h/2)
	}
	return out
}

func randomScores(rng *rand.Rand, n int, levels int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()
		if levels > 0 {
			s[i] = float32(rng.IntN(levels)) / float32(levels)
		}
	}
	return s
}

// randomClasses draws n class ids in [0, k).
func randomClasses(rng *rand.Rand, n, k int) []int {
	c := make([]int, n)
	for i := range c {
		c[i] = rng.IntN(k)
	}
	return c
}

func TestNMSMatchesReference(t *testing.T) {
	for _, tc := range []struct {
		name   string
		n      int
		levels int
		thr    float64
		legacy bool
	}{
		{"empty", 0, 0, 0.5, false},
		{"one", 1, 0, 0.5, false},
		{"random 0.5", 200, 0, 0.5, false},
		{"random 0.7", 300, 0, 0.7, false},
		{"ties", 200, 4, 0.5, false},
		{"all tied", 100, 1, 0.3, false},
		{"legacy", 200, 0, 0.5, true},
		{"threshold 0", 100, 0, 0, false},
		{"threshold 1", 100, 0, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tc.n)))
			boxes := randomBoxes(rng, tc.n, 100, 1, 40)
			scores := randomScores(rng, tc.n, tc.levels)
			equalInts(t, "nms", NMS(boxes, scores, tc.thr, tc.legacy), referenceNMS(boxes, scores, tc.thr, tc.legacy))
		})
	}
}

func TestNMSCases(t *testing.T) {
	for _, tc := range []struct {
		name   string
		boxes  []float32
		scores []float32
		thr    float64
		want   []int
	}{
		{"identical boxes keep the first of equal scores", []float32{0, 0, 10, 10, 0, 0, 10, 10}, []float32{0.5, 0.5}, 0.5, []int{0}},
		{"higher score wins", []float32{0, 0, 10, 10, 0, 0, 10, 10}, []float32{0.4, 0.5}, 0.5, []int{1}},
		// IoU exactly 0.5 (50 / 100) is not suppressed: the rule is IoU > thr.
		{"iou equal to threshold is kept", []float32{0, 0, 10, 10, 0, 0, 10, 5}, []float32{0.9, 0.8}, 0.5, []int{0, 1}},
		{"disjoint boxes all kept, by score", []float32{0, 0, 1, 1, 5, 5, 6, 6, 9, 9, 10, 10}, []float32{0.1, 0.3, 0.2}, 0.1, []int{1, 2, 0}},
		{"suppressed box does not suppress", []float32{0, 0, 10, 10, 5, 0, 15, 10, 10, 0, 20, 10}, []float32{0.9, 0.8, 0.7}, 0.3, []int{0, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			equalInts(t, "nms", NMS(tc.boxes, tc.scores, tc.thr, false), tc.want)
		})
	}
}

func TestBatchedNMSIsPerClass(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	n := 300
	boxes := randomBoxes(rng, n, 100, 1, 40)
	scores := randomScores(rng, n, 8)
	classes := randomClasses(rng, n, 4)
	got := BatchedNMS(boxes, scores, classes, 0.5, false)
	// Oracle: reference NMS within each class, then a stable sort by score.
	var want []int
	for c := 0; c < 4; c++ {
		var idx []int
		for i, k := range classes {
			if k == c {
				idx = append(idx, i)
			}
		}
		for _, k := range referenceNMS(GatherBoxes(boxes, idx), Gather(scores, idx), 0.5, false) {
			want = append(want, idx[k])
		}
	}
	slices.Sort(want)
	slices.SortStableFunc(want, func(a, b int) int {
		switch {
		case scores[a] > scores[b]:
			return -1
		case scores[a] < scores[b]:
			return 1
		}
		return 0
	})
	equalInts(t, "batched nms", got, want)
}

func TestMultiClassNMS(t *testing.T) {
	// Two proposals, two classes, per-class boxes.
	boxes := []float32{
		0, 0, 10, 10, 50, 50, 60, 60, // proposal 0: class 0 box, class 1 box
		1, 1, 10, 10, 50, 50, 61, 61, // proposal 1
	}
	scores := []float32{
		0.9, 0.04, // class 1 below the score threshold
		0.8, 0.6,
	}
	got := MultiClassNMS(boxes, scores, 2, 0.05, 0.5, 100, false)
	// Class 0: proposal 1 overlaps proposal 0 (IoU 0.81) and is suppressed.
	equalInts(t, "labels", got.Labels, []int32{0, 1})
	allClose(t, "scores", got.Scores, []float32{0.9, 0.6}, 0, 0)
	allClose(t, "boxes", got.Boxes, []float32{0, 0, 10, 10, 50, 50, 61, 61}, 0, 0)
	if d := MultiClassNMS(boxes, scores, 2, 0.05, 0.5, 1, false); len(d.Labels) != 1 || d.Scores[0] != 0.9 {
		t.Errorf("max per image 1: got %+v", d)
	}
	// Class-agnostic boxes (N x 4).
	agn := MultiClassNMS([]float32{0, 0, 10, 10, 1, 1, 10, 10}, scores, 2, 0.05, 0.5, 0, false)
	equalInts(t, "agnostic labels", agn.Labels, []int32{0, 1})
}

func TestTopK(t *testing.T) {
	s := []float32{0.1, 0.5, 0.5, 0.9, 0.2}
	equalInts(t, "top3", TopK(s, 3), []int{3, 1, 2})
	equalInts(t, "all", TopK(s, 0), []int{3, 1, 2, 4, 0})
	equalInts(t, "more than n", TopK(s, 10), []int{3, 1, 2, 4, 0})
}

// TestTopKSelectionIsTheSortsPrefix checks TopK's selection path against
// the full stable sort: ties straddling the k-th place (taken by
// increasing index), NaNs (last; too many of them make TopK sort), signed
// zeros, and all-equal scores.
func TestTopKSelectionIsTheSortsPrefix(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	nan := float32(math.NaN())
	cases := map[string][]float32{
		"quantised":  randomScores(rng, 5000, 16),
		"continuous": randomScores(rng, 5000, 0),
		"equal":      make([]float32, 5000),
	}
	withNaN := randomScores(rng, 5000, 16)
	zeros := randomScores(rng, 5000, 4)
	for i := range withNaN {
		if rng.IntN(3) == 0 {
			withNaN[i] = nan
		}
		if zeros[i] == 0 && rng.IntN(2) == 0 {
			zeros[i] = float32(math.Copysign(0, -1))
		}
	}
	cases["nan"], cases["signed zeros"] = withNaN, zeros
	mostlyNaN := make([]float32, 5000)
	for i := range mostlyNaN {
		mostlyNaN[i] = nan
	}
	mostlyNaN[17], mostlyNaN[4000] = 1, 2
	cases["mostly nan"] = mostlyNaN
	for name, s := range cases {
		full := sortByScore(s)
		for _, k := range []int{1, 2, 7, 100, 313, 1000, 1250} {
			equalInts(t, fmt.Sprintf("%s k=%d", name, k), TopK(s, k), full[:k])
		}
	}
}

// FuzzNMS checks NMS against the reference on arbitrary boxes and scores.
func FuzzNMS(f *testing.F) {
	f.Add([]byte{0, 0, 10, 10, 9, 1, 1, 11, 11, 8, 20, 20, 30, 30, 9}, uint8(128))
	f.Fuzz(func(t *testing.T, data []byte, thr uint8) {
		n := len(data) / 5
		if n > 64 {
			n = 64
		}
		boxes := make([]float32, 0, 4*n)
		scores := make([]float32, 0, n)
		for i := 0; i < n; i++ {
			d := data[5*i : 5*i+5]
			// Small integer coordinates and scores make ties and exact
			// threshold hits likely.
			boxes = append(boxes, float32(d[0]%32), float32(d[1]%32), float32(d[0]%32+d[2]%32), float32(d[1]%32+d[3]%32))
			scores = append(scores, float32(d[4]%8))
		}
		iou := float64(thr) / 255
		got, want := NMS(boxes, scores, iou, false), referenceNMS(boxes, scores, iou, false)
		if !slices.Equal(got, want) {
			t.Fatalf("nms %v, reference %v", got, want)
		}
	})
}

// TestCandidateNMSStopsEachClassEarly checks that CandidateNMS, whose
// class-wise NMS stops after maxPerImg keeps per class, returns the first
// maxPerImg of the complete BatchedNMS, with many boxes per class and tied
// scores across classes.
func TestCandidateNMSStopsEachClassEarly(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	n := 4000
	boxes := randomBoxes(rng, n, 400, 4, 80)
	scores := randomScores(rng, n, 50)
	classes := randomClasses(rng, n, 8)
	full := BatchedNMS(boxes, scores, classes, 0.5, false)
	for _, limit := range []int{1, 10, 100, 300, len(full), len(full) + 5} {
		d := CandidateNMS(boxes, scores, classes, 0.5, limit, false)
		want := full[:min(limit, len(full))]
		if d.Len() != len(want) {
			t.Fatalf("limit %d: %d detections, want %d", limit, d.Len(), len(want))
		}
		for i, j := range want {
			if d.Scores[i] != scores[j] || int(d.Labels[i]) != classes[j] || !slices.Equal(d.Boxes[4*i:4*i+4], boxes[4*j:4*j+4]) {
				t.Fatalf("limit %d: detection %d differs from BatchedNMS's (index %d)", limit, i, j)
			}
		}
	}
}
