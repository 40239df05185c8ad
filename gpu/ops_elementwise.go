package gpu

import "fmt"

// Typed launchers for gpu/kernels/elementwise.cu, reduce.cu and sgd.cu.
// Sizes are element counts; pointers are device addresses of float32s.
// Launches are queued on the compute stream; Read* or Synchronize waits.

const (
	threads1D   = 256
	maxBlocks1D = 8192
	// reduceThreads matches REDUCE_THREADS in reduce.cu.
	reduceThreads = 256
	// reduceBlocks is the fixed first-pass grid of Sum: a fixed grid keeps
	// the summation order, and so the result, reproducible.
	reduceBlocks = 1024
)

// launch1D queues a grid-stride kernel over n elements.
func (d *Device) launch1D(kernel string, n int, args ...any) error {
	if n == 0 {
		return nil
	}
	return d.do(func() error {
		return d.launch(kernel, blocks1D(n, threads1D, maxBlocks1D), dim3{threads1D, 1, 1}, 0, args...)
	})
}

// Add computes out = a + b.
func (d *Device) Add(out, a, b DevPtr, n int) error { return d.launch1D(kAdd, n, out, a, b, i32(n)) }

// Mul computes out = a * b elementwise.
func (d *Device) Mul(out, a, b DevPtr, n int) error { return d.launch1D(kMul, n, out, a, b, i32(n)) }

// Axpy computes y += alpha*x.
func (d *Device) Axpy(y, x DevPtr, alpha float32, n int) error {
	return d.launch1D(kAxpy, n, y, x, alpha, i32(n))
}

// Scale computes out = alpha*x.
func (d *Device) Scale(out, x DevPtr, alpha float32, n int) error {
	return d.launch1D(kScale, n, out, x, alpha, i32(n))
}

// ReluFwd computes out = max(x, 0).
func (d *Device) ReluFwd(out, x DevPtr, n int) error { return d.launch1D(kReluFwd, n, out, x, i32(n)) }

// ReluBwd computes dx = dy where the ReLU output y > 0, else 0.
func (d *Device) ReluBwd(dx, dy, y DevPtr, n int) error {
	return d.launch1D(kReluBwd, n, dx, dy, y, i32(n))
}

// Fill sets n floats at out to v.
func (d *Device) Fill(out DevPtr, v float32, n int) error {
	return d.launch1D(kFill, n, out, v, i32(n))
}

// SGDMomentum applies one torch.optim.SGD step (dampening 0) in place to
// param and its momentum buffer; first is the parameter's first step.
func (d *Device) SGDMomentum(param, buf, grad DevPtr, n int, lr, momentum, weightDecay float32, first bool) error {
	return d.launch1D(kSGDMomentum, n, param, buf, grad, lr, momentum, weightDecay, b32(first), i32(n))
}

// b32 is a C int flag.
func b32(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// SumInto queues out[0] = sum of x[0:n]; SumSqInto the sum of squares.
// Both are two-pass, deterministic reductions with scratch from the cache.
func (d *Device) SumInto(out, x DevPtr, n int) error { return d.reduceInto(kSumPartial, out, x, n) }

// SumSqInto queues out[0] = sum of x[i]² (the squared L2 norm).
func (d *Device) SumSqInto(out, x DevPtr, n int) error { return d.reduceInto(kSumSqPartial, out, x, n) }

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
