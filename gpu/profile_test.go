package gpu

import (
	"strings"
	"testing"
	"time"
)

// TestProfileFakeDriver: with the profiler on, each launch is bracketed by
// two events on the compute stream and StopProfile sums their elapsed
// times by kernel; off, no event is made.
func TestProfileFakeDriver(t *testing.T) {
	f := newFakeDevice(t)
	d := f.dev
	var clock float32 // the fake GPU's time in ms: each launch takes 2 ms, a Fill 1 ms
	stamp, live := map[uintptr]float32{}, map[uintptr]bool{}
	next := uintptr(1)
	f.drv.cuEventCreate = func(ev *uintptr, _ uint32) Result {
		*ev, next = next, next+1
		live[*ev] = true
		return 0
	}
	f.drv.cuEventRecord = func(ev, stream uintptr) Result {
		if stream != d.stream {
			t.Errorf("event recorded on stream %#x, want the compute stream", stream)
		}
		stamp[ev] = clock
		return 0
	}
	f.drv.cuEventElapsedTime = func(ms *float32, from, to uintptr) Result {
		*ms = stamp[to] - stamp[from]
		return 0
	}
	f.drv.cuEventDestroy = func(ev uintptr) Result {
		delete(live, ev)
		return 0
	}
	launch := f.drv.cuLaunchKernel
	f.drv.cuLaunchKernel = func(fn uintptr, grid, block dim3, shared uint32, stream, params uintptr) Result {
		clock += 2
		if f.funcs[fn] == kFill {
			clock--
		}
		return launch(fn, grid, block, shared, stream, params)
	}
	p := DevPtr(0x1000)
	if err := d.Add(p, p, p, 10); err != nil {
		t.Fatal(err)
	}
	if len(live) != 0 {
		t.Fatalf("profiler off: %d events made", len(live))
	}
	if _, err := d.StopProfile(); err == nil {
		t.Error("StopProfile without StartProfile: no error")
	}
	if err := d.StartProfile(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := d.Add(p, p, p, 10); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Fill(p, 1, 10); err != nil {
		t.Fatal(err)
	}
	prof, err := d.StopProfile()
	if err != nil {
		t.Fatal(err)
	}
	want := []ProfileEntry{{Name: kAdd, Calls: 3, GPU: 6 * time.Millisecond}, {Name: kFill, Calls: 1, GPU: time.Millisecond}}
	if len(prof.Entries) != len(want) || prof.Entries[0] != want[0] || prof.Entries[1] != want[1] || prof.GPU != 7*time.Millisecond {
		t.Errorf("profile %+v, want entries %+v summing to 7ms", prof, want)
	}
	if len(live) != 0 {
		t.Errorf("%d events left after StopProfile", len(live))
	}
	if s := prof.Table(1); !strings.Contains(s, "GPU busy 7.00 ms") || !strings.Contains(s, kAdd) || !strings.Contains(s, "... 1 more") {
		t.Errorf("Table(1):\n%s", s)
	}
	if err := d.Add(p, p, p, 10); err != nil || len(live) != 0 {
		t.Errorf("after StopProfile: err %v, %d events made", err, len(live))
	}
}
