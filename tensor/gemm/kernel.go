package gemm

// microKernel is one register-tiled inner kernel. fn computes the mr×nr tile
//
//	C = A·B + beta*C   (C is not read when beta == 0)
//
// where A is a packed mr×k micro-panel (k columns of mr values each, see
// packA) and B a packed k×nr micro-panel (k rows of nr values each, see
// packB). c starts at the tile's top-left element and has row stride ldc; the
// tile must be complete (mr rows of nr columns). Alpha is folded into A when
// it is packed.
type microKernel struct {
	name   string
	mr, nr int
	fn     func(k int, a, b, c []float32, ldc int, beta float32)
	// rowsFn, where the kernel has one, is fn with B read in place: row p
	// of the k×nr B tile starts at b + rows[p] (see kernelGoRows).
	rowsFn func(k int, a []float32, b *float32, rows []int, c []float32, ldc int, beta float32)
	// topFn and topRowsFn, where the kernel has them, are fn and rowsFn
	// computing only the top topMR rows of the tile (A packed as for fn):
	// the edge block of an m such as 64 or 128 then costs its rows, not a
	// whole tile of 14. leftFn, where the kernel has one, is fn computing
	// only the left leftNR columns (B packed as for fn), for edge slivers.
	// Their rows and columns are bit-identical to fn's.
	topMR, leftNR int
	topFn, leftFn func(k int, a, b, c []float32, ldc int, beta float32)
	topRowsFn     func(k int, a []float32, b *float32, rows []int, c []float32, ldc int, beta float32)
	// simd: pack with the AVX-512 transposes (same ISA as the kernel).
	simd bool
}

// edgeFn returns the kernel for an edge tile of h valid rows and w valid
// columns with packed B: the top-rows or left-columns one where it covers
// the tile (the top one when both do; their FMAs per k step, 16 and 14,
// are about even).
func (k microKernel) edgeFn(h, w int) func(int, []float32, []float32, []float32, int, float32) {
	switch {
	case k.topFn != nil && h <= k.topMR:
		return k.topFn
	case k.leftFn != nil && w <= k.leftNR:
		return k.leftFn
	}
	return k.fn
}

// edgeRowsFn is edgeFn for B read in place (full width).
func (k microKernel) edgeRowsFn(h int) func(int, []float32, *float32, []int, []float32, int, float32) {
	if k.topRowsFn != nil && h <= k.topMR {
		return k.topRowsFn
	}
	return k.rowsFn
}

// Micro-kernel variants. Each has a pure-Go twin so that every variant can be
// run on any machine under the noasm tag.
var (
	kernelAVX512 = microKernel{name: "avx512", mr: 14, nr: 32, fn: sgemmKernel14x32AVX512, rowsFn: sgemmKernel14x32RowsAVX512,
		topMR: 8, topFn: sgemmKernelTop8x32AVX512, topRowsFn: sgemmKernelTop8x32RowsAVX512,
		leftNR: 16, leftFn: sgemmKernelLeft14x16AVX512, simd: true}
	kernelAVX2 = microKernel{name: "avx2", mr: 6, nr: 16, fn: sgemmKernel6x16AVX2}
	kernelGo   = microKernel{name: "generic", mr: 4, nr: 8, fn: sgemmKernel4x8Go}
)

// sgemmKernel4x8Go is the portable micro-kernel used where no assembly
// kernel applies.
func sgemmKernel4x8Go(k int, a, b, c []float32, ldc int, beta float32) {
	kernelGoTile(4, 8, k, a, b, c, ldc, beta)
}

// kernelGoTile is the plain-Go micro-kernel for any mr×nr tile: the loop that
// every assembly kernel implements.
//
//	for p := 0; p < k; p++ {
//		for i := 0; i < mr; i++ {
//			for j := 0; j < nr; j++ {
//				acc[i][j] += a[p*mr+i] * b[p*nr+j]
//			}
//		}
//	}
//	C[i][j] = acc[i][j] + beta*C[i][j]  // C not read when beta == 0
func kernelGoTile(mr, nr, k int, a, b, c []float32, ldc int, beta float32) {
	var accBuf [14 * 32]float32
	acc := accBuf[:mr*nr]
	a = a[:k*mr]
	b = b[:k*nr]
	for p := 0; p < k; p++ {
		ap := a[p*mr : p*mr+mr]
		bp := b[p*nr : p*nr+nr]
		for i, av := range ap {
			row := acc[i*nr : i*nr+nr]
			for j, bv := range bp {
				row[j] += av * bv
			}
		}
	}
	for i := 0; i < mr; i++ {
		crow := c[i*ldc : i*ldc+nr]
		row := acc[i*nr : i*nr+nr]
		if beta == 0 {
			copy(crow, row)
			continue
		}
		for j, v := range row {
			crow[j] = v + beta*crow[j]
		}
	}
}

// kernelGoRows is kernelGoTile with B read in place: row p of the k×nr B
// tile is b[rows[p] : rows[p]+nr].
func kernelGoRows(mr, nr, k int, a, b []float32, rows []int, c []float32, ldc int, beta float32) {
	packed := make([]float32, k*nr)
	for p, r := range rows[:k] {
		copy(packed[p*nr:(p+1)*nr], b[r:r+nr])
	}
	kernelGoTile(mr, nr, k, a, packed, c, ldc, beta)
}

// maxRow returns the largest offset in rows (0 for none).
func maxRow(rows []int) int {
	m := 0
	for _, r := range rows {
		m = max(m, r)
	}
	return m
}
