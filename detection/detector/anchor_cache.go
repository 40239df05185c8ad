package detector

import "github.com/detflow/detflow/detection"

// anchorCache keeps each level's anchors per feature-map size: they depend
// only on the generator and the size, and a run meets few sizes. It is not
// goroutine-safe: take levels before handling images in parallel.
type anchorCache map[[3]int][]float32

// levels returns gen's anchors of every level of the given (H, W) sizes.
func (c anchorCache) levels(gen *detection.AnchorGenerator, sizes [][2]int) [][]float32 {
	out := make([][]float32, len(sizes))
	for l, s := range sizes {
		key := [3]int{l, s[0], s[1]}
		a, ok := c[key]
		if !ok {
			a = gen.GridAnchors(l, s[0], s[1])
			c[key] = a
		}
		out[l] = a
	}
	return out
}

// anchorGenerator maps a head's anchor keys; the legacy (v1) generator
// centres anchors half a pixel in, as the v1 configs' center_offset.
func anchorGenerator(strides []int, scales, ratios []float64, legacy bool) detection.AnchorGenerator {
	g := detection.AnchorGenerator{
		Strides: append([]int(nil), strides...),
		Scales:  append([]float64(nil), scales...),
		Ratios:  append([]float64(nil), ratios...),
		Legacy:  legacy,
	}
	if legacy {
		g.CenterOffset = 0.5
	}
	return g
}
