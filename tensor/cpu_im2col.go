package tensor

import (
	"runtime"
	"sync"

	"github.com/detflow/detflow/tensor/gemm"
)

// Im2col implements Device. Rows (c,kh,kw) are independent, so they are
// split across goroutines.
func (d *CPU) Im2col(x Buffer, g ConvGeom, col Buffer) {
	xs, cs := f(x), f(col)
	checkLen("im2col image", g.C*g.H*g.W, len(xs))
	checkLen("im2col columns", g.ColRows()*g.ColCols(), len(cs))
	cols := g.ColCols()
	d.parallel(g.ColRows(), max(1, elemGrain/max(cols, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			im2colRow(xs, g, r, cs[r*cols:(r+1)*cols])
		}
	})
}

// im2colRow fills one row (c,kh,kw) of the column matrix: for every output
// pixel the input pixel that tap reads, or zero in the padding.
func im2colRow(xs []float32, g ConvGeom, r int, out []float32) {
	im2colSpan(xs, g, g.OutW(), r, 0, out)
}

// im2colSpan sets out[i] to element (r, j0+i) of the column matrix: the
// output pixels j0.. of row (c,kh,kw), which may start and end mid-row.
// ow is g.OutW(), passed in because GEMM packing calls this once per row
// of a panel and the divisions in OutW showed in profiles.
func im2colSpan(xs []float32, g ConvGeom, ow, r, j0 int, out []float32) {
	if g.pointwise() {
		// Row r is channel r's plane itself: one copy instead of one per
		// output row (7 or 14 values in ResNet's late stages).
		hw := g.H * g.W
		copy(out, xs[r*hw+j0:r*hw+j0+len(out)])
		return
	}
	kw := r % g.KW
	kh := (r / g.KW) % g.KH
	c := r / (g.KW * g.KH)
	plane := xs[c*g.H*g.W : (c+1)*g.H*g.W]
	y, x := j0/ow, j0%ow
	for len(out) > 0 {
		if full := len(out) / ow; x == 0 && full > 0 { // whole rows at once
			im2colRows(plane, g, kh, kw, y, full, out[:full*ow])
			out, y = out[full*ow:], y+full
			continue
		}
		n := min(ow-x, len(out))
		im2colSegment(plane, g, kh, kw, y, x, out[:n])
		out = out[n:]
		y, x = y+1, 0
	}
}

// im2colRows is im2colSegment over whole output rows y0..y0+rows: the
// valid rows and columns of a tap are the same in every row, so one
// fillRows call does them all, where a call per row cost more than its
// copies at ResNet's 7- and 14-pixel rows.
func im2colRows(plane []float32, g ConvGeom, kh, kw, y0, rows int, dst []float32) {
	ow := g.OutW()
	iy := y0*g.StrideH - g.PadH + kh*g.DilationH // input row of output row y0
	ix := kw*g.DilationW - g.PadW                // input column of output column 0
	lo, hi := validCols(iy, g.StrideH, g.H, rows)
	c0, c1 := validCols(ix, g.StrideW, g.W, ow)
	fillRows(dst, ow, lo, hi, c0, c1, plane, (iy+lo*g.StrideH)*g.W+ix+c0*g.StrideW, g.StrideH*g.W, g.StrideW)
}

// fillRows fills dst, rows of rowLen values: columns c0..c1 of rows lo..hi
// from src (row lo's first value at src[off], each row srcStride further
// on, its values stride apart), zero everywhere else (the padding). off is
// only read when some value is copied.
func fillRows(dst []float32, rowLen, lo, hi, c0, c1 int, src []float32, off, srcStride, stride int) {
	if c1 == c0 {
		hi = lo
	}
	clear(dst[:lo*rowLen])
	clear(dst[hi*rowLen:])
	for q := lo; q < hi; q++ {
		clear(dst[q*rowLen : q*rowLen+c0])
		clear(dst[q*rowLen+c1 : (q+1)*rowLen])
	}
	if hi > lo {
		gatherRows(dst[lo*rowLen+c0:], src[off:], c1-c0, hi-lo, rowLen, srcStride, stride)
	}
}

