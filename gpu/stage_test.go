package gpu

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unsafe"
)

// stageFake extends the fake driver with pinned memory, events whose
// completion the test controls, and a log of the stream operations.
type stageFake struct {
	*fakeDriver
	pinned  map[uintptr][]byte
	pending map[uintptr]bool // event -> its work has not finished
	copies  []stagedCopy     // host-to-device copies
	ops     []string         // stream operations in order
	syncs   int              // cuStreamSynchronize calls
	waited  int              // cuEventSynchronize calls
}

type stagedCopy struct {
	dst    uintptr
	data   []byte
	stream uintptr
	host   uintptr
}

const (
	fakeCompute = 7
	fakeCopy    = 8
)

func newStageFake(t *testing.T) *stageFake {
	f := &stageFake{fakeDriver: newFakeDevice(t), pinned: map[uintptr][]byte{}, pending: map[uintptr]bool{}}
	drv, ok := f.drv, Result(0)
	f.dev.stream, f.dev.copyStr = fakeCompute, fakeCopy
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
	drv.cuEventRecord = func(ev, s uintptr) Result {
		f.pending[ev] = true
		f.ops = append(f.ops, fmt.Sprintf("record ev%d on %d", ev, s))
		return ok
	}
	drv.cuEventQuery = func(ev uintptr) Result {
		if f.pending[ev] {
			return resultNotReady
		}
		return ok
	}
	drv.cuEventSynchronize = func(ev uintptr) Result { f.waited++; f.pending[ev] = false; return ok }
	drv.cuStreamSynchronize = func(uintptr) Result { f.syncs++; return ok }
	drv.cuStreamWaitEvent = func(s, ev uintptr, _ uint32) Result {
		f.ops = append(f.ops, fmt.Sprintf("%d waits ev%d", s, ev))
		return ok
	}
	drv.cuMemcpyHtoDAsync = func(dst uintptr, src unsafe.Pointer, n uint64, s uintptr) Result {
		c := stagedCopy{dst: dst, stream: s, host: uintptr(src)}
		if n <= 4096 { // keep what the small uploads copied, not the big ones
			c.data = bytes.Clone(unsafe.Slice((*byte)(src), n))
		}
		f.copies = append(f.copies, c)
		f.ops = append(f.ops, fmt.Sprintf("htod %#x %d on %d", dst, n, s))
		return ok
	}
	drv.cuMemcpyDtoDAsync = func(dst, src uintptr, n uint64, s uintptr) Result {
		f.ops = append(f.ops, fmt.Sprintf("dtod %#x <- %#x %d on %d", dst, src, n, s))
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

func (f *stageFake) stage(t *testing.T, dst uintptr, n int) {
	t.Helper()
	src := make([]byte, n)
	if err := f.dev.Stage(DevPtr(dst), unsafe.Pointer(&src[0]), n); err != nil {
		t.Fatal(err)
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
	if c.dst != 0x9000 || c.stream != fakeCompute || got[0] != 1 || got[2] != 3 {
		t.Errorf("first copy to %#x on stream %d of %v, want 0x9000 on the compute stream of [1 2 3]", c.dst, c.stream, got)
	}
	if _, pinned := f.pinned[c.host]; !pinned {
		t.Errorf("copy source %#x is not the start of a pinned chunk", c.host)
	}
	if off := f.copies[1].host - c.host; off != stageAlign {
		t.Errorf("second upload staged at offset %d, want %d (aligned after the first)", off, stageAlign)
	}
	if s := d.StageStats(); s.Chunks != 1 || s.Bytes != stageChunkBytes || s.DevChunks != 0 {
		t.Errorf("stage stats %+v, want one %d-byte pinned chunk and no device staging", s, stageChunkBytes)
	}
}

func TestStageReusesDrainedChunks(t *testing.T) {
	f := newStageFake(t)
	n := 900 << 10 // four fill a chunk
	for range 5 {
		f.stage(t, 0x9000, n) // the first chunk is busy when full: a second one
	}
	if s := f.dev.StageStats(); s.Chunks != 2 {
		t.Fatalf("after five busy uploads: %+v, want 2 chunks", s)
	}
	f.finish()
	for range 5 {
		f.stage(t, 0x9000, n)
	}
	if s := f.dev.StageStats(); s.Chunks != 2 || s.Waits != 0 {
		t.Errorf("after draining: %+v, want the 2 chunks reused without waiting", s)
	}
	if f.copies[8].host != f.copies[0].host {
		t.Errorf("ninth upload staged at %#x, want the drained first chunk %#x", f.copies[8].host, f.copies[0].host)
	}
}

// TestStageBigUsesTheCopyStream: a large upload crosses on the copy stream
// into a device staging block, and the compute stream copies it out after
// an event, so neither the host nor the compute stream waits for PCIe.
func TestStageBigUsesTheCopyStream(t *testing.T) {
	f := newStageFake(t)
	n := 2 << 20
	f.stage(t, 0x9000, n)
	f.stage(t, 0xa000, n) // the first block is still being consumed: a second block
	s := f.dev.StageStats()
	if s.DevChunks != 2 || s.DevBytes != 2*n || f.syncs != 0 || f.waited != 0 {
		t.Fatalf("stats %+v, host waits %d+%d: want 2 device blocks and no host wait", s, f.syncs, f.waited)
	}
	blk := f.copies[0].dst
	// Events: 1 the pinned chunk, 2-3 the first block's copied/consumed.
	want := []string{
		"8 waits ev3",
		fmt.Sprintf("htod %#x %d on 8", blk, n),
		"record ev1 on 8",
		"record ev2 on 8",
		"7 waits ev2",
		fmt.Sprintf("dtod 0x9000 <- %#x %d on 7", blk, n),
		"record ev3 on 7",
	}
	if got := strings.Join(f.ops[:7], "\n"); got != strings.Join(want, "\n") {
		t.Errorf("stream operations of a large upload:\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
	if f.copies[1].dst == blk {
		t.Error("the second upload reused a staging block whose copy out had not finished")
	}
	f.finish()
	f.stage(t, 0xb000, n)
	if f.copies[2].dst != blk || f.dev.StageStats().DevChunks != 2 {
		t.Errorf("after draining, upload went to %#x (%+v), want the first block %#x again", f.copies[2].dst, f.dev.StageStats(), blk)
	}
}

func TestStageWaitsAtTheLimit(t *testing.T) {
	f := newStageFake(t)
	n := stageLimitBytes / 4 // the largest staged upload: one chunk each
	for range 5 {
		f.stage(t, 0x9000, n)
	}
	s := f.dev.StageStats()
	if s.Chunks != 4 || s.Bytes != stageLimitBytes || s.Waits != 1 || f.waited != 1 {
		t.Errorf("5 uploads of a quarter of the pinned limit, none drained: %+v (event waits %d), want 4 chunks and 1 host wait", s, f.waited)
	}
	if s.DevChunks != devStageLimit/n {
		t.Errorf("device staging %+v, want %d blocks at the limit, reused by GPU-side waits", s, devStageLimit/n)
	}
	if f.copies[4].host != f.copies[0].host {
		t.Errorf("fifth upload staged in %#x, want the oldest chunk %#x once drained", f.copies[4].host, f.copies[0].host)
	}
}

func TestStageLargeUploadIsSynchronous(t *testing.T) {
	f := newStageFake(t)
	f.stage(t, 0x9000, stageLimitBytes/4+4)
	if f.syncs != 1 || f.dev.StageStats().Chunks != 0 {
		t.Errorf("upload over the staging share: %d stream syncs, %+v; want the synchronous path", f.syncs, f.dev.StageStats())
	}
}

func TestCloseReturnsStagingMemory(t *testing.T) {
	f := newStageFake(t)
	d := f.dev
	f.stage(t, 0x9000, 16)
	f.stage(t, 0xa000, 3<<20)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if len(f.pinned) != 0 || d.MemStats().Allocated != 0 {
		t.Errorf("%d pinned blocks and %d device bytes left after Close", len(f.pinned), d.MemStats().Allocated)
	}
	if err := d.StageFloat32(0x9000, []float32{1}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("stage after close: %v, want a closed-device error", err)
	}
}

// TestGPUStagedRoundTrip stages small and large uploads back to back,
// reusing the source slice at once, and reads every destination back.
func TestGPUStagedRoundTrip(t *testing.T) {
	d := gpuDevice(t)
	sizes := []int{3, 700 << 10 / 4, 3 << 20 / 4, 5, 3 << 20 / 4, 1 << 20} // floats: small and large paths mixed
	src := make([]float32, 1<<20)
	var dsts []DevPtr
	for i, n := range sizes {
		for j := range n {
			src[j] = float32(i*1000 + j%977)
		}
		p := alloc(t, d, n)
		if err := d.StageFloat32(p, src[:n]); err != nil {
			t.Fatal(err)
		}
		dsts = append(dsts, p)
	}
	for i, n := range sizes {
		got := download(t, d, dsts[i], n)
		for j, v := range got {
			if v != float32(i*1000+j%977) {
				t.Fatalf("upload %d (%d floats): [%d] = %v, want %v", i, n, j, v, float32(i*1000+j%977))
			}
		}
	}
	t.Logf("staging: %+v", d.StageStats())
}
