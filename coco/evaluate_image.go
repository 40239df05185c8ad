package coco

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
)

// ImageEval is COCOeval.evaluateImg for one image and every category: a
// plain value that a worker computes from the image's ground truth and
// detections alone, and that an Accumulator merges in any order. It holds
// only exported plain fields so it can be encoded (gob, JSON) between workers.
type ImageEval struct {
	ImageID    int64
	Categories []CategoryEval // ascending category id; only categories with ground truth or detections
}

// CategoryEval is evaluateImg's output for one (image, category) pair across
// all area ranges. Detections are in evaluation order (score descending,
// ties in file order) and capped at the largest MaxDets.
type CategoryEval struct {
	CategoryID int64     // -1 when categories are ignored (UseCats false), as in pycocotools
	Positives  []int32   // per area range: ground truth that is neither crowd nor outside the range
	Scores     []float64 // per detection
	// Matched and Ignored hold one word per (detection d, area range a) at
	// index d*A+a; bit t is set when, at IoU threshold t, the detection
	// matched a ground truth with a non-zero id (pycocotools stores the
	// matched id and treats 0 as unmatched), or is ignored (matched a crowd
	// or out-of-range object, or unmatched and itself out of range).
	Matched []uint32
	Ignored []uint32
}

// gtObject is a ground-truth box as evaluateImg sees it.
type gtObject struct {
	id    int64
	box   Box
	area  float64
	crowd bool
	cat   int // category rank
	// For segm: the mask (annToRLE) and its box (rleToBbox).
	mask    *RLE
	maskBox Box
}

// Evaluator holds the ground truth arranged for COCOeval: images and
// categories in ascending id order, each image's objects grouped by category
// in file order. It is read-only after NewEvaluator, so workers share it.
type Evaluator struct {
	params    Params
	spec      iouSpec // params.IoUType's behaviour
	imageIDs  []int64
	imageRank map[int64]int
	catIDs    []int64
	catNames  []string
	catRank   map[int64]int
	sizes     []imageSize  // per image rank
	gts       [][]gtObject // per image rank, stably sorted by category rank
}

// NewEvaluator prepares COCOeval of p.IoUType over every image and category
// of gt; an unknown iou type is an error.
func NewEvaluator(gt *Dataset, p Params) (*Evaluator, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	spec, _ := p.IoUType.spec() // validate checked it
	e := &Evaluator{params: p, spec: spec, imageIDs: gt.ImageIDs(), catIDs: gt.CategoryIDs()}
	e.imageRank = make(map[int64]int, len(e.imageIDs))
	for i, id := range e.imageIDs {
		e.imageRank[id] = i
	}
	e.catRank = make(map[int64]int, len(e.catIDs))
	e.catNames = make([]string, len(e.catIDs))
	for i, id := range e.catIDs {
		e.catRank[id] = i
		c, _ := gt.Category(id)
		e.catNames[i] = c.Name
	}
	e.gts = make([][]gtObject, len(e.imageIDs))
	e.sizes = make([]imageSize, len(e.imageIDs))
	for i, id := range e.imageIDs {
		img, _ := gt.Image(id)
		e.sizes[i] = imageSize{img.Height, img.Width}
		idx := gt.annsByImage[id]
		objs := make([]gtObject, len(idx))
		for j, ai := range idx {
			a := &gt.Annotations[ai]
			objs[j] = gtObject{id: a.ID, box: a.BBox, area: a.Area, crowd: a.IsCrowd, cat: e.catRank[a.CategoryID]}
			if spec.masks {
				var err error
				if objs[j].mask, objs[j].maskBox, err = gtMask(a); err != nil {
					return nil, fmt.Errorf("ground truth: %w", err)
				}
			}
		}
		sort.SliceStable(objs, func(x, y int) bool { return objs[x].cat < objs[y].cat })
		e.gts[i] = objs
	}
	return e, nil
}

// Params returns the evaluation parameters.
func (e *Evaluator) Params() Params { return e.params }

