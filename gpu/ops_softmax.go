package gpu

// Typed launchers for gpu/kernels/softmax.cu.

// softmaxThreads matches SOFTMAX_THREADS in softmax.cu.
const softmaxThreads = 128

// maxRowBlocks caps the grid of the row kernels (they loop over the rest).
const maxRowBlocks = 65535

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
