package tensor

import (
	"slices"
)

// IndexSelect implements Device.
func (d *CPU) IndexSelect(src Buffer, outer, dim, inner int, idx IndexBuffer, dst Buffer) {
	ss, ds, ix := f(src), f(dst), CPUIndexData(idx)
	checkLen("index select source", outer*dim*inner, len(ss))
	checkLen("index select output", outer*len(ix)*inner, len(ds))
	for o := 0; o < outer; o++ {
		for j, t := range ix {
			checkIndex(t, dim)
			copy(ds[(o*len(ix)+j)*inner:(o*len(ix)+j+1)*inner], ss[(o*dim+int(t))*inner:(o*dim+int(t)+1)*inner])
		}
	}
}

// IndexAdd implements Device.
func (d *CPU) IndexAdd(src Buffer, outer, dim, inner int, idx IndexBuffer, dst Buffer) {
	ss, ds, ix := f(src), f(dst), CPUIndexData(idx)
	checkLen("index add source", outer*len(ix)*inner, len(ss))
	checkLen("index add output", outer*dim*inner, len(ds))
	for o := 0; o < outer; o++ {
		for j, t := range ix {
			checkIndex(t, dim)
			dr := ds[(o*dim+int(t))*inner : (o*dim+int(t)+1)*inner]
			for i, v := range ss[(o*len(ix)+j)*inner : (o*len(ix)+j+1)*inner] {
				dr[i] += v
			}
		}
	}
}

func checkIndex(t int32, dim int) {
	if t < 0 || int(t) >= dim {
		Panicf("tensor: index %d outside [0,%d)", t, dim)
	}
}

// SortRows implements Device: a stable sort per row, or for a small k a
// bounded heap that keeps the k first elements in sort order (O(cols·log k),
// the RPN's top-2000 of 10^5 anchors) before sorting just those.
func (d *CPU) SortRows(x Buffer, rows, cols, k int, descending bool, idx IndexBuffer) {
	xs, ix := f(x), CPUIndexData(idx)
	checkLen("sort rows input", rows*cols, len(xs))
	checkLen("sort rows output", rows*k, len(ix))
	if k > cols {
		Panicf("tensor: top-%d of %d columns", k, cols)
	}
	d.parallel(rows, max(1, elemGrain/max(cols, 1)), func(lo, hi int) {
		order := make([]int32, 0, cols)
		for r := lo; r < hi; r++ {
			row := xs[r*cols : (r+1)*cols]
			// before is the total order of a stable sort: by key, then by column.
			before := func(a, b int32) bool {
				if c := compareKeys(row[a], row[b], descending); c != 0 {
					return c < 0
				}
				return a < b
			}
			if k < cols/4 {
				order = topKHeap(order[:0], cols, k, before)
			} else {
				order = order[:0]
				for i := range cols {
					order = append(order, int32(i))
				}
			}
			slices.SortFunc(order, func(a, b int32) int {
				switch {
				case a == b:
					return 0
				case before(a, b):
					return -1
				}
				return 1
			})
			copy(ix[r*k:(r+1)*k], order[:k])
		}
	})
}

// topKHeap returns the k columns that sort first under before, unordered,
// using a max-heap (root: the worst column kept) in h.
func topKHeap(h []int32, cols, k int, before func(a, b int32) bool) []int32 {
	if k == 0 {
		return h
	}
	// worse reports whether heap slot i holds a column sorting after slot j's.
	worse := func(i, j int) bool { return before(h[j], h[i]) }
	down := func(i int) {
		for {
			l, w := 2*i+1, i
			if l < len(h) && worse(l, w) {
				w = l
			}
			if l+1 < len(h) && worse(l+1, w) {
				w = l + 1
			}
			if w == i {
				return
			}
			h[i], h[w] = h[w], h[i]
			i = w
		}
	}
	for c := range cols {
		if len(h) < k {
			h = append(h, int32(c))
			for i := len(h) - 1; i > 0 && worse(i, (i-1)/2); i = (i - 1) / 2 {
				h[i], h[(i-1)/2] = h[(i-1)/2], h[i]
			}
			continue
		}
		if before(int32(c), h[0]) {
			h[0] = int32(c)
			down(0)
		}
	}
	return h
}

// compareKeys orders a before b (−1) when a sorts first; NaNs sort last in
// both directions.
func compareKeys(a, b float32, descending bool) int {
	an, bn := a != a, b != b
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	if descending {
		a, b = b, a
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// GatherRows implements Device.
func (d *CPU) GatherRows(src Buffer, rows, cols int, idx IndexBuffer, k int, dst Buffer) {
	ss, ds, ix := f(src), f(dst), CPUIndexData(idx)
	checkLen("gather rows source", rows*cols, len(ss))
	checkLen("gather rows index", rows*k, len(ix))
	checkLen("gather rows output", rows*k, len(ds))
	for r := 0; r < rows; r++ {
		for j, t := range ix[r*k : (r+1)*k] {
			checkIndex(t, cols)
			ds[r*k+j] = ss[r*cols+int(t)]
		}
	}
}

// ScatterAddRows implements Device.
func (d *CPU) ScatterAddRows(src Buffer, rows, cols int, idx IndexBuffer, k int, dst Buffer) {
	ss, ds, ix := f(src), f(dst), CPUIndexData(idx)
	checkLen("scatter rows source", rows*k, len(ss))
	checkLen("scatter rows output", rows*cols, len(ds))
	for r := 0; r < rows; r++ {
		for j, t := range ix[r*k : (r+1)*k] {
			checkIndex(t, cols)
			ds[r*cols+int(t)] += ss[r*k+j]
		}
	}
}