// EvaluateImage runs evaluateImg for one image over all categories. dets are
// that image's detections in any order: equal scores are ordered by
// Detection.ID, the 1-based row of the results file, as pycocotools orders
// them (equal IDs keep slice order). With UseCats, a detection of an unknown
// category is an error; without, categories only order ties (unknown ones last).
func (e *Evaluator) EvaluateImage(imageID int64, dets []Detection) (ImageEval, error) {
	rank, ok := e.imageRank[imageID]
	if !ok {
		return ImageEval{}, fmt.Errorf("evaluate image %d: not in the ground truth", imageID)
	}
	dts, cats, err := e.orderDetections(imageID, dets)
	if err != nil {
		return ImageEval{}, err
	}
	gts, size := e.gts[rank], e.sizes[rank]
	out := ImageEval{ImageID: imageID}
	var m matcher // scratch shared by the image's categories
	if !e.params.UseCats {
		if len(gts) > 0 || len(dts) > 0 {
			ce, err := e.evaluateCategory(&m, size, -1, gts, dts)
			if err != nil {
				return ImageEval{}, fmt.Errorf("evaluate image %d: %w", imageID, err)
			}
			out.Categories = []CategoryEval{ce}
		}
		return out, nil
	}
	// Walk both lists, each sorted by category rank, one category at a time.
	gi, di := 0, 0
	for gi < len(gts) || di < len(dts) {
		k := len(e.catIDs)
		if gi < len(gts) {
			k = gts[gi].cat
		}
		if di < len(dts) {
			k = min(k, cats[di])
		}
		g0, d0 := gi, di
		for gi < len(gts) && gts[gi].cat == k {
			gi++
		}
		for di < len(dts) && cats[di] == k {
			di++
		}
		ce, err := e.evaluateCategory(&m, size, e.catIDs[k], gts[g0:gi], dts[d0:di])
		if err != nil {
			return ImageEval{}, fmt.Errorf("evaluate image %d: %w", imageID, err)
		}
		out.Categories = append(out.Categories, ce)
	}
	return out, nil
}