// im2colSegment fills dst with output row y's pixels x0.. of tap (kh,kw).
func im2colSegment(plane []float32, g ConvGeom, kh, kw, y, x0 int, dst []float32) {
	ih := y*g.StrideH - g.PadH + kh*g.DilationH
	if ih < 0 || ih >= g.H {
		clear(dst)
		return
	}
	src := plane[ih*g.W : (ih+1)*g.W]
	ix := kw*g.DilationW - g.PadW + x0*g.StrideW // input column of dst[0]
	// Zeros, the valid run, zeros. (A segment can start right of the
	// image, where a wide padding's taps read nothing.)
	lo, hi := validCols(ix, g.StrideW, g.W, len(dst))
	clear(dst[:lo])
	if hi > lo {
		gatherStrided(dst[lo:hi], src[ix+lo*g.StrideW:], g.StrideW)
	}
	clear(dst[hi:])
}

// im2colSource is the column matrices of images consecutive images side by
// side, [C·KH·KW, images·OH·OW], as a gemm.Source: GEMMs pack it straight
// from the images, never storing it (GemmIm2col).
type im2colSource struct {
	xs     []float32
	g      ConvGeom
	images int
	// Sizes of g, computed once: Span runs once per packed row.
	inSize, cols, ow int
}

func newIm2colSource(xs []float32, g ConvGeom, images int) *im2colSource {
	return &im2colSource{xs: xs, g: g, images: images, inSize: g.C * g.H * g.W, cols: g.ColCols(), ow: g.OutW()}
}

func (s *im2colSource) Span(row, col int, dst []float32) {
	inSize, cols := s.inSize, s.cols
	for len(dst) > 0 {
		i, j := col/cols, col%cols
		n := min(cols-j, len(dst))
		im2colSpan(s.xs[i*inSize:(i+1)*inSize], s.g, s.ow, row, j, dst[:n])
		dst, col = dst[n:], col+n
	}
}

// GemmIm2col implements im2colGemmer: Gemm with B the column matrices of
// the images in x side by side (transB: its transpose), packed straight
// from x.
func (d *CPU) GemmIm2col(transA, transB bool, m, n, k int, alpha float32, a Buffer, lda int, x Buffer, g ConvGeom, images int, beta float32, c Buffer, ldc int) {
	xs := f(x)
	checkLen("im2col images", images*g.C*g.H*g.W, len(xs))
	if !transA && transB && n == g.ColRows() && k > 0 && alpha != 0 && (beta == 0 || beta == 1) && weightGradInPlace(m, k, g) {
		d.gemmWeightGrad(m, k, alpha, f(a), lda, xs, g, beta, f(c), ldc)
		return
	}
	if !transA && !transB && beta == 0 && paddedPays(m, k, g, images) {
		d.gemmPadded(m, k, alpha, f(a), lda, xs, g, images, f(c), ldc)
		return
	}
	gemm.SgemmFrom(d.workers, transA, transB, m, n, k, alpha, f(a), lda, newIm2colSource(xs, g, images), beta, f(c), ldc)
}

// Col2im implements Device. Each channel's rows write only that channel's
// plane, so channels are split across goroutines without races.
func (d *CPU) Col2im(col Buffer, g ConvGeom, x Buffer) {
	checkLen("col2im columns", g.ColRows()*g.ColCols(), col.Len())
	d.col2im(f(col), g.ColCols(), g, 0, g.ColCols(), f(x), true)
}

// Col2imAdd implements im2colGemmer: it adds columns j0..j0+span of the
// column matrix, given as [C·KH·KW, span] with row stride ld, onto image x.
// Convolutions scatter their input gradient a tile of columns at a time
// with it, so the whole column matrix never exists.
func (d *CPU) Col2imAdd(col Buffer, ld int, g ConvGeom, j0, span int, x Buffer) {
	if j0 < 0 || span < 0 || j0+span > g.ColCols() || ld < span {
		Panicf("tensor: col2im columns %d..%d of %d, row stride %d", j0, j0+span, g.ColCols(), ld)
	}
	if need := (g.ColRows()-1)*ld + span; col.Len() < need {
		Panicf("tensor: col2im columns: length %d, want at least %d", col.Len(), need)
	}
	d.col2im(f(col), ld, g, j0, span, f(x), false)
}

