package selsearch

import "math"

// Histogram sizes, as in the paper.
const (
	colourBins   = 25 // per channel
	orientations = 8  // Gaussian derivative directions (4 axes, both signs)
	textureBins  = 10 // per orientation and channel
)

// pixelFeatures holds, for each pixel, its bin in every colour and texture
// histogram. They depend on the colour image only, so every segmentation
// of it shares them.
type pixelFeatures struct {
	c       int
	n       int     // pixels
	colour  []uint8 // [channel][pixel]: bin in [0, colourBins)
	texture []uint8 // [channel*orientations + o][pixel]: bin in [0, textureBins)
}

func computeFeatures(img *planes) *pixelFeatures {
	n := img.w * img.h
	f := &pixelFeatures{c: img.c, n: n, colour: make([]uint8, img.c*n), texture: make([]uint8, img.c*orientations*n)}
	for i, v := range img.pix {
		f.colour[i] = uint8(int(v) * colourBins >> 8)
	}
	g, d := gaussianKernel(1), derivativeKernel(1)
	maps := make([][]float32, orientations)
	for o := range maps {
		maps[o] = make([]float32, n)
	}
	for c := range img.c {
		ch := toFloat(img.channel(c))
		gx := separable(ch, img.w, img.h, d, g)
		gy := separable(ch, img.w, img.h, g, d)
		// Gaussian derivatives are steerable: the derivative along angle t
		// is cos(t)*gx + sin(t)*gy. Axes 0, 90, 45 and 135 degrees, each
		// split into its positive and negative responses.
		const s = math.Sqrt2 / 2
		var peak [orientations]float32
		for a := range 4 {
			pos, neg := maps[2*a], maps[2*a+1]
			var pmax, nmax float32
			for i := range n {
				var v float32
				switch a {
				case 0:
					v = gx[i]
				case 1:
					v = gy[i]
				case 2:
					v = s * (gx[i] + gy[i])
				default:
					v = s * (gy[i] - gx[i])
				}
				p, q := max(v, 0), max(-v, 0)
				pos[i], neg[i] = p, q
				pmax, nmax = max(pmax, p), max(nmax, q)
			}
			peak[2*a], peak[2*a+1] = pmax, nmax
		}
		for o, m := range maps {
			binMap(f.texture[(c*orientations+o)*n:(c*orientations+o+1)*n], m, peak[o])
		}
	}
	return f
}

// binMap quantises a response map with maximum mx into textureBins bins of
// [0, mx].
func binMap(dst []uint8, m []float32, mx float32) {
	if mx == 0 {
		clear(dst)
		return
	}
	scale := textureBins / mx
	for i, v := range m {
		dst[i] = uint8(min(int(v*scale), textureBins-1))
	}
}

// regionHistograms returns the L1-normalised colour and texture histograms
// of every segment: rows of colourBins*c and orientations*textureBins*c.
func regionHistograms(f *pixelFeatures, seg segmentation) (colour, texture []float32) {
	cw, tw := colourBins*f.c, orientations*textureBins*f.c
	sizes := make([]int32, seg.n)
	for _, l := range seg.labels {
		sizes[l]++
	}
	// Integer counts first: the increments are the hot loop.
	cc := make([]int32, seg.n*cw)
	for c := range f.c {
		bins := f.colour[c*f.n : (c+1)*f.n]
		off := c * colourBins
		for p, l := range seg.labels[:len(bins)] {
			cc[int(l)*cw+off+int(bins[p])]++
		}
	}
	tc := make([]int32, seg.n*tw)
	for m := range f.c * orientations {
		bins := f.texture[m*f.n : (m+1)*f.n]
		off := m * textureBins
		for p, l := range seg.labels[:len(bins)] {
			tc[int(l)*tw+off+int(bins[p])]++
		}
	}
	colour = make([]float32, len(cc))
	texture = make([]float32, len(tc))
	for r, s := range sizes {
		normalise(colour[r*cw:(r+1)*cw], cc[r*cw:(r+1)*cw], float32(int(s)*f.c))
		normalise(texture[r*tw:(r+1)*tw], tc[r*tw:(r+1)*tw], float32(int(s)*f.c*orientations))
	}
	return colour, texture
}

func normalise(dst []float32, counts []int32, total float32) {
	if total == 0 {
		return
	}
	inv := 1 / total
	for i, c := range counts {
		dst[i] = float32(c) * inv
	}
}