// orderDetections returns a copy of an image's detections sorted by
// (category rank, ID), the order pycocotools' per-image, per-category lists
// have before the score sort, and each one's category rank.
func (e *Evaluator) orderDetections(imageID int64, dets []Detection) ([]Detection, []int, error) {
	type key struct {
		cat int
		id  int64
		i   int
	}
	keys := make([]key, len(dets))
	for i, d := range dets {
		if d.ImageID != imageID {
			return nil, nil, fmt.Errorf("evaluate image %d: detection %d belongs to image %d", imageID, d.ID, d.ImageID)
		}
		k, ok := e.catRank[d.CategoryID]
		if !ok {
			if e.params.UseCats {
				return nil, nil, fmt.Errorf("evaluate image %d: detection %d has unknown category %d", imageID, d.ID, d.CategoryID)
			}
			k = len(e.catIDs)
		}
		keys[i] = key{k, d.ID, i}
	}
	// i last makes the order total, so equal IDs keep slice order.
	slices.SortFunc(keys, func(a, b key) int {
		if c := cmp.Compare(a.cat, b.cat); c != 0 {
			return c
		}
		if c := cmp.Compare(a.id, b.id); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	dts := make([]Detection, len(dets))
	cats := make([]int, len(dets))
	for j, k := range keys {
		dts[j], cats[j] = dets[k.i], k.cat
	}
	return dts, cats, nil
}

// evaluateCategory is evaluateImg for one category (or all, when categories
// are ignored) and every area range. It sorts dts in place; m is scratch
// space, reused from one category to the next.
func (e *Evaluator) evaluateCategory(m *matcher, size imageSize, catID int64, gts []gtObject, dts []Detection) (CategoryEval, error) {
	p := e.params
	// Stable sort by descending score (numpy mergesort on -score), then cap.
	slices.SortStableFunc(dts, func(a, b Detection) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
	if len(dts) > p.maxDet() {
		dts = dts[:p.maxDet()]
	}
	A, D := len(p.AreaRanges), len(dts)
	words := make([]uint32, 2*D*A) // Matched and Ignored in one allocation
	ce := CategoryEval{
		CategoryID: catID,
		Positives:  make([]int32, A),
		Scores:     make([]float64, D),
		Matched:    words[: D*A : D*A],
		Ignored:    words[D*A:],
	}
	for d, dt := range dts {
		ce.Scores[d] = dt.Score
	}
	m.reset(p.IoUThresholds, gts, D)
	if err := e.spec.computeIoU(size, dts, gts, m.ious); err != nil {
		return CategoryEval{}, err
	}
	for d := range dts {
		m.dtAreas[d] = e.spec.dtArea(&dts[d])
	}
	for a, rng := range p.AreaRanges {
		ce.Positives[a] = m.match(rng, a, A, ce.Matched, ce.Ignored)
	}
	return ce, nil
}

// matcher holds one category's inputs and scratch space for the greedy
// matching of evaluateImg.
type matcher struct {
	thresholds []float64
	gts        []gtObject
	dtAreas    []float64 // per detection, as the iou type measures it
	ious       []float64 // [d*G+g], g in gts order
	order      []int     // gts indexes: in-range non-crowd first, then ignored (stable)
	ignore     []bool    // per position in order
	taken      []uint32  // per position in order: bit t set once matched at threshold t
}

// reset sizes the scratch space for D detections against gts.
func (m *matcher) reset(thresholds []float64, gts []gtObject, D int) {
	G := len(gts)
	m.thresholds, m.gts = thresholds, gts
	m.dtAreas = slices.Grow(m.dtAreas[:0], D)[:D]
	m.ious = slices.Grow(m.ious[:0], D*G)[:D*G]
	m.order = slices.Grow(m.order[:0], G)
	m.ignore = slices.Grow(m.ignore[:0], G)[:G]
	m.taken = slices.Grow(m.taken[:0], G)[:G]
}

// match runs the greedy matching for area range a of A, writing detection
// d's bits to matched[d*A+a] and ignored[d*A+a]; it returns the number of
// non-ignored ground truths.
func (m *matcher) match(rng AreaRange, a, A int, matched, ignored []uint32) int32 {
	G := len(m.gts)
	m.order = m.order[:0]
	for pass := 0; pass < 2; pass++ {
		for g, gt := range m.gts {
			ig := gt.crowd || gt.area < rng.Min || gt.area > rng.Max
			if ig == (pass == 1) {
				m.order = append(m.order, g)
			}
		}
	}
	positives := int32(0)
	for j, g := range m.order {
		gt := m.gts[g]
		m.ignore[j] = gt.crowd || gt.area < rng.Min || gt.area > rng.Max
		if !m.ignore[j] {
			positives++
		}
		m.taken[j] = 0
	}
	if G > 0 {
		for t, thr := range m.thresholds {
			m.matchThreshold(uint32(1)<<t, min(thr, 1-1e-10), a, A, matched, ignored)
		}
	}
	all := uint32(1)<<len(m.thresholds) - 1
	for d, area := range m.dtAreas {
		if area < rng.Min || area > rng.Max {
			ignored[d*A+a] |= all &^ matched[d*A+a]
		}
	}
	return positives
}

// matchThreshold is evaluateImg's inner loop at one IoU threshold: each
// detection, best score first, takes the unmatched ground truth with the
// highest IoU >= thr (a later one wins ties), preferring regular objects: once
// it holds a regular match it stops at the first ignored one. Crowds can be
// matched many times.
func (m *matcher) matchThreshold(bit uint32, thr float64, a, A int, matched, ignored []uint32) {
	G := len(m.gts)
	for d := range m.dtAreas {
		best, mi := thr, -1
		row := m.ious[d*G : d*G+G]
		for j, g := range m.order {
			if m.taken[j]&bit != 0 && !m.gts[g].crowd {
				continue
			}
			if mi > -1 && !m.ignore[mi] && m.ignore[j] {
				break
			}
			if row[g] < best {
				continue
			}
			best, mi = row[g], j
		}
		if mi == -1 {
			continue
		}
		if m.ignore[mi] {
			ignored[d*A+a] |= bit
		}
		if m.gts[m.order[mi]].id != 0 {
			matched[d*A+a] |= bit
		}
		m.taken[mi] |= bit
	}
}
