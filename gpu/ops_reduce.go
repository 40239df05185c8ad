package gpu

import "fmt"

// Typed launchers for gpu/kernels/reduce.cu.

const (
	// reduceThreads matches REDUCE_THREADS in reduce.cu.
	reduceThreads = 256
	// reduceBlocks is the fixed first-pass grid of Sum: a fixed grid keeps
	// the summation order, and so the result, reproducible.
	reduceBlocks = 1024
)

// SumInto queues out[0] = sum of x[0:n]; SumSqInto the sum of squares.
// Both are two-pass, deterministic reductions with scratch from the cache.
func (d *Device) SumInto(out, x DevPtr, n int) error { return d.reduceInto(kSumPartial, out, x, n) }

// SumSqInto queues out[0] = sum of x[i]² (the squared L2 norm).
func (d *Device) SumSqInto(out, x DevPtr, n int) error { return d.reduceInto(kSumSqPartial, out, x, n) }

// reduceInto runs kernel's fixed grid of partial sums, then sum_partial_f32
// in one block over the partials.
func (d *Device) reduceInto(kernel string, out, x DevPtr, n int) error {
	if n == 0 {
		return d.Fill(out, 0, 1)
	}
	blocks := min((n+reduceThreads-1)/reduceThreads, reduceBlocks)
	partial, err := d.Alloc(4 * blocks)
	if err != nil {
		return err
	}
	// The block goes back to the cache after queueing: later users of it
	// queue on the same stream, after these kernels.
	defer d.Free(partial)
	return d.do(func() error {
		if err := d.launch(kernel, dim3{uint32(blocks), 1, 1}, dim3{reduceThreads, 1, 1}, 0, partial, x, i32(n)); err != nil {
			return err
		}
		return d.launch(kSumPartial, dim3{1, 1, 1}, dim3{reduceThreads, 1, 1}, 0, out, partial, i32(blocks))
	})
}

// Sum returns the sum of x[0:n], waiting for the result.
func (d *Device) Sum(x DevPtr, n int) (float32, error) { return d.reduceHost(d.SumInto, x, n) }

// SumSq returns the sum of squares of x[0:n], waiting for the result.
func (d *Device) SumSq(x DevPtr, n int) (float32, error) { return d.reduceHost(d.SumSqInto, x, n) }

func (d *Device) reduceHost(into func(out, x DevPtr, n int) error, x DevPtr, n int) (float32, error) {
	out, err := d.Alloc(4)
	if err != nil {
		return 0, err
	}
	defer d.Free(out)
	if err := into(out, x, n); err != nil {
		return 0, err
	}
	v := make([]float32, 1)
	if err := d.ReadFloat32(v, out); err != nil {
		return 0, fmt.Errorf("read reduction result: %w", err)
	}
	return v[0], nil
}
