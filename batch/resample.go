package batch

import (
	"image"
	"image/color"
)

// The loader's hot path: one pass from the decoded image to normalised,
// resized, flipped float32 planes. It computes exactly what the step-by-step
// transforms do (to float planes, bilinear resize, flip, normalise;
// reference_test.go keeps them and checks the equality bit for bit), with
// the per-pixel source coordinates worked out once per column and row, each
// source row interpolated horizontally once, and no intermediate planes.

// rgbBytes converts an image to three 8-bit planes, RGB or BGR, YCbCr as
// libjpeg does when libjpeg is set (and the layout allows), else as Go's
// color.YCbCrToRGB does.
func rgbBytes(img image.Image, rgb, libjpeg bool) [3][]uint8 {
	var r, g, b []uint8
	ok := false
	ycc, isYCC := img.(*image.YCbCr)
	if isYCC && libjpeg {
		r, g, b, ok = libjpegRGB(ycc)
	}
	switch {
	case ok:
	case isYCC:
		r, g, b = goYCbCrRGB(ycc)
	default:
		r, g, b = anyRGB(img)
	}
	if !rgb {
		r, b = b, r
	}
	return [3][]uint8{r, g, b}
}

// goYCbCrRGB is YCbCrAt per pixel without its per-pixel offset switch: a
// chroma offset is a row part plus a column part, tabled once.
func goYCbCrRGB(m *image.YCbCr) (r, g, b []uint8) {
	bd := m.Rect
	w, h := bd.Dx(), bd.Dy()
	r, g, b = make([]uint8, w*h), make([]uint8, w*h), make([]uint8, w*h)
	c0 := m.COffset(bd.Min.X, bd.Min.Y)
	ccol := make([]int, w)
	for x := range ccol {
		ccol[x] = m.COffset(bd.Min.X+x, bd.Min.Y) - c0
	}
	for y := range h {
		yrow := m.Y[m.YOffset(bd.Min.X, bd.Min.Y+y):][:w]
		crow := m.COffset(bd.Min.X, bd.Min.Y+y)
		o := y * w
		for x, yy := range yrow {
			ci := crow + ccol[x]
			r[o+x], g[o+x], b[o+x] = color.YCbCrToRGB(yy, m.Cb[ci], m.Cr[ci])
		}
	}
	return r, g, b
}

// anyRGB converts other images (grey, CMYK, PNG) through image.At.
func anyRGB(img image.Image) (r, g, b []uint8) {
	bd := img.Bounds()
	w, h := bd.Dx(), bd.Dy()
	r, g, b = make([]uint8, w*h), make([]uint8, w*h), make([]uint8, w*h)
	for y := range h {
		for x := range w {
			R, G, B, _ := img.At(bd.Min.X+x, bd.Min.Y+y).RGBA()
			i := y*w + x
			r[i], g[i], b[i] = uint8(R>>8), uint8(G>>8), uint8(B>>8)
		}
	}
	return r, g, b
}

// taps are the two source samples and their weights of each output
// column (or row): OpenCV INTER_LINEAR's half-pixel centres.
type taps struct {
	i0, i1 []int
	w0, w1 []float64 // 1-t and t
}

func newTaps(n, nn int, flip bool) taps {
	t := taps{make([]int, nn), make([]int, nn), make([]float64, nn), make([]float64, nn)}
	s := float64(n) / float64(nn)
	for j := range nn {
		k := j
		if flip {
			k = nn - 1 - j
		}
		i, f := splitCoord((float64(k)+0.5)*s-0.5, n)
		t.i0[j], t.i1[j], t.w0[j], t.w1[j] = i, min(i+1, n-1), 1-f, f
	}
	return t
}

// resample resizes w x h planes to nw x nh (bilinear, half-pixel centres,
// in float64 as resizeBilinear), mirrors them when flip is set, and
// normalises each channel ((v - mean) / std in float32), into [3,nh,nw].
func resample(src [3][]uint8, w, h, nw, nh int, flip bool, mean, std [3]float32) []float32 {
	out := make([]float32, 3*nw*nh)
	cols, rows := newTaps(w, nw, flip), newTaps(h, nh, false)
	var cache rowCache
	for c := range 3 {
		cache.reset(src[c], w, cols)
		m, s := mean[c], std[c]
		for y := range nh {
			top, bot := cache.row(rows.i0[y], rows.i1[y]), cache.row(rows.i1[y], rows.i0[y])
			w0, w1 := rows.w0[y], rows.w1[y]
			d := out[(c*nh+y)*nw:][:nw]
			bot = bot[:len(top)]
			for x, t := range top {
				v := float32(t*w0 + bot[x]*w1)
				d[x] = (v - m) / s
			}
		}
	}
	return out
}

// rowCache holds the last two source rows interpolated horizontally:
// consecutive output rows share their source rows.
type rowCache struct {
	src  []uint8
	w    int
	cols taps
	idx  [2]int // source row in each buffer, -1 for none
	buf  [2][]float64
}

func (rc *rowCache) reset(src []uint8, w int, cols taps) {
	rc.src, rc.w, rc.cols, rc.idx = src, w, cols, [2]int{-1, -1}
	for k := range rc.buf {
		if len(rc.buf[k]) != len(cols.i0) {
			rc.buf[k] = make([]float64, len(cols.i0))
		}
	}
}

// row is source row y interpolated at every output column, computed into
// the buffer that does not hold row keep (the other row in use) on a miss.
func (rc *rowCache) row(y, keep int) []float64 {
	for k, i := range rc.idx {
		if i == y {
			return rc.buf[k]
		}
	}
	k := 0
	if rc.idx[0] == keep {
		k = 1
	}
	rc.idx[k] = y
	s, d := rc.src[y*rc.w:][:rc.w], rc.buf[k]
	c := rc.cols
	i1, w0, w1 := c.i1[:len(d)], c.w0[:len(d)], c.w1[:len(d)]
	for x, i0 := range c.i0[:len(d)] {
		d[x] = float64(s[i0])*w0[x] + float64(s[i1[x]])*w1[x]
	}
	return d
}
