package coco

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
)

// eps is numpy's np.spacing(1), which COCOeval adds to the precision
// denominator.
const eps = 2.220446049250313e-16

// Accumulator merges ImageEvals, in any order and from any number of
// workers, into COCOeval.accumulate's precision and recall arrays. Results
// do not depend on the order of Add calls: detections are ranked by
// (score descending, image id ascending, position in image), which is the
// order pycocotools' concatenation in image order plus stable sort gives.
type Accumulator struct {
	ev     *Evaluator
	images []*ImageEval // by image rank; nil when not added
	added  int
}

// NewAccumulator returns an empty accumulator for this evaluator's images.
func (e *Evaluator) NewAccumulator() *Accumulator {
	return &Accumulator{ev: e, images: make([]*ImageEval, len(e.imageIDs))}
}

// Add records one image's evaluation. Adding the same image twice, or one
// the ground truth does not list, is an error.
func (acc *Accumulator) Add(ie ImageEval) error {
	rank, ok := acc.ev.imageRank[ie.ImageID]
	if !ok {
		return fmt.Errorf("accumulate: image %d not in the ground truth", ie.ImageID)
	}
	if acc.images[rank] != nil {
		return fmt.Errorf("accumulate: image %d added twice", ie.ImageID)
	}
	A := len(acc.ev.params.AreaRanges)
	for _, ce := range ie.Categories {
		if len(ce.Positives) != A || len(ce.Matched) != len(ce.Scores)*A || len(ce.Ignored) != len(ce.Scores)*A {
			return fmt.Errorf("accumulate: image %d category %d: arrays do not match %d area ranges", ie.ImageID, ce.CategoryID, A)
		}
		if acc.categoryIndex(ce.CategoryID) < 0 {
			return fmt.Errorf("accumulate: image %d: unknown category %d", ie.ImageID, ce.CategoryID)
		}
	}
	acc.images[rank] = &ie
	acc.added++
	return nil
}

// Merge adds every image of other, an accumulator over the same ground
// truth and params (for example a combiner's partial result).
func (acc *Accumulator) Merge(other *Accumulator) error {
	for _, ie := range other.images {
		if ie == nil {
			continue
		}
		if err := acc.Add(*ie); err != nil {
			return err
		}
	}
	return nil
}

// Len returns the number of images added so far.
func (acc *Accumulator) Len() int { return acc.added }

// categoryIndex maps a CategoryEval's id to k in the result arrays.
func (acc *Accumulator) categoryIndex(id int64) int {
	if !acc.ev.params.UseCats {
		if id == -1 {
			return 0
		}
		return -1
	}
	k, ok := acc.ev.catRank[id]
	if !ok {
		return -1
	}
	return k
}

// ranking is one category's detections in accumulate's order, with each
// one's words for every area range copied next to each other (index i*A+a),
// so that the passes over area ranges and maxDets read memory in order.
type ranking struct {
	pos              []int32 // position within its image's CategoryEval
	matched, ignored []uint32
}

// Accumulate computes precision [T,R,K,A,M] and recall [T,K,A,M] as
// COCOeval.accumulate does (-1 where a category has no non-ignored ground
// truth), then the summary stats. Images never added count as having neither
// ground truth nor detections. Categories, then (category, area range)
// cells, are processed in parallel.
func (acc *Accumulator) Accumulate(ctx context.Context) (*Result, error) {
	p := acc.ev.params
	K := 1
	res := &Result{Params: p, CategoryIDs: []int64{-1}, CategoryNames: []string{"all"}, NumImages: acc.added}
	if p.UseCats {
		K = len(acc.ev.catIDs)
		res.CategoryIDs, res.CategoryNames = acc.ev.catIDs, acc.ev.catNames
	}
	T, R, A, M := len(p.IoUThresholds), len(p.RecallThresholds), len(p.AreaRanges), len(p.MaxDets)
	res.Precision = make([]float64, T*R*K*A*M)
	res.Recall = make([]float64, T*K*A*M)
	for i := range res.Precision {
		res.Precision[i] = -1
	}
	for i := range res.Recall {
		res.Recall[i] = -1
	}
	perCat := acc.byCategory(K)
	dets := make([]ranking, K)
	err := forEach(ctx, K, func(k int) { dets[k] = rankDetections(perCat[k], A) })
	if err == nil {
		err = forEach(ctx, K*A, func(i int) { acc.accumulateCell(res, i/A, i%A, perCat[i/A], dets[i/A]) })
	}
	if err != nil {
		return nil, fmt.Errorf("accumulate: %w", err)
	}
	res.Stats = summarizeStats(res)
	return res, nil
}

