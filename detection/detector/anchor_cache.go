package detector

import "github.com/detflow/detflow/detection"

// anchorCache keeps each level's anchors per feature-map size: they depend
// only on the generator and the size, and a run meets few sizes. It is not
// goroutine-safe: take levels before handling images in parallel.
type anchorCache map[[5]int][]float32

// levels returns gen's anchors of every level of the given (H, W) sizes.
// The padded image is taken to be the first level's size times its
// stride (exact: images are padded to a multiple of the coarsest stride).
func (c anchorCache) levels(gen *detection.AnchorGenerator, sizes [][2]int) [][]float32 {
	out := make([][]float32, len(sizes))
	if len(sizes) == 0 {
		return out
	}
	imgH, imgW := sizes[0][0]*gen.Strides[0], sizes[0][1]*gen.Strides[0]
	for l, s := range sizes {
		sy, sx := gen.LevelStrides(l, s[0], s[1], imgH, imgW)
		key := [5]int{l, s[0], s[1], sy, sx}
		a, ok := c[key]
		if !ok {
			a = gen.StridedGridAnchors(l, s[0], s[1], sy, sx)
			c[key] = a
		}
		out[l] = a
	}
	return out
}

// anchorGenerator maps a head's anchor keys; the legacy (v1) generator
// centres anchors half a pixel in, as the v1 configs' center_offset.
// With torchvision's conventions (model.conventions) base anchors are
// rounded and strides follow the padded image size.
func anchorGenerator(strides []int, scales, ratios []float64, legacy, torchvision bool) detection.AnchorGenerator {
	g := detection.AnchorGenerator{
		Strides:         append([]int(nil), strides...),
		Scales:          append([]float64(nil), scales...),
		Ratios:          append([]float64(nil), ratios...),
		Legacy:          legacy,
		RoundBase:       torchvision,
		StridesFromSize: torchvision,
	}
	if legacy {
		g.CenterOffset = 0.5
	}
	return g
}
