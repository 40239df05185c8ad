package coco

import (
	"fmt"
	"io"
	"strings"
)

// Result is an accumulated evaluation: pycocotools' eval['precision'],
// eval['recall'] and stats.
type Result struct {
	Params        Params   // Params.IoUType names the metrics (Rows)
	CategoryIDs   []int64  // K entries; [-1] when categories are ignored
	CategoryNames []string // K entries; ["all"] when categories are ignored
	NumImages     int      // images evaluated

	// Precision is [T,R,K,A,M] and Recall [T,K,A,M], row-major, -1 where a
	// category has no ground truth to find in that area range.
	Precision []float64
	Recall    []float64
	// Stats are COCOeval.summarize()'s 12 numbers, in its order (see doc.go).
	Stats []float64
}

// PrecisionAt returns precision[t, r, k, a, m].
func (r *Result) PrecisionAt(t, rc, k, a, m int) float64 {
	R, K, A, M := len(r.Params.RecallThresholds), len(r.CategoryIDs), len(r.Params.AreaRanges), len(r.Params.MaxDets)
	return r.Precision[(((t*R+rc)*K+k)*A+a)*M+m]
}

// RecallAt returns recall[t, k, a, m].
func (r *Result) RecallAt(t, k, a, m int) float64 {
	K, A, M := len(r.CategoryIDs), len(r.Params.AreaRanges), len(r.Params.MaxDets)
	return r.Recall[((t*K+k)*A+a)*M+m]
}

// CategoryAP is category k's AP over IoU .50:.95, area "all", the largest
// maxDets (MMDetection's classwise AP), or -1 when it has no ground truth.
func (r *Result) CategoryAP(k int) float64 {
	var vals []float64
	for t := range r.Params.IoUThresholds {
		for rc := range r.Params.RecallThresholds {
			if v := r.PrecisionAt(t, rc, k, 0, len(r.Params.MaxDets)-1); v > -1 {
				vals = append(vals, v)
			}
		}
	}
	return numpyMean(vals)
}

// statSpec is one line of COCOeval.summarize().
type statSpec struct {
	ap      bool
	iouThr  float64 // 0: all thresholds
	area    string
	maxDets int
}

// statSpecs are _summarizeDets' 12 lines for the given params.
func statSpecs(p Params) []statSpec {
	md := func(i int) int {
		if i < len(p.MaxDets) {
			return p.MaxDets[i]
		}
		return -1
	}
	return []statSpec{
		{true, 0, "all", 100},
		{true, 0.5, "all", md(2)},
		{true, 0.75, "all", md(2)},
		{true, 0, "small", md(2)},
		{true, 0, "medium", md(2)},
		{true, 0, "large", md(2)},
		{false, 0, "all", md(0)},
		{false, 0, "all", md(1)},
		{false, 0, "all", md(2)},
		{false, 0, "small", md(2)},
		{false, 0, "medium", md(2)},
		{false, 0, "large", md(2)},
	}
}

func summarizeStats(r *Result) []float64 {
	specs := statSpecs(r.Params)
	stats := make([]float64, len(specs))
	for i, s := range specs {
		stats[i] = r.summarizeOne(s)
	}
	return stats
}

// summarizeOne is COCOeval's _summarize: the mean of the selected cells that
// are not -1, taken in numpy's memory order and summed as numpy sums; -1 when
// none is left (or the area label, maxDets or IoU threshold is not in params).
func (r *Result) summarizeOne(s statSpec) float64 {
	p := r.Params
	a := indexOf(len(p.AreaRanges), func(i int) bool { return p.AreaRanges[i].Label == s.area })
	m := indexOf(len(p.MaxDets), func(i int) bool { return p.MaxDets[i] == s.maxDets })
	var ts []int
	for t, thr := range p.IoUThresholds {
		if s.iouThr == 0 || thr == s.iouThr {
			ts = append(ts, t)
		}
	}
	if a < 0 || m < 0 {
		return -1
	}
	var vals []float64
	for _, t := range ts {
		if s.ap {
			for rc := range p.RecallThresholds {
				for k := range r.CategoryIDs {
					if v := r.PrecisionAt(t, rc, k, a, m); v > -1 {
						vals = append(vals, v)
					}
				}
			}
			continue
		}
		for k := range r.CategoryIDs {
			if v := r.RecallAt(t, k, a, m); v > -1 {
				vals = append(vals, v)
			}
		}
	}
	return numpyMean(vals)
}

