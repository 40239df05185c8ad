package selsearch

import "math"

// gaussianKernel returns a normalised Gaussian of radius ceil(4*sigma).
func gaussianKernel(sigma float64) []float32 {
	r := int(math.Ceil(4 * sigma))
	k := make([]float32, 2*r+1)
	var sum float64
	vals := make([]float64, len(k))
	for i := range k {
		x := float64(i - r)
		vals[i] = math.Exp(-x * x / (2 * sigma * sigma))
		sum += vals[i]
	}
	for i := range k {
		k[i] = float32(vals[i] / sum)
	}
	return k
}

// derivativeKernel returns the first derivative of the normalised Gaussian,
// d/dx g(x) = -x/sigma² g(x), as a correlation kernel: applied at x it
// gives the rate of change towards +x.
func derivativeKernel(sigma float64) []float32 {
	g := gaussianKernel(sigma)
	r := len(g) / 2
	k := make([]float32, len(g))
	for i := range k {
		x := float64(i - r)
		k[i] = float32(x / (sigma * sigma) * float64(g[i]))
	}
	return k
}

// convolveRows correlates every row of src with k, replicating the border.
func convolveRows(dst, src []float32, w, h int, k []float32) {
	r := len(k) / 2
	for y := range h {
		row := src[y*w : (y+1)*w]
		out := dst[y*w : (y+1)*w]
		for x := range w {
			var s float32
			if x >= r && x+r < w {
				win := row[x-r : x+r+1]
				for i, kv := range k {
					s += kv * win[i]
				}
			} else {
				for i, kv := range k {
					s += kv * row[min(max(x+i-r, 0), w-1)]
				}
			}
			out[x] = s
		}
	}
}

// convolveCols correlates every column of src with k, replicating the border.
func convolveCols(dst, src []float32, w, h int, k []float32) {
	r := len(k) / 2
	for y := range h {
		out := dst[y*w : (y+1)*w]
		for x := range out {
			out[x] = 0
		}
		for i, kv := range k {
			sy := min(max(y+i-r, 0), h-1)
			row := src[sy*w : (sy+1)*w]
			for x, v := range row {
				out[x] += kv * v
			}
		}
	}
}

// separable applies kx along rows then ky along columns.
func separable(src []float32, w, h int, kx, ky []float32) []float32 {
	tmp := make([]float32, len(src))
	dst := make([]float32, len(src))
	convolveRows(tmp, src, w, h, kx)
	convolveCols(dst, tmp, w, h, ky)
	return dst
}

// toFloat returns an 8-bit channel as float32.
func toFloat(ch []uint8) []float32 {
	f := make([]float32, len(ch))
	for i, v := range ch {
		f[i] = float32(v)
	}
	return f
}
