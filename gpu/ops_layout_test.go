package gpu

import (
	"errors"
	"slices"
	"testing"
)

func TestMergeDims(t *testing.T) {
	tests := []struct {
		name    string
		shape   []int
		strides [][]int
		want    []int
		wantSt  [][]int
	}{
		{"contiguous", []int{2, 3, 4}, [][]int{{12, 4, 1}}, []int{24}, [][]int{{1}}},
		{"size-1 dims dropped", []int{1, 3, 1, 4}, [][]int{{99, 4, 7, 1}}, []int{12}, [][]int{{1}}},
		{"broadcast dims merge", []int{2, 3, 4}, [][]int{{0, 0, 1}, {12, 4, 1}}, []int{6, 4}, [][]int{{0, 1}, {4, 1}}},
		{"all broadcast", []int{2, 3}, [][]int{{0, 0}}, []int{6}, [][]int{{0}}},
		{"permute stays", []int{2, 5, 7, 3}, [][]int{{105, 7, 1, 35}, {105, 21, 3, 1}}, []int{2, 35, 3}, [][]int{{105, 1, 35}, {105, 3, 1}}},
		{"slice row gap", []int{3, 5}, [][]int{{11, 2}, {5, 1}}, []int{3, 5}, [][]int{{11, 2}, {5, 1}}},
		{"scalar", nil, [][]int{nil, nil}, nil, [][]int{nil, nil}},
	}
	for _, tc := range tests {
		got, st, err := mergeDims(tc.shape, tc.strides...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !slices.Equal(got, tc.want) || !slices.EqualFunc(st, tc.wantSt, slices.Equal[[]int]) {
			t.Errorf("%s: mergeDims = %v %v, want %v %v", tc.name, got, st, tc.want, tc.wantSt)
		}
	}
	if _, _, err := mergeDims([]int{2, 3}, []int{1}); err == nil {
		t.Error("mergeDims accepted one stride for two dimensions")
	}
	if _, _, err := mergeDims([]int{2, -1}, []int{1, 1}); err == nil {
		t.Error("mergeDims accepted a negative dimension")
	}
}

func TestLayoutLaunchers(t *testing.T) {
	f := newFakeDevice(t)
	d := f.dev
	p := DevPtr(0x1000)
	// Seven dimensions that do not merge: no launch, ErrTooManyDims.
	shape := []int{2, 2, 2, 2, 2, 2, 2}
	perm := []int{1, 2, 4, 8, 16, 32, 64} // a full transpose
	if err := d.StridedCopy(shape, p, perm, p, contiguous(shape), false); !errors.Is(err, ErrTooManyDims) {
		t.Errorf("7-dim permutation: err = %v, want ErrTooManyDims", err)
	}
	if err := d.BroadcastBinary(BinaryAdd, shape, p, p, perm, p, contiguous(shape)); !errors.Is(err, ErrTooManyDims) {
		t.Errorf("7-dim broadcast binary: err = %v, want ErrTooManyDims", err)
	}
	if len(f.launches) != 0 {
		t.Errorf("launches %v after refused calls", f.launches)
	}
	// Seven contiguous dimensions merge into one: a plain elementwise kernel.
	if err := d.BroadcastBinary(BinaryAdd, shape, p, p, contiguous(shape), p, contiguous(shape)); err != nil {
		t.Fatal(err)
	}
	if len(f.launches) != 1 || f.launches[0].Kernel != kBinary {
		t.Errorf("contiguous broadcast binary launched %+v, want one %s", f.launches, kBinary)
	}
	// A merged permutation passes its dimensions padded to six.
	f.launches = nil
	if err := d.StridedCopy([]int{2, 5, 7, 3}, p, []int{105, 21, 3, 1}, p, []int{105, 7, 1, 35}, true); err != nil {
		t.Fatal(err)
	}
	wantArgs := []uint64{210, 3, 1, 2, 35, 3, 1, 1, 1, 105, 1, 35, 0, 0, 0, 105, 3, 1, 0, 0, 0}
	if len(f.launches) != 1 || !slices.Equal(f.launches[0].Args[2:], wantArgs) {
		t.Errorf("strided copy launch %+v, want arguments after the pointers %v", f.launches, wantArgs)
	}
	// Empty shapes and empty reductions launch nothing; mid == 0 fills zeros.
	f.launches = nil
	if err := d.StridedCopy([]int{3, 0}, p, []int{1, 1}, p, []int{1, 1}, false); err != nil || len(f.launches) != 0 {
		t.Errorf("empty strided copy: err %v, launches %v", err, f.launches)
	}
	if err := d.ReduceSum(p, p, 3, 0, 2); err != nil || len(f.launches) != 1 || f.launches[0].Kernel != kFill {
		t.Errorf("reduce over an empty axis: err %v, launches %+v, want one fill", err, f.launches)
	}
}
