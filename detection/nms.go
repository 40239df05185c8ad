package detection

import (
	"slices"

	"github.com/detflow/detflow/tensor"
)

// NMS is greedy non-maximum suppression, torchvision.ops.nms: visit boxes by
// decreasing score, keep a box unless an already kept box overlaps it with
// IoU > iouThr (strictly greater). It returns the kept indices by decreasing
// score. Ties in score are visited lower index first (a stable sort), which is
// what torchvision's CPU kernel does.
//
// IoU is computed in float32 and compared in float64 against iouThr, as the
// torchvision kernel does, so decisions at the threshold agree.
func NMS(boxes, scores []float32, iouThr float64, legacy bool) []int {
	return nmsFirst(boxes, scores, iouThr, legacy, 0)
}

// nmsFirst is NMS stopped once it has kept limit boxes (all when limit <= 0):
// the kept boxes are NMS's first limit, since a box's fate depends only on
// the boxes visited before it.
func nmsFirst(boxes, scores []float32, iouThr float64, legacy bool, limit int) []int {
	n := NumBoxes(boxes)
	if len(scores) != n {
		tensor.Panicf("detection: nms: %d scores for %d boxes", len(scores), n)
	}
	order := sortByScore(scores)
	// Copy the boxes into score order, one slice per coordinate, so that the
	// O(n^2) inner loop reads memory sequentially.
	x1, y1, x2, y2, area := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	off := pixelOffset(legacy)
	for k, i := range order {
		x1[k], y1[k], x2[k], y2[k] = boxes[4*i], boxes[4*i+1], boxes[4*i+2], boxes[4*i+3]
		area[k] = (x2[k] - x1[k] + off) * (y2[k] - y1[k] + off)
	}
	suppressed := make([]bool, n)
	keep := make([]int, 0, min(n, 64))
	for k := 0; k < n; k++ {
		if suppressed[k] {
			continue
		}
		keep = append(keep, order[k])
		if len(keep) == limit {
			break
		}
		kx1, ky1, kx2, ky2, ka := x1[k], y1[k], x2[k], y2[k], area[k]
		for j := k + 1; j < n; j++ {
			if suppressed[j] {
				continue
			}
			w := min(kx2, x2[j]) - max(kx1, x1[j]) + off
			h := min(ky2, y2[j]) - max(ky1, y1[j]) + off
			if w <= 0 || h <= 0 {
				continue
			}
			inter := float32(w * h)
			iou := inter / float32(ka+area[j]-inter)
			if float64(iou) > iouThr {
				suppressed[j] = true
			}
		}
	}
	return keep
}

// sortByScore returns the indices 0..n-1 ordered by decreasing score; equal
// scores keep increasing index. NaN scores sort last.
func sortByScore(scores []float32) []int {
	order := make([]int, len(scores))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		sa, sb := scores[a], scores[b]
		switch {
		case sa > sb:
			return -1
		case sa < sb:
			return 1
		case sa == sb:
			return 0
		case sa != sa && sb == sb: // a is NaN
			return 1
		case sb != sb && sa == sa:
			return -1
		}
		return 0
	})
	return order
}

// TopK returns the indices of the k highest scores, by decreasing score with
// ties by increasing index (all of them when k <= 0 or k >= len(scores)).
func TopK(scores []float32, k int) []int {
	if k > 0 && k*topKSelectRatio <= len(scores) {
		if idx, ok := topKBySelection(scores, k); ok {
			return idx
		}
	}
	order := sortByScore(scores)
	if k > 0 && k < len(order) {
		order = order[:k]
	}
	return order
}

// topKSelectRatio is how many times k the scores must number for TopK to
// select before sorting: an RPN level's 1000 or 2000 best of up to ~150k
// anchors, where the full stable sort of the indices was most of the
// proposal layer's time.
const topKSelectRatio = 4

// topKBySelection is TopK by selection: it finds the k-th largest score v,
// takes the scores above v and the first ties at v by increasing index, and
// sorts only those k, stably, so the result is the full sort's first k. It
// reports false (the caller sorts everything) when fewer than k scores are
// numbers: NaNs would then be among the k.
func topKBySelection(scores []float32, k int) ([]int, bool) {
	buf := make([]float32, 0, len(scores))
	for _, s := range scores {
		if s == s {
			buf = append(buf, s)
		}
	}
	if len(buf) < k {
		return nil, false
	}
	v := kthLargest(buf, k)
	ties := k
	for _, s := range scores {
		if s > v {
			ties--
		}
	}
	idx := make([]int, 0, k)
	for i, s := range scores {
		if s > v || (s == v && ties > 0) {
			if s == v {
				ties--
			}
			idx = append(idx, i)
		}
	}
	// idx is increasing, so the stable sort keeps ties by increasing index.
	slices.SortStableFunc(idx, func(a, b int) int {
		switch sa, sb := scores[a], scores[b]; {
		case sa > sb:
			return -1
		case sa < sb:
			return 1
		}
		return 0
	})
	return idx, true
}

