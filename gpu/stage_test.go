package gpu

import (
	"bytes"
	"strings"
	"testing"
	"unsafe"
)

// stageFake extends the fake driver with pinned memory, events whose
// completion the test controls, and a log of asynchronous copies.
type stageFake struct {
	*fakeDriver
	pinned  map[uintptr][]byte
	pending map[uintptr]bool // event -> its work has not finished
	copies  []stagedCopy
	syncs   int // cuStreamSynchronize calls
	waited  int // cuEventSynchronize calls
}

type stagedCopy struct {
	dst    uintptr
	data   []byte
	stream uintptr
	host   uintptr
}

func newStageFake(t *testing.T) *stageFake {
	f := &stageFake{fakeDriver: newFakeDevice(t), pinned: map[uintptr][]byte{}, pending: map[uintptr]bool{}}
	drv, ok := f.drv, Result(0)
	f.dev.stream = 7
	nextEv := uintptr(1)
	drv.cuMemAllocHost = func(p *uintptr, n uint64) Result {
		b := make([]byte, n)
		*p = uintptr(unsafe.Pointer(&b[0]))
		f.pinned[*p] = b
		return ok
	}
	drv.cuMemFreeHost = func(p uintptr) Result { delete(f.pinned, p); return ok }
	drv.cuEventCreate = func(ev *uintptr, _ uint32) Result { *ev = nextEv; nextEv++; return ok }
	drv.cuEventDestroy = func(uintptr) Result { return ok }
	drv.cuEventRecord = func(ev, _ uintptr) Result { f.pending[ev] = true; return ok }
	drv.cuEventQuery = func(ev uintptr) Result {
		if f.pending[ev] {
			return resultNotReady
		}
		return ok
	}
	drv.cuEventSynchronize = func(ev uintptr) Result { f.waited++; f.pending[ev] = false; return ok }
	drv.cuStreamSynchronize = func(uintptr) Result { f.syncs++; return ok }
	drv.cuMemcpyHtoDAsync = func(dst uintptr, src unsafe.Pointer, n uint64, s uintptr) Result {
		c := stagedCopy{dst: dst, stream: s, host: uintptr(src)}
		if n <= 4096 { // keep what the small uploads copied, not the big ones
			c.data = bytes.Clone(unsafe.Slice((*byte)(src), n))
		}
		f.copies = append(f.copies, c)
		return ok
	}
	return f
}

// finish marks every recorded event complete, as if the GPU caught up.
func (f *stageFake) finish() {
	for ev := range f.pending {
		f.pending[ev] = false
	}
}

func TestStageCopiesWithoutWaiting(t *testing.T) {
	f := newStageFake(t)
	d := f.dev
	src := []float32{1, 2, 3}
	if err := d.StageFloat32(0x9000, src); err != nil {
		t.Fatal(err)
	}
	src[0] = 99 // the caller may reuse its slice at once
	if err := d.StageInt32(0xa000, []int32{5, 6}); err != nil {
		t.Fatal(err)
	}
	if len(f.copies) != 2 || f.syncs != 0 {
		t.Fatalf("copies %d, stream syncs %d: want 2 asynchronous copies and no wait", len(f.copies), f.syncs)
	}
	c := f.copies[0]
	got := unsafe.Slice((*float32)(unsafe.Pointer(&c.data[0])), 3)
	if c.dst != 0x9000 || c.stream != 7 || got[0] != 1 || got[2] != 3 {
		t.Errorf("first copy to %#x on stream %d of %v, want 0x9000 on the compute stream (7) of [1 2 3]", c.dst, c.stream, got)
	}
	if _, pinned := f.pinned[c.host]; !pinned {
		t.Errorf("copy source %#x is not the start of a pinned chunk", c.host)
	}
	if off := f.copies[1].host - c.host; off != stageAlign {
		t.Errorf("second upload staged at offset %d, want %d (aligned after the first)", off, stageAlign)
	}
	if s := d.StageStats(); s.Chunks != 1 || s.Bytes != stageChunkBytes {
		t.Errorf("stage stats %+v, want one %d-byte chunk", s, stageChunkBytes)
	}
}

func TestStageReusesDrainedChunks(t *testing.T) {
	f := newStageFake(t)
	d := f.dev
	big := make([]byte, stageChunkBytes*3/4)
	stage := func() {
		t.Helper()
		if err := d.Stage(0x9000, unsafe.Pointer(&big[0]), len(big)); err != nil {
			t.Fatal(err)
		}
	}
	stage()
	stage() // the first chunk is busy: a second one
	if s := d.StageStats(); s.Chunks != 2 {
		t.Fatalf("after two busy uploads: %+v, want 2 chunks", s)
	}
	f.finish()
	stage() // both drained: the ring moves on to the first chunk again
	stage()
	if s := d.StageStats(); s.Chunks != 2 || s.Waits != 0 {
		t.Errorf("after draining: %+v, want the 2 chunks reused without waiting", s)
	}
	if f.copies[2].host != f.copies[0].host {
		t.Errorf("third upload staged at %#x, want the drained first chunk %#x", f.copies[2].host, f.copies[0].host)
	}
}

func TestStageWaitsAtTheLimit(t *testing.T) {
	f := newStageFake(t)
	d := f.dev
	n := stageLimitBytes / 4 // the largest staged upload: one chunk each
	big := make([]byte, n)
	for i := 0; i < 5; i++ {
		if err := d.Stage(0x9000, unsafe.Pointer(&big[0]), n); err != nil {
			t.Fatal(err)
		}
	}
	s := d.StageStats()
	if s.Chunks != 4 || s.Bytes != stageLimitBytes || s.Waits != 1 || f.waited != 1 {
		t.Errorf("5 uploads of a quarter of the limit, none drained: %+v (event waits %d), want 4 chunks at the limit and 1 wait", s, f.waited)
	}
	if f.copies[4].host != f.copies[0].host {
		t.Errorf("fifth upload staged in %#x, want the oldest chunk %#x once drained", f.copies[4].host, f.copies[0].host)
	}
}

func TestStageLargeUploadIsSynchronous(t *testing.T) {
	f := newStageFake(t)
	d := f.dev
	n := stageLimitBytes/4 + 4
	big := make([]byte, n)
	if err := d.Stage(0x9000, unsafe.Pointer(&big[0]), n); err != nil {
		t.Fatal(err)
	}
	if f.syncs != 1 || d.StageStats().Chunks != 0 {
		t.Errorf("upload over the staging share: %d stream syncs, %+v; want the synchronous path", f.syncs, d.StageStats())
	}
}

func TestCloseReturnsStagingMemory(t *testing.T) {
	f := newStageFake(t)
	d := f.dev
	if err := d.StageFloat32(0x9000, []float32{1}); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if len(f.pinned) != 0 {
		t.Errorf("%d pinned blocks left after Close", len(f.pinned))
	}
	if err := d.StageFloat32(0x9000, []float32{1}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("stage after close: %v, want a closed-device error", err)
	}
}