func indexOf(n int, match func(int) bool) int {
	for i := range n {
		if match(i) {
			return i
		}
	}
	return -1
}

// numpyMean is np.mean of a float64 vector, -1 when empty: numpy adds
// 8192-element blocks, each by pairwise summation, so the last bits agree.
func numpyMean(vals []float64) float64 {
	if len(vals) == 0 {
		return -1
	}
	sum := 0.0
	for lo := 0; lo < len(vals); lo += 8192 {
		sum += pairwiseSum(vals[lo:min(lo+8192, len(vals))])
	}
	return sum / float64(len(vals))
}

// pairwiseSum is numpy's pairwise_sum for doubles: 8 interleaved partial
// sums up to 128 values, halving above that.
func pairwiseSum(a []float64) float64 {
	n := len(a)
	switch {
	case n < 8:
		s := 0.0
		for _, v := range a {
			s += v
		}
		return s
	case n <= 128:
		var r [8]float64
		copy(r[:], a[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := range 8 {
				r[j] += a[i+j]
			}
		}
		s := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			s += a[i]
		}
		return s
	default:
		n2 := n / 2
		n2 -= n2 % 8
		return pairwiseSum(a[:n2]) + pairwiseSum(a[n2:])
	}
}

// Summary prints the 12 stats in COCOeval.summarize()'s exact layout.
func (r *Result) Summary(w io.Writer) error {
	var b strings.Builder
	p := r.Params
	for i, s := range statSpecs(p) {
		title, typ := "Average Precision", "(AP)"
		if !s.ap {
			title, typ = "Average Recall", "(AR)"
		}
		iou := fmt.Sprintf("%0.2f:%0.2f", p.IoUThresholds[0], p.IoUThresholds[len(p.IoUThresholds)-1])
		if s.iouThr != 0 {
			iou = fmt.Sprintf("%0.2f", s.iouThr)
		}
		fmt.Fprintf(&b, " %-18s %s @[ IoU=%-9s | area=%6s | maxDets=%3d ] = %0.3f\n", title, typ, iou, s.area, s.maxDets, r.Stats[i])
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// Metric is one (name, value) row of a metrics table.
type Metric struct {
	Name  string
	Value float64
}

// Rows returns the metrics table rows of the result's iou type (doc.go
// lists them), or nil for an unknown type.
func (r *Result) Rows() []Metric {
	s, err := r.Params.IoUType.spec()
	if err != nil {
		return nil
	}
	return s.rows(r)
}

// detectionRows are the rows of a detection type (bbox, later segm): the 12
// stats named "<iou type>_mAP"... in their order, then "AP/<category name>"
// per category (MMDetection's classwise AP).
func detectionRows(r *Result) []Metric {
	pre := string(r.Params.IoUType) + "_"
	names := []string{pre + "mAP", pre + "mAP_50", pre + "mAP_75", pre + "mAP_s", pre + "mAP_m", pre + "mAP_l"}
	for _, s := range statSpecs(r.Params)[6:9] {
		names = append(names, fmt.Sprintf("%sAR_%d", pre, s.maxDets))
	}
	names = append(names, pre+"AR_s", pre+"AR_m", pre+"AR_l")
	rows := make([]Metric, 0, len(names)+len(r.CategoryIDs))
	for i, n := range names {
		rows = append(rows, Metric{n, r.Stats[i]})
	}
	for k, name := range r.CategoryNames {
		rows = append(rows, Metric{"AP/" + name, r.CategoryAP(k)})
	}
	return rows
}

// proposalRows are the model zoo's recall rows: AR@<maxDets> for each
// maxDets (area all), then AR_s/AR_m/AR_l@<largest maxDets>.
func proposalRows(r *Result) []Metric {
	p := r.Params
	var rows []Metric
	for _, md := range p.MaxDets {
		rows = append(rows, Metric{fmt.Sprintf("AR@%d", md), r.summarizeOne(statSpec{false, 0, "all", md})})
	}
	last := p.MaxDets[len(p.MaxDets)-1]
	for _, a := range []struct{ short, label string }{{"s", "small"}, {"m", "medium"}, {"l", "large"}} {
		rows = append(rows, Metric{fmt.Sprintf("AR_%s@%d", a.short, last), r.summarizeOne(statSpec{false, 0, a.label, last})})
	}
	return rows
}
