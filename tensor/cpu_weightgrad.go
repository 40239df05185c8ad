package tensor

import "github.com/detflow/detflow/tensor/gemm"

// weightGradInPlace reports whether gemmWeightGrad computes a weight
// gradient of g with m output channels over k output pixels: kernels wider
// than one pixel without horizontal dilation (a tap row's KW·C values must
// be consecutive), enough of them per row that the in-place GEMM runs whole
// 32-column slivers, no product small enough for gemm's plain loops, and
// at least as many pixels as output channels: the copy and the reordering
// of C it costs (m·n) must be small beside the packing it saves (n·k).
// BenchmarkWeightGrad, in place vs packed: ResNet-50's 3x3 convs at 224,
// batch 2, 1.3-1.5x at 56 and 28 pixels, 1.0-1.2x at 14; at 7 (m=512,
// k=98) 0.8-0.9x, so that one stays packed.
func weightGradInPlace(m, k int, g ConvGeom) bool {
	return g.KH*g.KW > 1 && g.DilationW == 1 && g.KW*g.C >= 64 && m*g.KW*g.C >= 343 && k >= m
}

// gemmWeightGrad is GemmIm2col's weight-gradient product C = alpha·A·colᵀ
// + beta·C (m output channels, n = C·KH·KW, k = images·OH·OW: xs holds
// the images), with colᵀ
// read in place instead of packed, which transposes every row of the
// im2col matrix (16% of a 3x3 conv's train step). beta is 0 or 1: the
// edge tiles of C fall elsewhere here, and gemm adds other betas unfused
// there.
//
// Lay the zero-padded images out channels last, padded row by padded row,
// the images one above the next. Row p of colᵀ (output pixel p), taken
// over the taps (kh, ·, ·) with its columns in (kw, c) order, is then KW·C
// consecutive values starting at pixel (oy·SH + kh·DH, ox·SW). So one
// gemm.SgemmRows per kh computes C with its columns in (kh, kw, c) order,
// and each row of C is put back in (c, kh, kw) order after (and, if beta
// is not zero, in that order before). The terms and their order are the
// packed path's, so the result is bit-identical. Bands of whole k steps
// (gemm.KStep) bound the channels-last copy.
func (d *CPU) gemmWeightGrad(m, k int, alpha float32, a []float32, lda int, xs []float32, g ConvGeom, beta float32, c []float32, ldc int) {
	cl := newChannelsLast(xs, g)
	taps := g.KH * g.KW
	if beta != 0 {
		d.permuteTaps(c, m, ldc, g.C, taps, false)
	}
	bands, need := cl.bands(k)
	slab := takePaddedScratch(need)
	defer putPaddedScratch(slab)
	rows := make([]int, 0, k)
	kwc := g.KW * g.C
	for i, p1 := range bands {
		p0 := 0
		if i > 0 {
			p0, beta = bands[i-1], 1
		}
		lo := cl.top(p0)
		band := slab[:cl.rowsFor(p0, p1)*cl.rowLen]
		d.fillChannelsLast(band, cl, lo)
		rows = rows[:0]
		for p := p0; p < p1; p++ {
			rows = append(rows, cl.offset(p, lo))
		}
		for kh := range g.KH {
			gemm.SgemmRows(d.workers, false, m, kwc, p1-p0, alpha, a[p0:], lda, band[kh*g.DilationH*cl.rowLen:], rows, beta, c[kh*kwc:], ldc)
		}
	}
	d.permuteTaps(c, m, ldc, g.C, taps, true)
}

// weightGradBandFloats bounds gemmWeightGrad's channels-last copy (8 MB),
// unless one k step needs more. A variable so that tests can force bands.
var weightGradBandFloats = paddedBandFloats