// forEach runs fn(i) for every i in [0, n) on all cores, handing out no new
// work once ctx is done.
func forEach(ctx context.Context, n int, fn func(i int)) error {
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(runtime.GOMAXPROCS(0), max(n, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	var err error
	for i := range n {
		if err = ctx.Err(); err != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return err
}

// byCategory lists each category's per-image evaluations in image order.
func (acc *Accumulator) byCategory(K int) [][]*CategoryEval {
	perCat := make([][]*CategoryEval, K)
	for _, ie := range acc.images {
		if ie == nil {
			continue
		}
		for i := range ie.Categories {
			ce := &ie.Categories[i]
			k := acc.categoryIndex(ce.CategoryID)
			perCat[k] = append(perCat[k], ce)
		}
	}
	return perCat
}

// rankDetections orders a category's detections as accumulate sees them.
// evals are in image order, so (score desc, index in evals, position) is the
// order of pycocotools' concatenation in image order followed by a stable
// sort on -score.
func rankDetections(evals []*CategoryEval, A int) ranking {
	type key struct {
		score    float64
		img, pos int32
	}
	n := 0
	for _, ce := range evals {
		n += len(ce.Scores)
	}
	keys := make([]key, 0, n)
	for i, ce := range evals {
		for pos, s := range ce.Scores {
			keys = append(keys, key{score: s, img: int32(i), pos: int32(pos)})
		}
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		if c := cmp.Compare(a.img, b.img); c != 0 {
			return c
		}
		return cmp.Compare(a.pos, b.pos)
	})
	r := ranking{pos: make([]int32, n), matched: make([]uint32, n*A), ignored: make([]uint32, n*A)}
	for i, k := range keys {
		ce, at := evals[k.img], int(k.pos)*A
		r.pos[i] = k.pos
		copy(r.matched[i*A:(i+1)*A], ce.Matched[at:at+A])
		copy(r.ignored[i*A:(i+1)*A], ce.Ignored[at:at+A])
	}
	return r
}

// accumulateCell fills the cells of category k and area range a for every
// IoU threshold and maxDets.
func (acc *Accumulator) accumulateCell(res *Result, k, a int, evals []*CategoryEval, dets ranking) {
	p := acc.ev.params
	T, R, K, A, M := len(p.IoUThresholds), len(p.RecallThresholds), len(res.CategoryIDs), len(p.AreaRanges), len(p.MaxDets)
	npig, longest := 0, 0
	for _, ce := range evals {
		npig += int(ce.Positives[a])
		longest = max(longest, len(ce.Scores))
	}
	if npig == 0 {
		return
	}
	matched := make([]uint32, 0, len(dets.pos))
	ignored := make([]uint32, 0, len(dets.pos))
	curve := newPRCurve(len(dets.pos))
	complete := -1 // first m whose cap kept every detection
	for m, maxDet := range p.MaxDets {
		if complete >= 0 {
			// A larger cap sees the same detections: same numbers.
			for t := range T {
				res.Recall[((t*K+k)*A+a)*M+m] = res.Recall[((t*K+k)*A+a)*M+complete]
				for r := range R {
					res.Precision[(((t*R+r)*K+k)*A+a)*M+m] = res.Precision[(((t*R+r)*K+k)*A+a)*M+complete]
				}
			}
			continue
		}
		matched, ignored = matched[:0], ignored[:0]
		for i, pos := range dets.pos {
			if int(pos) < maxDet {
				matched = append(matched, dets.matched[i*A+a])
				ignored = append(ignored, dets.ignored[i*A+a])
			}
		}
		for t := range T {
			rc := curve.compute(uint32(1)<<t, matched, ignored, npig)
			res.Recall[((t*K+k)*A+a)*M+m] = rc
			for r, q := range curve.sample(p.RecallThresholds) {
				res.Precision[(((t*R+r)*K+k)*A+a)*M+m] = q
			}
		}
		if maxDet >= longest {
			complete = m
		}
	}
}

// prCurve is the scratch space for one precision/recall curve.
type prCurve struct {
	rc, pr, q []float64
}

func newPRCurve(n int) *prCurve {
	return &prCurve{rc: make([]float64, 0, n), pr: make([]float64, 0, n)}
}

// compute builds the cumulative recall and precision at one threshold bit,
// applies the precision envelope, and returns the final recall (0 with no
// detections). Detections ignored at this threshold are left out of the
// curve: in pycocotools' arrays each repeats the point before it (or is 0
// at the start), which changes neither the envelope nor the first point
// that reaches a recall threshold, so every sample and the final recall
// are the same, for fewer divisions.
func (c *prCurve) compute(bit uint32, matched, ignored []uint32, npig int) float64 {
	rc, pr := c.rc[:0], c.pr[:0]
	tp, fp, n := 0.0, 0.0, float64(npig)
	for i, mb := range matched {
		if ignored[i]&bit != 0 {
			continue
		}
		if mb&bit != 0 {
			tp++
		} else {
			fp++
		}
		rc = append(rc, tp/n)
		pr = append(pr, tp/(fp+tp+eps))
	}
	c.rc, c.pr = rc, pr
	for i := len(pr) - 1; i > 0; i-- {
		if pr[i] > pr[i-1] {
			pr[i-1] = pr[i]
		}
	}
	if len(rc) == 0 {
		return 0
	}
	return rc[len(rc)-1]
}

// sample reads the enveloped precision at each recall threshold: at the first
// detection whose recall reaches it (numpy searchsorted, side left), or 0 when
// recall never reaches it.
func (c *prCurve) sample(thresholds []float64) []float64 {
	c.q = c.q[:0]
	i := 0
	for _, thr := range thresholds {
		for i < len(c.rc) && c.rc[i] < thr {
			i++
		}
		if i < len(c.rc) {
			c.q = append(c.q, c.pr[i])
		} else {
			c.q = append(c.q, 0)
		}
	}
	return c.q
}