// col2im adds columns j0..j0+span of every row of cs (row stride ld) onto
// xs, clearing each channel plane first when overwrite is set.
func (d *CPU) col2im(cs []float32, ld int, g ConvGeom, j0, span int, xs []float32, overwrite bool) {
	checkLen("col2im image", g.C*g.H*g.W, len(xs))
	kk := g.KH * g.KW
	d.parallel(g.C, max(1, elemGrain/max(span*kk, 1)), func(lo, hi int) {
		for c := lo; c < hi; c++ {
			plane := xs[c*g.H*g.W : (c+1)*g.H*g.W]
			if overwrite {
				clear(plane)
			}
			for k := 0; k < kk; k++ {
				r := c*kk + k
				col2imSpan(cs[r*ld:r*ld+span], g, r, j0, plane)
			}
		}
	})
}

// col2imSpan adds in[i], element (r, j0+i) of the column matrix, back onto
// the input pixel it was read from: Im2col's adjoint for one row (c,kh,kw)
// over output pixels j0.., which may start and end mid-row.
func col2imSpan(in []float32, g ConvGeom, r, j0 int, plane []float32) {
	kw := r % g.KW
	kh := (r / g.KW) % g.KH
	ow := g.OutW()
	y, x := j0/ow, j0%ow
	for len(in) > 0 {
		if full := len(in) / ow; x == 0 && full > 0 && g.StrideW <= 2 { // whole rows at once
			col2imRows(in[:full*ow], g, kh, kw, y, full, plane)
			in, y = in[full*ow:], y+full
			continue
		}
		n := min(ow-x, len(in))
		col2imSegment(in[:n], g, kh, kw, y, x, plane)
		in = in[n:]
		y, x = y+1, 0
	}
}

// col2imRows is col2imSegment over whole output rows y0..y0+rows of a
// geometry with StrideW 1 or 2, as one addRows or addEvensRows call: the
// valid rows and columns are the same for every row, and a call per row
// cost more than its adds at ResNet's 14- and 7-pixel rows.
func col2imRows(src []float32, g ConvGeom, kh, kw, y0, rows int, plane []float32) {
	ow := g.OutW()
	lo, hi := validCols(y0*g.StrideH-g.PadH+kh*g.DilationH, g.StrideH, g.H, rows)
	ix := kw*g.DilationW - g.PadW // input column of output column 0
	c0, c1 := validCols(ix, g.StrideW, g.W, ow)
	if hi == lo || c1 == c0 {
		return
	}
	ih := (y0+lo)*g.StrideH - g.PadH + kh*g.DilationH
	dst, in := plane[ih*g.W+ix+c0*g.StrideW:], src[lo*ow+c0:]
	if g.StrideW == 1 {
		addRows(dst, in, c1-c0, hi-lo, g.StrideH*g.W, ow)
		return
	}
	addEvensRows(dst, in, c1-c0, hi-lo, g.StrideH*g.W, ow)
}

// col2imSegment adds src, output row y's pixels x0.. of tap (kh,kw), onto
// the plane.
func col2imSegment(src []float32, g ConvGeom, kh, kw, y, x0 int, plane []float32) {
	ih := y*g.StrideH - g.PadH + kh*g.DilationH
	if ih < 0 || ih >= g.H {
		return
	}
	dst := plane[ih*g.W : (ih+1)*g.W]
	ix := kw*g.DilationW - g.PadW + x0*g.StrideW // input column of src[0]
	if g.StrideW == 1 {
		lo := min(max(0, -ix), len(src))
		hi := max(min(len(src), g.W-ix), lo)
		if hi > lo { // else wholly in the padding, perhaps left of dst
			addTo(dst[ix+lo:ix+hi], src[lo:hi])
		}
		return
	}
	lo, hi := validCols(ix, g.StrideW, g.W, len(src))
	if hi > lo {
		scatterAddStrided(dst[ix+lo*g.StrideW:], src[lo:hi], g.StrideW)
	}
}

// validCols is the range [lo, hi) of output columns x whose input column
// x0 + x·stride lies in [0, w), clamped to [0, ow).
func validCols(x0, stride, w, ow int) (lo, hi int) {
	lo = 0
	if x0 < 0 {
		lo = (-x0 + stride - 1) / stride
	}
	hi = 0
	if w-x0 > 0 {
		hi = (w - x0 + stride - 1) / stride // first x with x0 + x·stride >= w
	}
	lo, hi = min(lo, ow), min(hi, ow)
	return lo, max(hi, lo)
}

