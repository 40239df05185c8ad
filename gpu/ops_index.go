package gpu

// Typed launchers for gpu/kernels/index.cu and softmax.cu. Index buffers
// hold int32s; an index out of range gives NaN in a gather and is skipped
// by a scatter (tensor.CPU panics instead; a kernel cannot).

// softmaxThreads matches SOFTMAX_THREADS in softmax.cu.
const softmaxThreads = 128

// maxRowBlocks caps the grid of the row kernels (they loop over the rest).
const maxRowBlocks = 65535

// IndexSelect queues dst[o, j, i] = src[o, idx[j], i] for src [outer, dim,
// inner] and j < nidx.
func (d *Device) IndexSelect(dst, src, idx DevPtr, outer, dim, inner, nidx int) error {
	return d.launchIndex(kIndexSelect, outer, dim, inner, nidx, dst, src, idx)
}

// IndexAdd queues dst[o, idx[j], i] += src[o, j, i] (atomicAdd: repeated
// indices add up, and the last bits of such sums vary between runs).
func (d *Device) IndexAdd(dst, src, idx DevPtr, outer, dim, inner, nidx int) error {
	return d.launchIndex(kIndexAdd, outer, dim, inner, nidx, dst, src, idx)
}

// launchIndex queues index_select_f32 or index_add_f32 over the
// outer*nidx*inner elements of the gathered side; both sides' sizes must
// fit the kernels' 32-bit index arithmetic.
func (d *Device) launchIndex(kernel string, outer, dim, inner, nidx int, dst, src, idx DevPtr) error {
	n := i32(outer * nidx * inner)
	_ = i32(outer * dim * inner)
	return d.launch1D(kernel, int(n), dst, src, idx, i32(outer), i32(dim), i32(inner), i32(nidx))
}

// GatherRows queues dst[r, j] = src[r, idx[r, j]] for src [rows, cols] and
// idx, dst [rows, k].
func (d *Device) GatherRows(dst, src, idx DevPtr, rows, cols, k int) error {
	return d.launch1D(kGatherRows, int(i32(rows*k)), dst, src, idx, i32(rows), i32(cols), i32(k))
}

// ScatterAddRows queues dst[r, idx[r, j]] += src[r, j] (atomicAdd).
func (d *Device) ScatterAddRows(dst, src, idx DevPtr, rows, cols, k int) error {
	return d.launch1D(kScatterAddRows, int(i32(rows*k)), dst, src, idx, i32(rows), i32(cols), i32(k))
}

// SoftmaxRows queues y = softmax(x) over each row of x [rows, cols]; y may
// be x.
func (d *Device) SoftmaxRows(y, x DevPtr, rows, cols int) error {
	return d.launchRows(kSoftmaxRows, rows, cols, y, x, i32(rows), i32(cols))
}

// SoftmaxRowsBwd queues dx = y·(dy − Σ dy·y) row-wise for the softmax
// output y.
func (d *Device) SoftmaxRowsBwd(dx, y, dy DevPtr, rows, cols int) error {
	return d.launchRows(kSoftmaxRowsBwd, rows, cols, dx, y, dy, i32(rows), i32(cols))
}

// launchRows queues a kernel with one block of softmaxThreads per row.
func (d *Device) launchRows(kernel string, rows, cols int, args ...any) error {
	if rows*cols == 0 {
		return nil
	}
	_ = i32(rows * cols) // panics unless the sizes fit the kernel's ints
	return d.do(func() error {
		return d.launch(kernel, dim3{uint32(min(rows, maxRowBlocks)), 1, 1}, dim3{softmaxThreads, 1, 1}, 0, args...)
	})
}