// channelsLast describes the channels-last copy of the zero-padded
// images of g stacked one above the next: padded row r (of images·PH)
// holds PW pixels of C values each.
type channelsLast struct {
	xs                   []float32
	g                    ConvGeom
	ph, ow, cols, rowLen int // cols: output pixels per image
	reach, bandRows      int // padded rows below a pixel's first tap; rows per band
}

func newChannelsLast(xs []float32, g ConvGeom) channelsLast {
	pw := g.W + 2*g.PadW
	rowLen := pw * g.C
	return channelsLast{
		xs: xs, g: g,
		ph: g.H + 2*g.PadH, ow: g.OutW(), cols: g.ColCols(), rowLen: rowLen,
		reach:    g.DilationH * (g.KH - 1),
		bandRows: max(1, weightGradBandFloats/rowLen),
	}
}

// top is the stacked padded row of output pixel p's first tap.
func (cl channelsLast) top(p int) int {
	return p/cl.cols*cl.ph + p%cl.cols/cl.ow*cl.g.StrideH
}

// offset is where output pixel p's first tap starts in a copy whose first
// row is padded row lo.
func (cl channelsLast) offset(p, lo int) int {
	return (cl.top(p)-lo)*cl.rowLen + p%cl.ow*cl.g.StrideW*cl.g.C
}

// rowsFor is the number of padded rows the output pixels [p0, p1) read.
func (cl channelsLast) rowsFor(p0, p1 int) int {
	return cl.top(p1-1) + cl.reach + 1 - cl.top(p0)
}

// bands splits the output pixels [0, k) into bands whose padded rows fit
// bandRows, returning where each ends and the most values one copies. A
// band is all of k, or whole gemm.KStep steps (at least one), or the
// final, shorter step alone, so that the bands sum as one product would.
func (cl channelsLast) bands(k int) (ends []int, most int) {
	if cl.rowsFor(0, k) <= cl.bandRows {
		return []int{k}, cl.rowsFor(0, k) * cl.rowLen
	}
	step := gemm.KStep(k)
	full := k / step * step
	for p0 := 0; p0 < k; {
		p1 := k
		if p0 < full {
			p1 = p0 + step
			for p1+step <= full && cl.rowsFor(p0, p1+step) <= cl.bandRows {
				p1 += step
			}
		}
		ends = append(ends, p1)
		most = max(most, cl.rowsFor(p0, p1)*cl.rowLen)
		p0 = p1
	}
	return ends, most
}

// fillChannelsLast writes len(slab)/rowLen padded rows, from row lo, of
// the channels-last copy into slab.
func (d *CPU) fillChannelsLast(slab []float32, cl channelsLast, lo int) {
	g := cl.g
	plane := g.H * g.W
	pad := g.PadW * g.C
	d.parallel(len(slab)/cl.rowLen, max(1, elemGrain/cl.rowLen), func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			row := slab[r*cl.rowLen : (r+1)*cl.rowLen]
			img, iy := (lo+r)/cl.ph, (lo+r)%cl.ph-g.PadH
			if iy < 0 || iy >= g.H {
				clear(row)
				continue
			}
			clear(row[:pad])
			clear(row[pad+g.W*g.C:])
			gemm.Transpose(row[pad:], cl.xs[img*g.C*plane+iy*g.W:], plane, g.C, g.W, g.C)
		}
	})
}

// permuteTaps reorders each of the m rows of c (row stride ldc, C·taps
// values) from (tap, channel) order to (channel, tap) order, or back when
// toChannels is false.
func (d *CPU) permuteTaps(c []float32, m, ldc, channels, taps int, toChannels bool) {
	n := channels * taps
	d.parallel(m, max(1, elemGrain/n), func(lo, hi int) {
		tmp := make([]float32, n)
		for i := lo; i < hi; i++ {
			row := c[i*ldc : i*ldc+n]
			copy(tmp, row)
			if toChannels {
				gemm.Transpose(row, tmp, channels, taps, channels, taps)
			} else {
				gemm.Transpose(row, tmp, taps, channels, taps, channels)
			}
		}
	})
}