// gatherStrided sets dst[i] = src[i·stride]: gatherRows for one row.
func gatherStrided(dst, src []float32, stride int) {
	gatherRows(dst, src, len(dst), 1, 0, 0, stride)
}

// addTo sets dst[i] += src[i] over equal lengths.
func addTo(dst, src []float32) {
	src = src[:len(dst)]
	for i := addVec(dst, src); i < len(dst); i++ {
		dst[i] += src[i]
	}
}

// addRows sets dst[r·dstStride + i] += src[r·srcStride + i] for r < rows
// and i < w.
func addRows(dst, src []float32, w, rows, dstStride, srcStride int) {
	if rows <= 0 || w <= 0 {
		return
	}
	dst, src = dst[:(rows-1)*dstStride+w], src[:(rows-1)*srcStride+w]
	if addRowsVec(dst, src, w, rows, dstStride, srcStride) {
		return
	}
	for r := range rows {
		addTo(dst[r*dstStride:r*dstStride+w], src[r*srcStride:])
	}
}

// gatherRows sets dst[r·dstStride + i] = src[r·srcStride + i·stride] for r
// < rows and i < w: copyRows or evensRows at strides 1 and 2.
func gatherRows(dst, src []float32, w, rows, dstStride, srcStride, stride int) {
	switch stride {
	case 1:
		copyRows(dst, src, w, rows, dstStride, srcStride)
	case 2:
		evensRows(dst, src, w, rows, dstStride, srcStride)
	default:
		for r := range rows {
			d, s := dst[r*dstStride:r*dstStride+w], src[r*srcStride:]
			for i := range d {
				d[i] = s[i*stride]
			}
		}
	}
}

// copyRows sets dst[r·dstStride + i] = src[r·srcStride + i] for r < rows
// and i < w.
func copyRows(dst, src []float32, w, rows, dstStride, srcStride int) {
	if rows <= 0 || w <= 0 {
		return
	}
	dst, src = dst[:(rows-1)*dstStride+w], src[:(rows-1)*srcStride+w]
	if copyRowsVec(dst, src, w, rows, dstStride, srcStride) {
		return
	}
	for r := range rows {
		copy(dst[r*dstStride:r*dstStride+w], src[r*srcStride:])
	}
}

// evensRows sets dst[r·dstStride + i] = src[r·srcStride + 2i] for r < rows
// and i < w, reading no further than each row's last value (the scalar
// loop is written so the compiler drops its bounds checks).
func evensRows(dst, src []float32, w, rows, dstStride, srcStride int) {
	if rows <= 0 || w <= 0 {
		return
	}
	dst, src = dst[:(rows-1)*dstStride+w], src[:(rows-1)*srcStride+2*w-1]
	if evensRowsVec(dst, src, w, rows, dstStride, srcStride) {
		return
	}
	for r := range rows {
		d, s := dst[r*dstStride:r*dstStride+w], src[r*srcStride:r*srcStride+2*w-1]
		for i := range d {
			d[i] = s[2*i]
		}
	}
}

// addEvensRows sets dst[r·dstStride + 2i] += src[r·srcStride + i] for
// r < rows and i < w.
func addEvensRows(dst, src []float32, w, rows, dstStride, srcStride int) {
	if rows <= 0 || w <= 0 {
		return
	}
	dst, src = dst[:(rows-1)*dstStride+2*w-1], src[:(rows-1)*srcStride+w]
	if addEvensRowsVec(dst, src, w, rows, dstStride, srcStride) {
		return
	}
	for r := range rows {
		scatterAddStrided(dst[r*dstStride:], src[r*srcStride:r*srcStride+w], 2)
	}
}

// scatterAddStrided sets dst[i·stride] += src[i], Col2im's adjoint of
// gatherStrided.
func scatterAddStrided(dst, src []float32, stride int) {
	if len(src) == 0 {
		return
	}
	if stride == 2 {
		dst = dst[:2*len(src)-1]
		for i, v := range src {
			dst[2*i] += v
		}
		return
	}
	for i, v := range src {
		dst[i*stride] += v
	}
}

