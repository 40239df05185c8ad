package gpu

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// The layout kernels (layout.cu) against their CPU twins on fixed cases
// from the detectors (permute, broadcast, slice, concat) and on random
// shapes of up to 7 dimensions with odd sizes, size-1 and stride-0
// (broadcast) dimensions, permuted and padded strides and view offsets.

// stridedOperand is one operand of a layout kernel: strides over the
// shape, and the elements before its first one (a view's offset).
type stridedOperand struct {
	strides []int
	off     int
}

// span is the number of elements of a buffer that holds the operand.
func (o stridedOperand) span(shape []int) int {
	n := o.off + 1
	for k, s := range shape {
		n += (s - 1) * o.strides[k]
	}
	return n
}

// contiguous returns row-major strides of shape.
func contiguous(shape []int) []int {
	st := make([]int, len(shape))
	n := 1
	for k := len(shape) - 1; k >= 0; k-- {
		st[k] = n
		n *= shape[k]
	}
	return st
}

// randomOperand lays shape out in a random dimension order, sometimes with
// gaps between rows (a slice of a larger tensor), sometimes with stride-0
// dimensions when broadcast is allowed, at a random offset.
func randomOperand(r *rand.Rand, shape []int, broadcast bool) stridedOperand {
	perm := r.Perm(len(shape))
	st := make([]int, len(shape))
	n := 1
	for i := len(perm) - 1; i >= 0; i-- {
		k := perm[i]
		st[k] = n
		n *= shape[k]
		if r.IntN(4) == 0 {
			n += r.IntN(3) // padding: the next dimension is not contiguous
		}
	}
	if broadcast {
		for k := range st {
			if r.IntN(3) == 0 {
				st[k] = 0
			}
		}
	}
	return stridedOperand{strides: st, off: r.IntN(5)}
}

func randomShape(r *rand.Rand, maxDims int) []int {
	shape := make([]int, r.IntN(maxDims+1))
	for k := range shape {
		shape[k] = 1 + r.IntN(5)
	}
	return shape
}

