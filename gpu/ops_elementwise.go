package gpu

// Typed launchers for gpu/kernels/elementwise.cu. Sizes are element
// counts; pointers are device addresses of float32s. Launches are queued
// on the compute stream; Read* or Synchronize waits.

// Add computes out = a + b.
func (d *Device) Add(out, a, b DevPtr, n int) error { return d.launch1D(kAdd, n, out, a, b, i32(n)) }

// Fill sets n floats at out to v.
func (d *Device) Fill(out DevPtr, v float32, n int) error {
	return d.launch1D(kFill, n, out, v, i32(n))
}