// paddedBandFloats bounds a band of gemmPadded: its padded input slab and
// its wide output together hold about this many values (8 MB).
const paddedBandFloats = 2 << 20

// paddedScratch recycles gemmPadded's slab and wide output: allocating
// them per call ran the garbage collector often enough to slow a ResNet-18
// train step by 10%. At most a few are kept, each at most 8 MB.
var paddedScratch struct {
	mu   sync.Mutex
	free [][]float32
}

func takePaddedScratch(n int) []float32 {
	paddedScratch.mu.Lock()
	defer paddedScratch.mu.Unlock()
	for i, b := range paddedScratch.free {
		if cap(b) >= n {
			last := len(paddedScratch.free) - 1
			paddedScratch.free[i] = paddedScratch.free[last]
			paddedScratch.free = paddedScratch.free[:last]
			return b[:n]
		}
	}
	return make([]float32, n)
}

func putPaddedScratch(b []float32) {
	paddedScratch.mu.Lock()
	defer paddedScratch.mu.Unlock()
	if len(paddedScratch.free) < 2*runtime.GOMAXPROCS(0) {
		paddedScratch.free = append(paddedScratch.free, b)
	}
}

// gemmPadded is GemmIm2col with beta 0, B read in place. Split the
// zero-padded input into its stride phases: phase (a, b) holds the padded
// pixels (i·SH + a, j·SW + b), PHs×PWs of them per channel. Row (c, kh, kw)
// of the im2col matrix is then phase (kh·DH mod SH, kw·DW mod SW) of
// channel c shifted by ⌊kh·DH/SH⌋·PWs + ⌊kw·DW/SW⌋: taken over output
// columns PWs apart (OW of them valid, the rest read across a row's end
// and discarded), every row is one contiguous run of the phases, which
// gemm.SgemmRows reads instead of packing. A stride-1 convolution has one
// phase, the padded input itself. Several images are stacked one above the
// next, so the output rows that straddle two images are discarded too. The
// sums are the packed path's, term for term, so the output is
// bit-identical. Bands of output rows bound the phases and the wide output.
//
// See paddedPays for where it is used.
func (d *CPU) gemmPadded(m, k int, alpha float32, a []float32, lda int, xs []float32, g ConvGeom, images int, c []float32, ldc int) {
	sh, sw := g.StrideH, g.StrideW
	oh, ow := g.OutH(), g.OutW()
	phs, pws, reach, stacked, band := paddedBands(m, g, images)
	phases := sh * sw * g.C // planes of the slab
	slabRows := band + reach
	slabLen := phases * slabRows * pws
	scratch := takePaddedScratch(slabLen + m*((band-1)*pws+ow))
	defer putPaddedScratch(scratch)
	// Neither needs clearing: every value a band reads or keeps is written.
	slab, wide := scratch[:slabLen], scratch[slabLen:]
	rows := make([]int, 0, k)
	used := make([]bool, sh*sw) // phases some tap reads (a 1x1 stride-2 conv: one)
	for ch := range g.C {
		for kh := range g.KH {
			for kw := range g.KW {
				y, x := kh*g.DilationH, kw*g.DilationW
				phase := (y%sh)*sw + x%sw
				used[phase] = true
				rows = append(rows, (phase*g.C+ch)*slabRows*pws+y/sh*pws+x/sw)
			}
		}
	}
	cols := oh * ow
	for o0 := 0; o0 < stacked; o0 += band {
		r := min(band, stacked-o0)
		d.fillPhases(slab, slabRows, xs, g, used, o0, r+reach)
		n := (r-1)*pws + ow
		gemm.SgemmRows(d.workers, false, m, n, k, alpha, a, lda, slab, rows, 0, wide, n)
		d.parallel(m, max(1, elemGrain/(r*ow)), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				for q := range r {
					img, y := (o0+q)/phs, (o0+q)%phs
					if y >= oh {
						continue // straddles two images
					}
					dst := c[i*ldc+img*cols+y*ow:]
					copy(dst[:ow], wide[i*n+q*pws:])
				}
			}
		})
	}
}

