package gemm

// packBRows copies rows [p0,p1) of the kc×nc panel op(B)[pc:pc+kc, jc:jc+nc]
// of untransposed B into every sliver of dst, in the layout of packBT:
// sliver s holds columns jc+s*nr .. jc+s*nr+nr-1 as kc rows of nr
// contiguous values (dst[(s*kc+p)*nr+jj]), columns past the panel's edge
// zero so the micro-kernel can always compute full tiles. Each source row is
// read once, left to right: when B is an im2col matrix its rows are a whole
// feature map apart, and packing one sliver at a time touched kc rows (kc
// pages) for 128 bytes each, too little for the prefetchers (21% of
// RetinaNet's predict time went to packing).
func packBRows(dst, b []float32, ldb, pc, kc, jc, nc, nr, p0, p1 int) {
	for p := p0; p < p1; p++ {
		packRowSlivers(dst, b[(pc+p)*ldb+jc:(pc+p)*ldb+jc+nc], kc, nr, p)
	}
}

// packBRowsFrom is packBRows for a B that src computes: each row is first
// written into row (nc values, one core's L1), then spread over the
// slivers, so B is never stored whole.
func packBRowsFrom(dst []float32, src Source, row []float32, pc, kc, jc, nc, nr, p0, p1 int) {
	row = row[:nc]
	for p := p0; p < p1; p++ {
		src.Span(pc+p, jc, row)
		packRowSlivers(dst, row, kc, nr, p)
	}
}

// packRowSlivers copies row p of a panel (its nc values in src) into
// every sliver of dst, zero past the panel's edge.
func packRowSlivers(dst, src []float32, kc, nr, p int) {
	full := len(src) / nr
	for s := range full {
		o := (s*kc + p) * nr
		copy(dst[o:o+nr], src[s*nr:s*nr+nr])
	}
	if w := len(src) - full*nr; w > 0 {
		o := (full*kc + p) * nr
		copy(dst[o:o+w], src[full*nr:])
		clear(dst[o+w : o+nr])
	}
}

// packBT copies slivers [s0,s1) of the kc×nc panel op(B)[pc:pc+kc, jc:jc+nc]
// of transposed B into dst, in the layout of packBRows. With simd, full
// slivers are packed by 16×16 AVX-512 transposes.
func packBT(dst, b []float32, ldb, pc, kc, jc, nc, nr, s0, s1 int, simd bool) {
	for s := s0; s < s1; s++ {
		j0 := jc + s*nr
		w := min(nr, jc+nc-j0)
		packSliverT(dst[s*kc*nr:(s+1)*kc*nr], b[j0*ldb+pc:], ldb, kc, w, nr, simd)
	}
}

// packBTFrom is packBT for a B that src computes: the w stored rows of a
// sliver (kc values each) are first written into rows (nr·kc values),
// then transposed into the sliver.
func packBTFrom(dst []float32, src Source, rows []float32, pc, kc, jc, nc, nr, s0, s1 int, simd bool) {
	for s := s0; s < s1; s++ {
		j0 := jc + s*nr
		w := min(nr, jc+nc-j0)
		for i := range w {
			src.Span(j0+i, pc, rows[i*kc:(i+1)*kc])
		}
		packSliverT(dst[s*kc*nr:(s+1)*kc*nr], rows, kc, kc, w, nr, simd)
	}
}

// packSliverT packs one sliver of transposed B: out[p*nr+i] = b[i*ldb+p]
// for i < w, p < kc, zero for w <= i < nr. With simd, full slivers are
// packed by 16×16 AVX-512 transposes.
func packSliverT(out, b []float32, ldb, kc, w, nr int, simd bool) {
	if simd && w == nr && nr%16 == 0 {
		// op(B)[p][j] = b[j*ldb+p]: 16 columns of op(B) at a time are
		// 16 rows of b, transposed into the sliver.
		for q := 0; q < nr; q += 16 {
			transposeBlocks16(out[q:], b[q*ldb:], ldb, kc, nr)
		}
		return
	}
	transposeGo(out, b, ldb, w, kc, nr, 1)
	if w < nr {
		for p := 0; p < kc; p++ {
			clear(out[p*nr+w : p*nr+nr])
		}
	}
}

