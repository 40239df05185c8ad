package gpu

// Typed launchers for gpu/kernels/index.cu. Index buffers hold int32s; an
// index out of range gives NaN in a gather and is skipped by a scatter
// (tensor.CPU panics instead; a kernel cannot).

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