// paddedBands returns gemmPadded's geometry for m output channels and
// images images of g: the rows and columns of one image's phase, the extra
// phase rows a band reads, the output rows of the stack (OH per image
// valid) and how many of them a band holds.
func paddedBands(m int, g ConvGeom, images int) (phs, pws, reach, stacked, band int) {
	phs = ceilDiv(g.H+2*g.PadH, g.StrideH)
	pws = ceilDiv(g.W+2*g.PadW, g.StrideW)
	reach = g.DilationH * (g.KH - 1) / g.StrideH
	stacked = images*phs - reach
	planes := g.StrideH * g.StrideW * g.C
	band = min(stacked, max(1, paddedBandFloats/((m+planes)*pws)-reach))
	return phs, pws, reach, stacked, band
}

// paddedPays reports whether gemmPadded beats packing B from the image. It
// saves the packing of k values per output column and adds copies of the
// output (m per column) and of the phases (C·SH·SW per column, gathered
// from the image at the stride). Forward passes, one image at 1333x800 and
// two at 224 (ResNet), packed vs in place: the 7x7 stride-2 stem 45 -> 30
// ms at 1333x800, 3.7 -> 2.6 ms at 224; every 3x3 stride-1 conv gains; a
// 3x3 stride-2 conv with 128 channels lost (32 -> 41 ms at 1333x800), as
// did a 1x1 stride-2 one (2.1 -> 2.5 ms at 224), both with scalar gathers.
// With stride-2 gathers by vector permutes (evensRows) a strided conv that
// fits one band gains too. BenchmarkPaddedStrided, ResNet's 3x3 stride-2
// convs at 224, batch 2, medians of 3, packed -> in place: 64 -> 128
// channels 1.86 -> 1.62 ms, 128 3.33 -> 3.06, 256 3.05 -> 3.08, 512 4.54
// -> 3.20. At 1333x800, in bands, 128 channels came out 26.5 -> 25.2 ms in
// that run but 20 -> 22 in an earlier one, so banded strided convs stay
// packed.
func paddedPays(m, k int, g ConvGeom, images int) bool {
	phases := g.StrideH * g.StrideW
	if k <= m+g.C*phases {
		return false
	}
	_, _, _, stacked, band := paddedBands(m, g, images)
	return phases == 1 || 8*g.C*phases <= k || band == stacked
}

// fillPhases writes rows s0..s0+count of the stacked planes of the used
// phases (see gemmPadded) into slab, slabRows rows of PWs per plane, planes
// ordered (phase row, phase column, channel). Pixels of the padding, and
// past it where the phases overhang the padded image, are zero.
func (d *CPU) fillPhases(slab []float32, slabRows int, xs []float32, g ConvGeom, used []bool, s0, count int) {
	sh, sw := g.StrideH, g.StrideW
	phs, pws := ceilDiv(g.H+2*g.PadH, sh), ceilDiv(g.W+2*g.PadW, sw)
	planes := sh * sw * g.C
	d.parallel(planes, max(1, elemGrain/(count*pws)), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			ch, b, a := p%g.C, p/g.C%sw, p/g.C/sw
			if !used[a*sw+b] {
				continue
			}
			// Phase column j is input column j·SW + b − PadW: valid for j in [j0, j1).
			j0 := min(pws, ceilDiv(max(0, g.PadW-b), sw))
			j1 := max(j0, min(pws, ceilDiv(g.W+g.PadW-b, sw)))
			plane := slab[p*slabRows*pws : (p*slabRows+count)*pws]
			for q := 0; q < count; {
				// Rows q..q+n are phase rows pr.. of one image, input rows
				// ih0 + i·SH, valid for i in [lo, hi).
				img, pr := (s0+q)/phs, (s0+q)%phs
				n := min(count-q, phs-pr)
				ih0 := pr*sh + a - g.PadH
				lo, hi := validCols(ih0, sh, g.H, n)
				off := ((img*g.C+ch)*g.H+ih0+lo*sh)*g.W + j0*sw + b - g.PadW
				fillRows(plane[q*pws:(q+n)*pws], pws, lo, hi, j0, j1, xs, off, sh*g.W, sw)
				q += n
			}
		}
	})
}

// ceilDiv returns ⌈x/q⌉ for x ≥ 0, q > 0.
func ceilDiv(x, q int) int { return (x + q - 1) / q }