// kthLargest returns the k-th largest of s (1 <= k <= len(s), no NaN),
// reordering s: quickselect with a three-way partition, so runs of equal
// scores end it instead of degrading it.
func kthLargest(s []float32, k int) float32 {
	lo, hi, target := 0, len(s), k-1
	for {
		if hi-lo == 1 {
			return s[lo]
		}
		a, b, c := s[lo], s[lo+(hi-lo)/2], s[hi-1]
		p := max(min(a, b), min(max(a, b), c)) // median of three
		// s[lo:lt] > p, s[lt:gt] == p, s[gt:hi] < p: descending.
		lt, i, gt := lo, lo, hi
		for i < gt {
			switch {
			case s[i] > p:
				s[lt], s[i] = s[i], s[lt]
				lt++
				i++
			case s[i] < p:
				gt--
				s[i], s[gt] = s[gt], s[i]
			default:
				i++
			}
		}
		switch {
		case target < lt:
			hi = lt
		case target >= gt:
			lo = gt
		default:
			return p
		}
	}
}

// BatchedNMS runs NMS independently within each class (or pyramid level, or
// image): boxes of different classes never suppress each other. It returns the
// kept indices by decreasing score, ties by increasing index, which is the
// order torchvision's batched_nms returns.
//
// torchvision and MMDetection implement this with the coordinate-offset trick
// (shift each class's boxes by class*(max+1) and run one NMS) below a size
// limit and per class above it; the offset costs float32 precision in the IoU
// of large coordinates, so we always run per class, which is exact.
func BatchedNMS(boxes, scores []float32, classes []int, iouThr float64, legacy bool) []int {
	return batchedNMSFirst(boxes, scores, classes, iouThr, legacy, 0)
}

// batchedNMSFirst is BatchedNMS's first limit indices (all when limit <=
// 0). Each class's NMS stops after limit keeps (nmsFirst): a class's later
// keeps rank below its own first limit in the merged order (score, then
// index), so they cannot be among the merged first limit.
func batchedNMSFirst(boxes, scores []float32, classes []int, iouThr float64, legacy bool, limit int) []int {
	n := NumBoxes(boxes)
	if len(scores) != n || len(classes) != n {
		tensor.Panicf("detection: batched nms: %d boxes, %d scores, %d classes", n, len(scores), len(classes))
	}
	groups := map[int][]int{}
	var labels []int
	for i, c := range classes {
		if _, ok := groups[c]; !ok {
			labels = append(labels, c)
		}
		groups[c] = append(groups[c], i)
	}
	keep := make([]int, 0, n)
	for _, c := range labels {
		idx := groups[c]
		for _, k := range nmsFirst(GatherBoxes(boxes, idx), Gather(scores, idx), iouThr, legacy, limit) {
			keep = append(keep, idx[k])
		}
	}
	slices.Sort(keep)
	order := sortByScore(Gather(scores, keep))
	if limit > 0 && len(order) > limit {
		order = order[:limit]
	}
	out := make([]int, len(order))
	for i, o := range order {
		out[i] = keep[o]
	}
	return out
}

// Gather returns v at the given indices, in that order.
func Gather[T any](v []T, idx []int) []T {
	out := make([]T, len(idx))
	for i, j := range idx {
		out[i] = v[j]
	}
	return out
}

// MultiClassNMS turns a head's per-class boxes and scores into detections:
// MMDetection's multiclass_nms. boxes is N x 4 (class-agnostic) or N x 4K
// (per class); scores is N x K foreground probabilities (drop the background
// column first). Pairs (box, class) with score > scoreThr go through class-wise
// NMS and the best maxPerImg (all when <= 0) are returned by decreasing score.
func MultiClassNMS(boxes, scores []float32, numClasses int, scoreThr, iouThr float64, maxPerImg int, legacy bool) Detections {
	n := len(scores) / numClasses
	if len(scores) != n*numClasses || (len(boxes) != 4*n && len(boxes) != 4*n*numClasses) {
		tensor.Panicf("detection: multiclass nms: %d boxes values and %d scores for %d classes", len(boxes), len(scores), numClasses)
	}
	perClass := len(boxes) == 4*n*numClasses
	rows, cl, cs := ScoreCandidates(scores, numClasses, 0, scoreThr)
	cb := make([]float32, 0, 4*len(rows))
	for j, i := range rows {
		o := 4 * i
		if perClass {
			o = 4 * (i*numClasses + cl[j])
		}
		cb = append(cb, boxes[o:o+4]...)
	}
	return CandidateNMS(cb, cs, cl, iouThr, maxPerImg, legacy)
}

// ScoreCandidates lists, row by row, the (row, class) pairs of scores
// (rows of stride numClasses+skip, the last skip columns ignored: pass 1
// for a softmax's background column) whose score is > scoreThr, with their
// scores: MultiClassNMS's first half, for callers that decode only the
// boxes that pass.
func ScoreCandidates(scores []float32, numClasses, skip int, scoreThr float64) (rows, classes []int, kept []float32) {
	w := numClasses + skip
	for i := 0; i < len(scores)/w; i++ {
		for c, s := range scores[i*w : i*w+numClasses] {
			if float64(s) > scoreThr {
				rows = append(rows, i)
				classes = append(classes, c)
				kept = append(kept, s)
			}
		}
	}
	return rows, classes, kept
}

// CandidateNMS is MultiClassNMS's second half: class-wise NMS over the
// candidates' boxes (M x 4), scores and classes, keeping the best maxPerImg
// (all when <= 0) by decreasing score.
func CandidateNMS(boxes, scores []float32, classes []int, iouThr float64, maxPerImg int, legacy bool) Detections {
	keep := batchedNMSFirst(boxes, scores, classes, iouThr, legacy, maxPerImg)
	labels := make([]int32, len(keep))
	for i, j := range keep {
		labels[i] = int32(classes[j])
	}
	return Detections{Boxes: GatherBoxes(boxes, keep), Scores: Gather(scores, keep), Labels: labels}
}
