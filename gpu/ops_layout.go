package gpu

import (
	"errors"
	"fmt"
)

// Typed launchers for gpu/kernels/layout.cu: strided copies, broadcast
// binary operators and sums over the middle axis. Shapes are row-major,
// dimension 0 outermost; strides are in elements and may be 0 (broadcast).

// MaxLayoutDims is the most dimensions StridedCopy and BroadcastBinary
// take once contiguous dimensions are merged (LAYOUT_MAX_DIMS in
// layout.cu).
const MaxLayoutDims = 6

// ErrTooManyDims matches (errors.Is) a layout call whose shape still has
// more than MaxLayoutDims dimensions after merging; callers fall back to
// another path.
var ErrTooManyDims = errors.New("too many dimensions for the layout kernels")

// layoutReduceThreads matches LAYOUT_REDUCE_THREADS in layout.cu.
const layoutReduceThreads = 256

// mergeDims drops size-1 dimensions and merges each dimension into its
// inner neighbour where every operand steps over the pair as over one
// dimension (outer stride == inner stride * inner size). The walk order,
// and so a contiguous output's offsets, is unchanged. It returns the
// merged shape and strides, one slice per operand.
func mergeDims(shape []int, strides ...[]int) ([]int, [][]int, error) {
	for i, s := range strides {
		if len(s) != len(shape) {
			return nil, nil, fmt.Errorf("operand %d has %d strides for %d dimensions", i, len(s), len(shape))
		}
	}
	var outShape []int
	outStrides := make([][]int, len(strides))
	for k, n := range shape {
		if n < 0 {
			return nil, nil, fmt.Errorf("shape %v has a negative dimension", shape)
		}
		if n == 1 {
			continue
		}
		last := len(outShape) - 1
		merge := last >= 0
		for i, s := range strides {
			if merge && outStrides[i][last] != s[k]*n {
				merge = false
			}
		}
		if merge {
			outShape[last] *= n
			for i, s := range strides {
				outStrides[i][last] = s[k]
			}
			continue
		}
		outShape = append(outShape, n)
		for i, s := range strides {
			outStrides[i] = append(outStrides[i], s[k])
		}
	}
	return outShape, outStrides, nil
}

// numel is the product of shape (1 for a scalar).
func numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}

// layoutArgs packs a merged shape and its operands' strides as the
// kernels' scalar parameters: MaxLayoutDims sizes (padded with 1), then
// MaxLayoutDims strides per operand (padded with 0).
func layoutArgs(shape []int, strides [][]int) []any {
	args := make([]any, 0, MaxLayoutDims*(1+len(strides)))
	for k := 0; k < MaxLayoutDims; k++ {
		n := 1
		if k < len(shape) {
			n = shape[k]
		}
		args = append(args, i32(n))
	}
	for _, s := range strides {
		for k := 0; k < MaxLayoutDims; k++ {
			v := 0
			if k < len(s) {
				v = s[k]
			}
			args = append(args, i32(v))
		}
	}
	return args
}

// StridedCopy queues dst[offset(i, dstStrides)] = src[offset(i,
// srcStrides)] for every multi-index i of shape, or += with accumulate
// (dst offsets must then be distinct). A contiguous copy is a
// device-to-device memcpy. It returns ErrTooManyDims (wrapped) when the
// shape does not merge into MaxLayoutDims dimensions.
func (d *Device) StridedCopy(shape []int, dst DevPtr, dstStrides []int, src DevPtr, srcStrides []int, accumulate bool) error {
	n := numel(shape)
	if n == 0 {
		return nil
	}
	ms, st, err := mergeDims(shape, srcStrides, dstStrides)
	if err != nil {
		return fmt.Errorf("strided copy: %w", err)
	}
	if len(ms) > MaxLayoutDims {
		return fmt.Errorf("strided copy of shape %v (%d dimensions merged): %w", shape, len(ms), ErrTooManyDims)
	}
	if !accumulate && len(ms) == 1 && st[0][0] == 1 && st[1][0] == 1 {
		return d.CopyDtoD(dst, src, 4*n)
	}
	args := append([]any{dst, src, i32(n), i32(len(ms)), b32(accumulate)}, layoutArgs(ms, st)...)
	return d.launch1D(kStridedCopy, n, args...)
}

// BroadcastBinary queues y[i] = op(a[offset(i, aStrides)], b[offset(i,
// bStrides)]) over shape, y contiguous; y may alias an operand that has
// y's own contiguous strides. Equal contiguous operands use Binary. It
// returns ErrTooManyDims (wrapped) when the shape does not merge into
// MaxLayoutDims dimensions.
func (d *Device) BroadcastBinary(op BinaryOp, shape []int, y, a DevPtr, aStrides []int, b DevPtr, bStrides []int) error {
	n := numel(shape)
	if n == 0 {
		return nil
	}
	ms, st, err := mergeDims(shape, aStrides, bStrides)
	if err != nil {
		return fmt.Errorf("broadcast binary: %w", err)
	}
	if len(ms) > MaxLayoutDims {
		return fmt.Errorf("broadcast binary of shape %v (%d dimensions merged): %w", shape, len(ms), ErrTooManyDims)
	}
	if len(ms) == 1 && st[0][0] == 1 && st[1][0] == 1 {
		return d.Binary(op, y, a, b, n)
	}
	args := append([]any{y, a, b, int32(op), i32(n), i32(len(ms))}, layoutArgs(ms, st)...)
	return d.launch1D(kBroadcastBinary, n, args...)
}

// ReduceSum queues y[o, i] = Σ_m x[o, m, i] for x [outer, mid, inner]
// (double accumulation, a fixed order: reproducible). With mid == 0, y is
// zeroed.
func (d *Device) ReduceSum(y, x DevPtr, outer, mid, inner int) error {
	if outer*inner == 0 {
		return nil
	}
	if mid == 0 {
		return d.Fill(y, 0, outer*inner)
	}
	_ = i32(outer * mid * inner) // panics unless the sizes fit the kernel's ints
	bx := min(32, nextPow2(inner))
	by := min(layoutReduceThreads/bx, nextPow2(mid))
	grid := dim3{uint32((inner + bx - 1) / bx), uint32(min(outer, 65535)), 1}
	return d.do(func() error {
		return d.launch(kReduceSum, grid, dim3{uint32(bx), uint32(by), 1}, 0, y, x, i32(outer), i32(mid), i32(inner))
	})
}

// nextPow2 is the least power of two >= n (1 for n <= 1).
func nextPow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}
