package detection

import (
	"math/rand/v2"
	"testing"
)

func TestMaxIoUAssignerOverlaps(t *testing.T) {
	// Rows are gts, columns proposals.
	for _, tc := range []struct {
		name    string
		a       MaxIoUAssigner
		iou     []float32
		m, n    int
		want    []int
		wantMax []float32
	}{
		{"thresholds", MaxIoUAssigner{PosIoUThr: 0.5, NegIoUThr: 0.4, MinPosIoU: 0.5},
			[]float32{0.9, 0.45, 0.1, 0.5}, 1, 4,
			[]int{0, Ignored, Negative, 0}, []float32{0.9, 0.45, 0.1, 0.5}},
		{"best gt wins, first on ties", MaxIoUAssigner{PosIoUThr: 0.5, NegIoUThr: 0.5},
			[]float32{0.6, 0.7, 0.2, 0.8, 0.7, 0.2}, 2, 3,
			[]int{1, 0, Negative}, []float32{0.8, 0.7, 0.2}},
		{"neg range", MaxIoUAssigner{PosIoUThr: 0.5, NegIoUMin: 0.1, NegIoUThr: 0.3},
			[]float32{0.05, 0.1, 0.29, 0.3}, 1, 4,
			[]int{Ignored, Negative, Negative, Ignored}, []float32{0.05, 0.1, 0.29, 0.3}},
		{"low quality all ties", MaxIoUAssigner{PosIoUThr: 0.7, NegIoUThr: 0.3, MinPosIoU: 0.3, MatchLowQuality: true, GtMaxAssignAll: true},
			[]float32{0.4, 0.4, 0.1, 0.2}, 1, 4,
			[]int{0, 0, Negative, Negative}, []float32{0.4, 0.4, 0.1, 0.2}},
		{"low quality first only", MaxIoUAssigner{PosIoUThr: 0.7, NegIoUThr: 0.3, MinPosIoU: 0.3, MatchLowQuality: true},
			[]float32{0.4, 0.4, 0.1, 0.2}, 1, 4,
			[]int{0, Ignored, Negative, Negative}, []float32{0.4, 0.4, 0.1, 0.2}},
		{"low quality below min pos", MaxIoUAssigner{PosIoUThr: 0.7, NegIoUThr: 0.3, MinPosIoU: 0.5, MatchLowQuality: true},
			[]float32{0.4, 0.1}, 1, 2,
			[]int{Ignored, Negative}, []float32{0.4, 0.1}},
		// Low-quality matching overrides a proposal's own best gt: gt 1's
		// best proposal is 0, whose best gt is 0; later gts win.
		{"low quality steals", MaxIoUAssigner{PosIoUThr: 0.9, NegIoUThr: 0.3, MinPosIoU: 0.3, MatchLowQuality: true},
			[]float32{0.8, 0.1, 0.5, 0.4}, 2, 2,
			[]int{1, Ignored}, []float32{0.8, 0.4}},
		{"no gts", MaxIoUAssigner{PosIoUThr: 0.5, NegIoUThr: 0.5}, nil, 0, 3,
			[]int{Negative, Negative, Negative}, []float32{0, 0, 0}},
		{"no proposals", MaxIoUAssigner{PosIoUThr: 0.5, NegIoUThr: 0.5}, nil, 2, 0, []int{}, []float32{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			labels := make([]int, tc.m)
			for i := range labels {
				labels[i] = 10 + i
			}
			res, err := tc.a.AssignOverlaps(tc.iou, tc.m, tc.n, labels)
			if err != nil {
				t.Fatal(err)
			}
			equalInts(t, "gt index", res.GtIndex, tc.want)
			allClose(t, "max overlap", res.MaxOverlap, tc.wantMax, 0, 0)
			for j, g := range res.GtIndex {
				if want := NoLabel; g >= 0 && res.Labels[j] != 10+g || g < 0 && res.Labels[j] != want {
					t.Errorf("label[%d] = %d for gt index %d", j, res.Labels[j], g)
				}
			}
		})
	}
}

func TestMaxIoUAssignerIgnoreRegions(t *testing.T) {
	a := RCNNAssigner()
	a.IgnoreIoFThr = 0.5
	proposals := []float32{
		0, 0, 10, 10, // on the gt
		50, 50, 60, 60, // inside the ignore region
		80, 80, 90, 90, // background
		35, 35, 45, 45, // a quarter inside the ignore region
	}
	gt := []float32{0, 0, 10, 10}
	ignore := []float32{40, 40, 70, 70}
	res, err := a.Assign(proposals, gt, []int{3}, ignore)
	if err != nil {
		t.Fatal(err)
	}
	// Proposal 3 is 25% inside: not above 0.5, so it stays negative.
	equalInts(t, "gt index", res.GtIndex, []int{0, Ignored, Negative, Negative})
	equalInts(t, "labels", res.Labels, []int{3, NoLabel, NoLabel, NoLabel})
	if res.MaxOverlap[1] != -1 {
		t.Errorf("ignored proposal max overlap = %g, want -1", res.MaxOverlap[1])
	}
	equalInts(t, "mmdet gt_inds", res.MMDetectionGtInds(), []int{1, -1, 0, 0})
	// Without the threshold the region is not used.
	a.IgnoreIoFThr = -1
	res, _ = a.Assign(proposals, gt, []int{3}, ignore)
	equalInts(t, "no ignore", res.GtIndex, []int{0, Negative, Negative, Negative})
}

func TestMaxIoUAssignerErrors(t *testing.T) {
	if _, err := RCNNAssigner().Assign([]float32{0, 0, 1, 1}, []float32{0, 0, 1, 1}, nil, nil); err == nil {
		t.Error("missing labels: no error")
	}
	bad := MaxIoUAssigner{PosIoUThr: 0.3, NegIoUThr: 0.5}
	if _, err := bad.Assign(nil, nil, nil, nil); err == nil {
		t.Error("neg above pos: no error")
	}
}

// Property: every gt whose best IoU reaches MinPosIoU has at least one positive,
// positives have IoU >= PosIoUThr or are some gt's best, negatives have IoU
// below NegIoUThr.
func TestMaxIoUAssignerProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	a := RPNAssigner()
	for trial := 0; trial < 20; trial++ {
		props := randomBoxes(rng, 200, 100, 4, 50)
		gts := randomBoxes(rng, 1+rng.IntN(6), 100, 10, 60)
		m := NumBoxes(gts)
		labels := make([]int, m)
		res, err := a.Assign(props, gts, labels, nil)
		if err != nil {
			t.Fatal(err)
		}
		iou := BoxIoU(gts, props, false)
		for i := 0; i < m; i++ {
			best, has := float32(0), false
			for j := 0; j < 200; j++ {
				best = max(best, iou[i*200+j])
				has = has || res.GtIndex[j] == i
			}
			if float64(best) >= a.MinPosIoU && !has {
				t.Fatalf("trial %d: gt %d (best IoU %g) has no positive", trial, i, best)
			}
		}
		for j, g := range res.GtIndex {
			v := float64(res.MaxOverlap[j])
			switch {
			case g == Negative && v >= a.NegIoUThr:
				t.Fatalf("trial %d: negative %d has IoU %g", trial, j, v)
			case g >= 0 && v < a.PosIoUThr && float64(iou[g*200+j]) < a.MinPosIoU:
				t.Fatalf("trial %d: positive %d has IoU %g with its gt", trial, j, iou[g*200+j])
			}
		}
	}
}
