package tensor

import (
	"math"
	"runtime"

	"github.com/detflow/detflow/internal/team"
	"github.com/detflow/detflow/tensor/gemm"
)

// CPU is the reference Device: plain Go kernels over Go slices, split across
// goroutines where the work is large enough to pay for them.
type CPU struct {
	workers int
}

// NewCPU returns a CPU device that uses up to workers goroutines per kernel;
// workers <= 0 means runtime.GOMAXPROCS(0).
func NewCPU(workers int) *CPU {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return &CPU{workers: workers}
}

// cpuBuffer is a CPU Buffer: a Go slice.
type cpuBuffer struct{ data []float32 }

func (b *cpuBuffer) Len() int { return len(b.data) }

// cpuIndex is a CPU IndexBuffer.
type cpuIndex struct{ data []int32 }

func (b *cpuIndex) Len() int { return len(b.data) }

// CPUData returns the slice behind a CPU buffer (no copy). It panics for
// buffers of other devices.
func CPUData(b Buffer) []float32 {
	if b == nil {
		return nil
	}
	cb, ok := b.(*cpuBuffer)
	if !ok {
		Panicf("tensor: buffer %T is not a CPU buffer", b)
	}
	return cb.data
}

// CPUIndexData returns the slice behind a CPU index buffer (no copy).
func CPUIndexData(b IndexBuffer) []int32 {
	if b == nil {
		return nil
	}
	cb, ok := b.(*cpuIndex)
	if !ok {
		Panicf("tensor: index buffer %T is not a CPU index buffer", b)
	}
	return cb.data
}

// f is a short local alias for CPUData inside kernels.
func f(b Buffer) []float32 { return CPUData(b) }

// Name implements Device.
func (d *CPU) Name() string { return "cpu" }

// Alloc implements Device.
func (d *CPU) Alloc(n int) Buffer { return &cpuBuffer{data: make([]float32, n)} }

// Free implements Device; the garbage collector reclaims CPU memory.
func (d *CPU) Free(b Buffer) {}

// View implements Device.
func (d *CPU) View(b Buffer, off, n int) Buffer {
	return &cpuBuffer{data: f(b)[off : off+n : off+n]}
}

// Upload implements Device.
func (d *CPU) Upload(dst Buffer, src []float32) { copyExact(f(dst), src) }

// Download implements Device.
func (d *CPU) Download(dst []float32, src Buffer) { copyExact(dst, f(src)) }

// Copy implements Device.
func (d *CPU) Copy(dst, src Buffer) { copyExact(f(dst), f(src)) }

func copyExact(dst, src []float32) {
	if len(dst) != len(src) {
		Panicf("tensor: copy of %d elements into %d", len(src), len(dst))
	}
	copy(dst, src)
}

// Fill implements Device.
func (d *CPU) Fill(dst Buffer, v float32) {
	x := f(dst)
	if v == 0 {
		clear(x)
		return
	}
	for i := range x {
		x[i] = v
	}
}

// AllocIndex implements Device.
func (d *CPU) AllocIndex(n int) IndexBuffer { return &cpuIndex{data: make([]int32, n)} }

// FreeIndex implements Device.
func (d *CPU) FreeIndex(b IndexBuffer) {}

// UploadIndex implements Device.
func (d *CPU) UploadIndex(dst IndexBuffer, src []int32) {
	x := CPUIndexData(dst)
	if len(x) != len(src) {
		Panicf("tensor: index upload of %d into %d", len(src), len(x))
	}
	copy(x, src)
}

// DownloadIndex implements Device.
func (d *CPU) DownloadIndex(dst []int32, src IndexBuffer) {
	x := CPUIndexData(src)
	if len(x) != len(dst) {
		Panicf("tensor: index download of %d into %d", len(x), len(dst))
	}
	copy(dst, x)
}

// Gemm implements Device with the assembly SGEMM.
func (d *CPU) Gemm(transA, transB bool, m, n, k int, alpha float32, a Buffer, lda int, b Buffer, ldb int, beta float32, c Buffer, ldc int) {
	gemm.SgemmWorkers(d.workers, transA, transB, m, n, k, alpha, f(a), lda, f(b), ldb, beta, f(c), ldc)
}

// Axpby implements Device.
func (d *CPU) Axpby(alpha float32, x Buffer, beta float32, y Buffer) {
	xs, ys := f(x), f(y)
	if len(xs) != len(ys) {
		Panicf("tensor: axpby lengths %d and %d", len(xs), len(ys))
	}
	d.parallel(len(ys), elemGrain, func(lo, hi int) {
		xr, yr := xs[lo:hi], ys[lo:hi]
		switch {
		case beta == 0:
			for i := range yr {
				yr[i] = alpha * xr[i]
			}
		case beta == 1 && alpha == 1: // accumulating gradients: y += x exactly
			addTo(yr, xr)
		case beta == 1:
			for i := range yr {
				yr[i] += alpha * xr[i]
			}
		default:
			for i := range yr {
				yr[i] = alpha*xr[i] + beta*yr[i]
			}
		}
	})
}

// SumSquares implements Device.
func (d *CPU) SumSquares(x Buffer) float64 {
	_, q := sum2(f(x))
	return q
}

// elemGrain is the smallest elementwise range worth a goroutine: below it the
// spawn and join cost more than the loop.
const elemGrain = 1 << 15

// parallel runs fn over [0, n) split into at most d.workers contiguous ranges
// of at least grain elements each, on the caller and pooled helpers.
func (d *CPU) parallel(n, grain int, fn func(lo, hi int)) {
	parts := min(d.workers, n/max(grain, 1))
	if parts <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	step := (n + parts - 1) / parts
	team.For(parts, (n+step-1)/step, func(_, c int) {
		fn(c*step, min((c+1)*step, n))
	})
}

// sqrt32 and exp32 keep float32 kernels readable.
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
func exp32(x float32) float32  { return float32(math.Exp(float64(x))) }