func TestGPUStridedCopy(t *testing.T) {
	d := gpuDevice(t)
	type copyCase struct {
		name       string
		shape      []int
		src, dst   stridedOperand
		accumulate bool
	}
	cases := []copyCase{
		{"nchw to nhwc", []int{2, 5, 7, 3}, stridedOperand{[]int{105, 7, 1, 35}, 0}, stridedOperand{[]int{105, 21, 3, 1}, 0}, false},
		{"nchw to nhwc accumulate", []int{2, 5, 7, 3}, stridedOperand{[]int{105, 7, 1, 35}, 0}, stridedOperand{[]int{105, 21, 3, 1}, 0}, true},
		{"broadcast row", []int{4, 7}, stridedOperand{[]int{0, 1}, 0}, stridedOperand{[]int{7, 1}, 0}, false},
		{"bias to nchw", []int{3, 5, 17}, stridedOperand{[]int{0, 1, 0}, 2}, stridedOperand{[]int{85, 17, 1}, 0}, false},
		{"slice every other column", []int{3, 5}, stridedOperand{[]int{11, 2}, 1}, stridedOperand{[]int{5, 1}, 0}, false},
		{"concat second part", []int{2, 3, 4}, stridedOperand{[]int{12, 4, 1}, 0}, stridedOperand{[]int{36, 4, 1}, 12}, false},
		{"contiguous (memcpy)", []int{3, 1, 37}, stridedOperand{[]int{37, 37, 1}, 3}, stridedOperand{[]int{37, 1, 1}, 1}, false},
		{"contiguous accumulate", []int{3, 37}, stridedOperand{[]int{37, 1}, 0}, stridedOperand{[]int{37, 1}, 0}, true},
		{"scalar", nil, stridedOperand{nil, 4}, stridedOperand{nil, 2}, true},
		{"size-1 dims", []int{1, 3, 1, 5}, stridedOperand{[]int{99, 1, 7, 3}, 0}, stridedOperand{[]int{0, 5, 0, 1}, 0}, false},
		{"six dims unmerged", []int{2, 3, 2, 3, 2, 3}, stridedOperand{[]int{1, 2, 6, 12, 36, 72}, 0}, stridedOperand{contiguous([]int{2, 3, 2, 3, 2, 3}), 0}, true},
		{"empty", []int{3, 0, 2}, stridedOperand{[]int{0, 2, 1}, 0}, stridedOperand{[]int{0, 2, 1}, 0}, false},
	}
	r := rand.New(rand.NewPCG(7, 11))
	for i := range 40 {
		shape := randomShape(r, 7)
		cases = append(cases, copyCase{fmt.Sprintf("random %d %v", i, shape), shape,
			randomOperand(r, shape, true), randomOperand(r, shape, false), r.IntN(2) == 0})
	}
	tooMany := 0
	for ci, c := range cases {
		srcN, dstN := c.src.span(c.shape), c.dst.span(c.shape)
		src, dst := randn(uint64(100+ci), srcN), randn(uint64(200+ci), dstN)
		ps, pd := upload(t, d, src), upload(t, d, dst)
		err := d.StridedCopy(c.shape, pd+DevPtr(4*c.dst.off), c.dst.strides, ps+DevPtr(4*c.src.off), c.src.strides, c.accumulate)
		if errors.Is(err, ErrTooManyDims) {
			if ms, _, _ := mergeDims(c.shape, c.src.strides, c.dst.strides); len(ms) <= MaxLayoutDims {
				t.Errorf("%s: %v, but it merges into %v", c.name, err, ms)
			}
			tooMany++
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want := slices.Clone(dst)
		stridedCopyRef(c.shape, want[c.dst.off:], c.dst.strides, src[c.src.off:], c.src.strides, c.accumulate)
		checkClose(t, c.name, download(t, d, pd, dstN), want, 0, 0)
	}
	t.Logf("%d cases, %d beyond %d merged dimensions (ErrTooManyDims)", len(cases), tooMany, MaxLayoutDims)
}

func TestGPUBroadcastBinary(t *testing.T) {
	d := gpuDevice(t)
	type bcase struct {
		name  string
		shape []int
		a, b  stridedOperand
	}
	cases := []bcase{
		{"[3,1,5] op [1,7,5]", []int{3, 7, 5}, stridedOperand{[]int{5, 0, 1}, 0}, stridedOperand{[]int{0, 5, 1}, 0}},
		{"nchw op bias", []int{2, 5, 33}, stridedOperand{[]int{165, 33, 1}, 0}, stridedOperand{[]int{0, 1, 0}, 3}},
		{"equal contiguous", []int{7, 19}, stridedOperand{[]int{19, 1}, 1}, stridedOperand{[]int{19, 1}, 0}},
		{"scalar", nil, stridedOperand{nil, 2}, stridedOperand{nil, 0}},
		{"column op row", []int{9, 11}, stridedOperand{[]int{1, 0}, 0}, stridedOperand{[]int{0, 1}, 0}},
	}
	r := rand.New(rand.NewPCG(3, 5))
	for i := range 12 {
		shape := randomShape(r, 6)
		cases = append(cases, bcase{fmt.Sprintf("random %d %v", i, shape), shape, randomOperand(r, shape, true), randomOperand(r, shape, true)})
	}
	for op := range numBinaryOps {
		for ci, c := range cases {
			name := fmt.Sprintf("op %d %s", op, c.name)
			aN, bN, n := c.a.span(c.shape), c.b.span(c.shape), numel(c.shape)
			a, b := randn(uint64(300+ci), aN), randn(uint64(400+ci), bN)
			if op == BinaryDiv || op == BinaryBCEWithLogits {
				for i := range b {
					b[i] = 0.2 + b[i]*b[i] // divisors away from 0; targets >= 0
				}
			}
			pa, pb, py := upload(t, d, a), upload(t, d, b), alloc(t, d, n)
			err := d.BroadcastBinary(op, c.shape, py, pa+DevPtr(4*c.a.off), c.a.strides, pb+DevPtr(4*c.b.off), c.b.strides)
			if errors.Is(err, ErrTooManyDims) {
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			want := make([]float32, n)
			broadcastBinaryRef(op, c.shape, want, a[c.a.off:], c.a.strides, b[c.b.off:], c.b.strides)
			checkClose(t, name, download(t, d, py, n), want, 1e-6, 1e-6)
		}
	}
	// y aliasing a, which has y's contiguous strides; b broadcast.
	shape := []int{4, 6, 5}
	a, b := randn(500, 120), randn(501, 6)
	pa, pb := upload(t, d, a), upload(t, d, b)
	if err := d.BroadcastBinary(BinarySub, shape, pa, pa, contiguous(shape), pb, []int{0, 1, 0}); err != nil {
		t.Fatal(err)
	}
	want := make([]float32, 120)
	broadcastBinaryRef(BinarySub, shape, want, a, contiguous(shape), b, []int{0, 1, 0})
	checkClose(t, "y aliasing a", download(t, d, pa, 120), want, 0, 0)
}

func TestGPUReduceSum(t *testing.T) {
	d := gpuDevice(t)
	for _, s := range [][3]int{{3, 11, 13}, {3, 143, 1}, {1, 429, 1}, {2, 1, 37}, {4, 0, 3}, {1, 700, 33}, {70, 3, 2}, {5, 257, 1}, {2, 9, 64}} {
		outer, mid, inner := s[0], s[1], s[2]
		x := randn(uint64(outer*1000+mid*10+inner), outer*mid*inner)
		px, py := upload(t, d, x), upload(t, d, randn(9, outer*inner))
		if err := d.ReduceSum(py, px, outer, mid, inner); err != nil {
			t.Fatal(err)
		}
		want := make([]float32, outer*inner)
		reduceSumRef(want, x, outer, mid, inner)
		got := download(t, d, py, outer*inner)
		// Double accumulation in another order: the float32 results agree
		// to a rounding.
		checkClose(t, fmt.Sprintf("reduce %v", s), got, want, 1e-6, 1e-6)
		if err := d.ReduceSum(py, px, outer, mid, inner); err != nil {
			t.Fatal(err)
		}
		if again := download(t, d, py, outer*inner); !slices.Equal(again, got) {
			t.Errorf("reduce %v is not reproducible", s)
		}
	}
}
