package selsearch

import "math"

// graph is the 8-connected pixel graph of an image with edges sorted by
// ascending weight (ties in pixel order, so results are deterministic). It
// depends on the image and sigma only, so the segmentations for every k of a
// colour space share it.
type graph struct {
	w, h   int
	a, b   []int32   // edge end pixels
	weight []float32 // Euclidean colour distance of the smoothed pixels
}

// edge directions from pixel (x, y): right, down, down-right, down-left.
var edgeOffsets = [4][2]int{{1, 0}, {0, 1}, {1, 1}, {-1, 1}}

// buildGraph smooths each channel with a Gaussian of sigma and returns the
// sorted pixel graph.
func buildGraph(img *planes, sigma float64) *graph {
	w, h := img.w, img.h
	chans := make([][]float32, img.c)
	for c := range chans {
		f := toFloat(img.channel(c))
		if sigma > 0 {
			k := gaussianKernel(sigma)
			f = separable(f, w, h, k, k)
		}
		chans[c] = f
	}
	keys := make([]uint32, 0, 4*w*h)
	ids := make([]uint32, 0, 4*w*h)
	for y := range h {
		for x := range w {
			p := y*w + x
			for d, off := range edgeOffsets {
				nx, ny := x+off[0], y+off[1]
				if nx < 0 || nx >= w || ny >= h {
					continue
				}
				q := ny*w + nx
				var s float32
				for _, ch := range chans {
					diff := ch[p] - ch[q]
					s += diff * diff
				}
				keys = append(keys, math.Float32bits(float32(math.Sqrt(float64(s)))))
				ids = append(ids, uint32(p*4+d))
			}
		}
	}
	radixSort(keys, ids)
	g := &graph{w: w, h: h, a: make([]int32, len(ids)), b: make([]int32, len(ids)), weight: make([]float32, len(ids))}
	for i, id := range ids {
		p, d := int(id/4), id%4
		x, y := p%w, p/w
		g.a[i] = int32(p)
		g.b[i] = int32((y+edgeOffsets[d][1])*w + x + edgeOffsets[d][0])
		g.weight[i] = math.Float32frombits(keys[i])
	}
	return g
}

// radixSort sorts keys ascending, carrying vals along, stably (LSD, 8 bits
// a pass). Non-negative float32 bit patterns sort like the floats.
func radixSort(keys, vals []uint32) {
	n := len(keys)
	if n < 2 {
		return
	}
	k2, v2 := make([]uint32, n), make([]uint32, n)
	for shift := uint(0); shift < 32; shift += 8 {
		var count [257]int
		for _, k := range keys {
			count[(k>>shift)&0xff+1]++
		}
		if count[1+((keys[0]>>shift)&0xff)] == n {
			continue // every key has the same byte here
		}
		for i := 1; i < 257; i++ {
			count[i] += count[i-1]
		}
		for i, k := range keys {
			b := (k >> shift) & 0xff
			k2[count[b]] = k
			v2[count[b]] = vals[i]
			count[b]++
		}
		copy(keys, k2)
		copy(vals, v2)
	}
}

// segmentation labels each pixel with its segment in [0, n).
type segmentation struct {
	w, h   int
	n      int
	labels []int32
}

// segment runs Felzenszwalb-Huttenlocher on the sorted graph: an edge joins
// two components when its weight is at most both components' internal
// difference (their heaviest joining edge so far) plus k/|C|; afterwards,
// components smaller than minRegion are joined along the lightest edges.
func (g *graph) segment(k float64, minRegion int) segmentation {
	n := g.w * g.h
	ds := newDisjointSet(n)
	thr := make([]float32, n)
	for i := range thr {
		thr[i] = float32(k)
	}
	for i, w := range g.weight {
		a, b := ds.find(g.a[i]), ds.find(g.b[i])
		if a == b || w > thr[a] || w > thr[b] {
			continue
		}
		r := ds.union(a, b)
		thr[r] = w + float32(k/float64(ds.size[r]))
	}
	for i := range g.weight {
		a, b := ds.find(g.a[i]), ds.find(g.b[i])
		if a != b && (int(ds.size[a]) < minRegion || int(ds.size[b]) < minRegion) {
			ds.union(a, b)
		}
	}
	return relabel(ds, g.w, g.h)
}

// relabel numbers the components 0..n-1 in order of their first pixel.
func relabel(ds *disjointSet, w, h int) segmentation {
	s := segmentation{w: w, h: h, labels: make([]int32, w*h)}
	id := make([]int32, w*h)
	for i := range id {
		id[i] = -1
	}
	for p := range s.labels {
		r := ds.find(int32(p))
		if id[r] < 0 {
			id[r] = int32(s.n)
			s.n++
		}
		s.labels[p] = id[r]
	}
	return s
}
