package selsearch

// initialRegions is a segmentation arranged for grouping: per segment its
// size, box, histograms and adjacent segments. Strategies share it.
type initialRegions struct {
	n       int
	cw, tw  int // histogram row widths
	size    []int32
	box     []box
	colour  []float32
	texture []float32
	pairs   [][2]int32 // adjacent segments, a < b, sorted
}

func newInitialRegions(f *pixelFeatures, seg segmentation) *initialRegions {
	ir := &initialRegions{n: seg.n, cw: colourBins * f.c, tw: orientations * textureBins * f.c}
	ir.size = make([]int32, seg.n)
	ir.box = make([]box, seg.n)
	for i := range ir.box {
		ir.box[i] = box{int32(seg.w), int32(seg.h), -1, -1}
	}
	for p, l := range seg.labels {
		x, y := int32(p%seg.w), int32(p/seg.w)
		ir.size[l]++
		b := &ir.box[l]
		b[0], b[1], b[2], b[3] = min(b[0], x), min(b[1], y), max(b[2], x), max(b[3], y)
	}
	ir.colour, ir.texture = regionHistograms(f, seg)
	ir.pairs = adjacentPairs(seg)
	return ir
}

// adjacentPairs lists the 8-connected neighbouring segments.
func adjacentPairs(seg segmentation) [][2]int32 {
	seen := map[[2]int32]bool{}
	var out [][2]int32
	var last [2]int32
	add := func(a, b int32) {
		if a == b {
			return
		}
		if a > b {
			a, b = b, a
		}
		k := [2]int32{a, b}
		if k == last || seen[k] {
			return
		}
		last = k
		seen[k] = true
		out = append(out, k)
	}
	w, h := seg.w, seg.h
	for y := range h {
		for x := range w {
			l := seg.labels[y*w+x]
			for _, off := range edgeOffsets {
				nx, ny := x+off[0], y+off[1]
				if nx < 0 || nx >= w || ny >= h {
					continue
				}
				add(l, seg.labels[ny*w+nx])
			}
		}
	}
	return out
}

// grouping is the state of one hierarchical grouping: regions 0..n-1 are
// the segments, each merge appends one region.
type grouping struct {
	imageSize float32
	cw, tw    int
	size      []int32
	box       []box
	colour    []float32
	texture   []float32
	alive     []bool
	nbrs      [][]int32
	heap      pairHeap
}

func (g *grouping) colourRow(r int32) []float32 {
	return g.colour[int(r)*g.cw : (int(r)+1)*g.cw]
}

func (g *grouping) textureRow(r int32) []float32 {
	return g.texture[int(r)*g.tw : (int(r)+1)*g.tw]
}

// group merges the most similar adjacent pair until none is left and
// returns every region's box in creation order (segments first, the last
// merge last).
func group(ir *initialRegions, m measure, imageSize int) []box {
	total := 2*ir.n - 1
	g := &grouping{
		imageSize: float32(imageSize), cw: ir.cw, tw: ir.tw,
		size:  append(make([]int32, 0, total), ir.size...),
		box:   append(make([]box, 0, total), ir.box...),
		alive: make([]bool, ir.n, total),
		nbrs:  make([][]int32, ir.n, total),
	}
	if m&measureColour != 0 {
		g.colour = append(make([]float32, 0, total*ir.cw), ir.colour...)
	}
	if m&measureTexture != 0 {
		g.texture = append(make([]float32, 0, total*ir.tw), ir.texture...)
	}
	for i := range g.alive {
		g.alive[i] = true
	}
	for _, p := range ir.pairs {
		g.nbrs[p[0]] = append(g.nbrs[p[0]], p[1])
		g.nbrs[p[1]] = append(g.nbrs[p[1]], p[0])
		g.heap.push(pair{g.similarity(p[0], p[1], m), p[0], p[1]})
	}
	mark := make([]int32, total) // mark[r] == t+1: r already a neighbour of t
	for g.heap.len() > 0 {
		p := g.heap.pop()
		if !g.alive[p.a] || !g.alive[p.b] {
			continue
		}
		t := g.merge(p.a, p.b, m)
		for _, src := range [2]int32{p.a, p.b} {
			for _, nb := range g.nbrs[src] {
				if !g.alive[nb] || mark[nb] == t+1 {
					continue
				}
				mark[nb] = t + 1
				g.nbrs[t] = append(g.nbrs[t], nb)
				g.nbrs[nb] = append(g.nbrs[nb], t)
				g.heap.push(pair{g.similarity(t, nb, m), t, nb})
			}
			g.nbrs[src] = nil
		}
	}
	return g.box
}

// merge appends the union of a and b as a new region and retires both.
func (g *grouping) merge(a, b int32, m measure) int32 {
	t := int32(len(g.size))
	sa, sb := g.size[a], g.size[b]
	g.size = append(g.size, sa+sb)
	g.box = append(g.box, union(g.box[a], g.box[b]))
	g.alive[a], g.alive[b] = false, false
	g.alive = append(g.alive, true)
	g.nbrs = append(g.nbrs, nil)
	wa, wb := float32(sa)/float32(sa+sb), float32(sb)/float32(sa+sb)
	if m&measureColour != 0 {
		g.colour = appendMixed(g.colour, g.colourRow(a), g.colourRow(b), wa, wb)
	}
	if m&measureTexture != 0 {
		g.texture = appendMixed(g.texture, g.textureRow(a), g.textureRow(b), wa, wb)
	}
	return t
}

// appendMixed appends the size-weighted mean of two histograms: the
// histogram of the union of the two regions.
func appendMixed(dst, x, y []float32, wx, wy float32) []float32 {
	for i, v := range x {
		dst = append(dst, wx*v+wy*y[i])
	}
	return dst
}

// pair is a candidate merge.
type pair struct {
	sim  float32
	a, b int32
}

// before orders the heap: most similar first, ties by region ids so that
// grouping is deterministic.
func (p pair) before(q pair) bool {
	if p.sim != q.sim {
		return p.sim > q.sim
	}
	if p.a != q.a {
		return p.a < q.a
	}
	return p.b < q.b
}

// pairHeap is a binary max-heap of pairs.
type pairHeap struct{ items []pair }

func (h *pairHeap) len() int { return len(h.items) }

func (h *pairHeap) push(p pair) {
	h.items = append(h.items, p)
	i := len(h.items) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !h.items[i].before(h.items[parent]) {
			break
		}
		h.items[i], h.items[parent] = h.items[parent], h.items[i]
		i = parent
	}
}

func (h *pairHeap) pop() pair {
	top := h.items[0]
	last := len(h.items) - 1
	h.items[0] = h.items[last]
	h.items = h.items[:last]
	i := 0
	for {
		l, r, best := 2*i+1, 2*i+2, i
		if l < last && h.items[l].before(h.items[best]) {
			best = l
		}
		if r < last && h.items[r].before(h.items[best]) {
			best = r
		}
		if best == i {
			return top
		}
		h.items[i], h.items[best] = h.items[best], h.items[i]
		i = best
	}
}
