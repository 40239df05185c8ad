package gpu

import (
	"math"
	"strings"
	"testing"
	"unsafe"
)

func TestKernelArgsPack(t *testing.T) {
	var k kernelArgs
	args := []any{DevPtr(0x7f0000001000), int32(-3), uint32(7), float32(1.5), int64(-1 << 40), uint64(1 << 33)}
	if err := k.pack(args...); err != nil {
		t.Fatal(err)
	}
	if k.n != len(args) {
		t.Fatalf("n = %d, want %d", k.n, len(args))
	}
	// Read every argument back the way the driver does: through the
	// pointer array, with the C type's width.
	ptrs := unsafe.Slice((*uintptr)(cPtr(k.params())), k.n)
	for i, p := range ptrs {
		if p != uintptr(unsafe.Pointer(&k.slots[i])) {
			t.Errorf("ptrs[%d] does not point at slot %d", i, i)
		}
	}
	at := func(i int) unsafe.Pointer { return cPtr(ptrs[i]) }
	if got := *(*uint64)(at(0)); got != 0x7f0000001000 {
		t.Errorf("DevPtr slot = %#x", got)
	}
	if got := *(*int32)(at(1)); got != -3 {
		t.Errorf("int32 slot = %d", got)
	}
	if got := *(*uint32)(at(2)); got != 7 {
		t.Errorf("uint32 slot = %d", got)
	}
	if got := *(*float32)(at(3)); got != 1.5 {
		t.Errorf("float32 slot = %v", got)
	}
	if got := *(*int64)(at(4)); got != -1<<40 {
		t.Errorf("int64 slot = %d", got)
	}
	if got := *(*uint64)(at(5)); got != 1<<33 {
		t.Errorf("uint64 slot = %d", got)
	}
	// A repack with fewer arguments must not leave stale counts.
	if err := k.pack(float32(math.Pi)); err != nil || k.n != 1 {
		t.Fatalf("repack: n=%d err=%v", k.n, err)
	}
	var empty kernelArgs
	_ = empty.pack()
	if empty.params() != 0 {
		t.Error("params of an empty pack must be NULL")
	}
}

func TestKernelArgsPackRejects(t *testing.T) {
	var k kernelArgs
	tests := []struct {
		args []any
		want string
	}{
		{[]any{int(3)}, "unsupported type int"},
		{[]any{float64(1)}, "unsupported type float64"},
		{make([]any, maxKernelArgs+1), "at most"},
	}
	for _, tc := range tests {
		err := k.pack(tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("pack(%T...): err = %v, want %q", tc.args[0], err, tc.want)
		}
	}
}

func TestBlocks1D(t *testing.T) {
	tests := []struct {
		n, threads, maxB int
		want             uint32
	}{
		{0, 256, 1024, 1}, {1, 256, 1024, 1}, {256, 256, 1024, 1}, {257, 256, 1024, 2},
		{1 << 30, 256, 4096, 4096},
	}
	for _, tc := range tests {
		if got := blocks1D(tc.n, tc.threads, tc.maxB); got.X != tc.want || got.Y != 1 || got.Z != 1 {
			t.Errorf("blocks1D(%d,%d,%d) = %+v, want X=%d", tc.n, tc.threads, tc.maxB, got, tc.want)
		}
	}
}