// packA copies the mc×kc block alpha*op(A)[ic:ic+mc, pc:pc+kc] into dst as
// micro-panels of mr rows: panel r holds kc columns of mr contiguous values
// (dst[(r*kc+p)*mr+ii]); rows past the block's edge are zero. Folding alpha
// in here costs nothing in the micro-kernel. With simd, full 14-row panels
// of untransposed A are packed by AVX-512 transposes.
func packA(dst, a []float32, lda int, transA bool, alpha float32, ic, mc, pc, kc, mr int, simd bool) {
	for r := 0; r*mr < mc; r++ {
		i0 := ic + r*mr
		h := min(mr, ic+mc-i0)
		out := dst[r*kc*mr : (r+1)*kc*mr]
		switch {
		case transA:
			// op(A)[i][p] = a[p*lda+i]: mr consecutive rows of op(A) are
			// contiguous in each row of a.
			if alpha == 1 && h == 14 && mr == 14 {
				packA14T(out, a[pc*lda+i0:], lda, kc, simd)
				continue
			}
			for p := 0; p < kc; p++ {
				col := out[p*mr : p*mr+mr]
				scaleCopy(col, a[(pc+p)*lda+i0:(pc+p)*lda+i0+h], alpha)
				clear(col[h:])
			}
		case simd && h == mr && mr == 14:
			transposeBlocks14(out, a[i0*lda+pc:], lda, kc, alpha)
		default:
			transposeGo(out, a[i0*lda+pc:], lda, h, kc, mr, alpha)
			if h < mr {
				for p := 0; p < kc; p++ {
					clear(out[p*mr+h : p*mr+mr])
				}
			}
		}
	}
}

// packA14T is packA's transA case for a full 14-row panel and alpha 1:
// out[p*14+i] = a[p*lda+i], by masked AVX-512 moves with simd: a 336×320
// block of a 2304-wide A in 9.2 µs, where the Go loop took 43. That loop
// copies fixed-size arrays, which compile to inline moves (through a
// local: a direct array assignment calls memmove too), where copy() called
// runtime.memmove for every 56 bytes.
func packA14T(out, a []float32, lda, kc int, simd bool) {
	if kc == 0 {
		return
	}
	if simd {
		copy14AVX512(out[:kc*14], a[:(kc-1)*lda+14], lda, kc)
		return
	}
	for p := 0; p < kc; p++ {
		v := *(*[14]float32)(a[p*lda : p*lda+14])
		*(*[14]float32)(out[p*14 : p*14+14]) = v
	}
}

// transposeBlocks14 sets dst[p*14+i] = alpha*src[i*ld+p] for i < 14,
// p < cols: 16-column blocks in assembly, the last one overlapping the one
// before where 16 does not divide cols (under 16 columns: Go).
func transposeBlocks14(dst, src []float32, ld, cols int, alpha float32) {
	chunks := cols / 16
	transpose14AVX512(dst, src, ld, chunks, 14, alpha)
	switch done := 16 * chunks; {
	case done == cols:
	case chunks > 0:
		// The last 16 columns again, overlapping: rewriting a column
		// writes the same values, and beats the scalar loop.
		transpose14AVX512(dst[(cols-16)*14:], src[cols-16:], ld, 1, 14, alpha)
	default:
		transposeGo(dst, src, ld, 14, cols, 14, alpha)
	}
}

// transposeBlocks16 sets dst[p*stride+i] = src[i*ld+p] for i < 16,
// p < cols: 16-column blocks in assembly, the last one overlapping the one
// before where 16 does not divide cols (under 16 columns: Go).
func transposeBlocks16(dst, src []float32, ld, cols, stride int) {
	chunks := cols / 16
	transpose16AVX512(dst, src, ld, chunks, stride)
	switch done := 16 * chunks; {
	case done == cols:
	case chunks > 0:
		// The last 16 columns again, overlapping (see transposeBlocks14).
		transpose16AVX512(dst[(cols-16)*stride:], src[cols-16:], ld, 1, stride)
	default:
		transposeSmallAVX512(dst, src, ld, 16, cols, stride)
	}
}

// transposeGo sets dst[p*dstStride+i] = alpha*src[i*ld+p] for i < rows,
// p < cols.
func transposeGo(dst, src []float32, ld, rows, cols, dstStride int, alpha float32) {
	for i := 0; i < rows; i++ {
		row := src[i*ld : i*ld+cols]
		for p, v := range row {
			dst[p*dstStride+i] = alpha * v
		}
	}
}

// scaleCopy sets dst[i] = alpha*src[i] for i < len(src).
func scaleCopy(dst, src []float32, alpha float32) {
	if alpha == 1 {
		copy(dst, src)
		return
	}
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = alpha * v
	}
}
