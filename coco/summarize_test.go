package coco

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestNumpyMean(t *testing.T) {
	if got := numpyMean(nil); got != -1 {
		t.Errorf("numpyMean(empty) = %v, want -1", got)
	}
	// Known numpy results where naive left-to-right summation differs in
	// the last bit: np.mean([0.1]*10) is 0.1 exactly (pairwise), while a
	// running sum gives 0.09999999999999999.
	tenths := make([]float64, 10)
	for i := range tenths {
		tenths[i] = 0.1
	}
	if got := numpyMean(tenths); got != 0.1 {
		t.Errorf("numpyMean(0.1 x 10) = %.17g, numpy gives 0.1", got)
	}
	// Against a compensated sum the block-pairwise result stays within a
	// few ulps for long vectors, as numpy's does.
	rng := rand.New(rand.NewPCG(7, 7))
	for _, n := range []int{1, 7, 8, 9, 127, 128, 129, 1000, 8192, 8193, 80800} {
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.Float64()
		}
		sum, c := 0.0, 0.0
		for _, x := range v {
			y := x - c
			s := sum + y
			c = (s - sum) - y
			sum = s
		}
		if got := numpyMean(v); math.Abs(got-sum/float64(n)) > 1e-14 {
			t.Errorf("n=%d: numpyMean = %.17g, compensated %.17g", n, got, sum/float64(n))
		}
	}
}

func TestSummaryLayoutAndRows(t *testing.T) {
	r := &Result{Params: mustParams(BBox), CategoryIDs: []int64{1}, CategoryNames: []string{"person"},
		Stats: []float64{0.5, 0.1234, 0.0005, -1, 1, 0.25, 0.3, 0.4, 0.45, 0.6, 0.7, 0.8}}
	r.Precision = make([]float64, 10*101*1*4*3)
	for i := range r.Precision {
		r.Precision[i] = -1
	}
	var b bytes.Buffer
	if err := r.Summary(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	want := map[int]string{
		0:  " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.500",
		1:  " Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 0.123",
		2:  " Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=100 ] = 0.001",
		3:  " Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = -1.000",
		6:  " Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.300",
		10: " Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = 0.700",
	}
	if len(lines) != 12 {
		t.Fatalf("got %d lines, want 12:\n%s", len(lines), b.String())
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d:\n got %q\nwant %q", i, lines[i], w)
		}
	}
	names := []string{"bbox_mAP", "bbox_mAP_50", "bbox_mAP_75", "bbox_mAP_s", "bbox_mAP_m", "bbox_mAP_l",
		"bbox_AR_1", "bbox_AR_10", "bbox_AR_100", "bbox_AR_s", "bbox_AR_m", "bbox_AR_l", "AP/person"}
	rows := r.Rows()
	if len(rows) != len(names) {
		t.Fatalf("got %d rows, want %d", len(rows), len(names))
	}
	for i, n := range names {
		if rows[i].Name != n {
			t.Errorf("row %d named %q, want %q", i, rows[i].Name, n)
		}
		if i < 12 && rows[i].Value != r.Stats[i] {
			t.Errorf("row %q = %v, want stat %v", n, rows[i].Value, r.Stats[i])
		}
	}
	if rows[12].Value != -1 {
		t.Errorf("AP of a category without ground truth = %v, want -1", rows[12].Value)
	}
}

func TestProposalRowsMatchStats(t *testing.T) {
	res := evaluateCase(t, "proposal", Proposal)
	rows := res.Rows()
	want := []struct {
		name string
		stat int
	}{{"AR@100", 6}, {"AR@300", 7}, {"AR@1000", 8}, {"AR_s@1000", 9}, {"AR_m@1000", 10}, {"AR_l@1000", 11}}
	if len(rows) != len(want) {
		t.Fatalf("rows %v", rows)
	}
	for i, w := range want {
		if rows[i].Name != w.name || rows[i].Value != res.Stats[w.stat] {
			t.Errorf("row %d = %+v, want %s = stats[%d] = %v", i, rows[i], w.name, w.stat, res.Stats[w.stat])
		}
	}
}
