package batch

import "image"

// libjpeg's default output stage, after the IDCT: Go's image/jpeg returns
// the chroma planes at their coded resolution and color.YCbCrToRGB
// replicates each chroma sample (up to 35 levels from libjpeg, PIL and
// OpenCV on 4:2:0 photos). libjpegRGB upsamples as libjpeg-turbo's
// h2v1/h2v2 "fancy" (triangular) upsampling does (jdsample.c) and converts
// with its fixed-point tables (jdcolor.c). What remains is the difference
// between Go's and libjpeg's integer IDCTs (a level here and there).

const (
	yccScaleBits = 16
	yccHalf      = 1 << (yccScaleBits - 1)
)

// fix is libjpeg's FIX(x): x in 16.16 fixed point, rounded.
func fix(x float64) int32 { return int32(x*(1<<yccScaleBits) + 0.5) }

// libjpegRGB returns the RGB planes of m as libjpeg-turbo decodes them, or
// ok false for subsampling ratios other than 4:4:4, 4:2:2 and 4:2:0 (the
// caller then converts as Go does).
func libjpegRGB(m *image.YCbCr) (r, g, b []uint8, ok bool) {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	var cb, cr []uint8
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
		cb, cr = plane(m.Cb, m.CStride, w, h), plane(m.Cr, m.CStride, w, h)
	case image.YCbCrSubsampleRatio422:
		cw := (w + 1) / 2
		cb, cr = upsampleH2V1(plane(m.Cb, m.CStride, cw, h), cw, w, h), upsampleH2V1(plane(m.Cr, m.CStride, cw, h), cw, w, h)
	case image.YCbCrSubsampleRatio420:
		cw, ch := (w+1)/2, (h+1)/2
		cb, cr = upsampleH2V2(plane(m.Cb, m.CStride, cw, ch), cw, ch, w, h), upsampleH2V2(plane(m.Cr, m.CStride, cw, ch), cw, ch, w, h)
	default:
		return nil, nil, nil, false
	}
	y := plane(m.Y, m.YStride, w, h)
	r, g, b = make([]uint8, w*h), make([]uint8, w*h), make([]uint8, w*h)
	for i := range y {
		yy, x1, x2 := int32(y[i]), int32(cb[i])-128, int32(cr[i])-128
		r[i] = clampByte(yy + (fix(1.40200)*x2+yccHalf)>>yccScaleBits)
		g[i] = clampByte(yy + (-fix(0.34414)*x1+yccHalf-fix(0.71414)*x2)>>yccScaleBits)
		b[i] = clampByte(yy + (fix(1.77200)*x1+yccHalf)>>yccScaleBits)
	}
	return r, g, b, true
}

// plane copies a w x h plane out of a strided buffer.
func plane(p []uint8, stride, w, h int) []uint8 {
	out := make([]uint8, 0, w*h)
	for y := range h {
		out = append(out, p[y*stride:y*stride+w]...)
	}
	return out
}

func clampByte(v int32) uint8 { return uint8(min(max(v, 0), 255)) }

// upsampleRow doubles one row of column sums as h2v1 (shift 2, biases 1
// and 2) and h2v2 (shift 4, biases 8 and 7) do: the outer samples keep
// their value, inner ones are 3/4 of theirs and 1/4 of the neighbour, with
// libjpeg's alternating rounding.
func upsampleRow(dst []uint8, cols []int32, shift uint, biasLo, biasHi int32) {
	n := len(cols)
	if n == 1 {
		v := uint8((cols[0]*4 + biasLo) >> shift)
		for i := range dst {
			dst[i] = v
		}
		return
	}
	for c := range n {
		left, right := cols[max(c-1, 0)], cols[min(c+1, n-1)]
		lo, hi := cols[c]*3+left+biasLo, cols[c]*3+right+biasHi
		if c == 0 {
			lo = cols[0]*4 + biasLo
		}
		if c == n-1 {
			hi = cols[c]*4 + biasHi
		}
		if 2*c < len(dst) {
			dst[2*c] = uint8(lo >> shift)
		}
		if 2*c+1 < len(dst) {
			dst[2*c+1] = uint8(hi >> shift)
		}
	}
}

// upsampleH2V1 is jdsample.c's h2v1_fancy_upsample, cropped to w.
func upsampleH2V1(p []uint8, cw, w, h int) []uint8 {
	out := make([]uint8, w*h)
	cols := make([]int32, cw)
	for y := range h {
		for x := range cw {
			cols[x] = int32(p[y*cw+x])
		}
		upsampleRow(out[y*w:(y+1)*w], cols, 2, 1, 2)
	}
	return out
}

// upsampleH2V2 is jdsample.c's h2v2_fancy_upsample, cropped to w x h: each
// output row blends its chroma row (3/4) with the nearer neighbour row
// (1/4), edge rows replicated, then horizontally as h2v1.
func upsampleH2V2(p []uint8, cw, ch, w, h int) []uint8 {
	out := make([]uint8, w*h)
	cols := make([]int32, cw)
	for y := range h {
		row := y / 2
		near := row - 1
		if y%2 == 1 {
			near = row + 1
		}
		near = min(max(near, 0), ch-1)
		for x := range cw {
			cols[x] = int32(p[row*cw+x])*3 + int32(p[near*cw+x])
		}
		upsampleRow(out[y*w:(y+1)*w], cols, 4, 8, 7)
	}
	return out
}
