package gpu

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The profiler answers "where does a step's GPU time go, and is the GPU
// waiting for the host?": while it is on, every kernel, GEMM and cuDNN
// convolution queued on the compute stream is bracketed by a pair of CUDA
// events, and StopProfile reads their elapsed times back, summed by name
// (torch.profiler's "CUDA time" column). Off, it costs one nil check per
// call. Events disturb the timing a little, so profile a step apart from
// the ones you time.

type profiler struct {
	start time.Time
	recs  []profRec
	err   error // the first event call that failed
}

type profRec struct {
	name     string
	from, to uintptr // events
}

// ProfileEntry is one name's share of a profiled span.
type ProfileEntry struct {
	Name  string
	Calls int
	GPU   time.Duration // summed elapsed time between its events
}

// Profile is what StopProfile measured.
type Profile struct {
	Wall    time.Duration  // host time from StartProfile to StopProfile
	GPU     time.Duration  // summed over Entries; near Wall when the GPU is the bottleneck
	Entries []ProfileEntry // largest GPU time first
}

// Table formats the profile as a table of its top n entries (all if n <= 0).
func (p Profile) Table(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "wall %.2f ms, GPU busy %.2f ms (%.0f%%) in %d calls\n", ms(p.Wall), ms(p.GPU), 100*p.GPU.Seconds()/max(p.Wall.Seconds(), 1e-12), p.calls())
	for i, e := range p.Entries {
		if n > 0 && i == n {
			fmt.Fprintf(&b, "  ... %d more\n", len(p.Entries)-n)
			break
		}
		fmt.Fprintf(&b, "  %9.3f ms %5.1f%% %6d  %s\n", ms(e.GPU), 100*e.GPU.Seconds()/max(p.GPU.Seconds(), 1e-12), e.Calls, e.Name)
	}
	return b.String()
}

func (p Profile) calls() int {
	n := 0
	for _, e := range p.Entries {
		n += e.Calls
	}
	return n
}

func ms(d time.Duration) float64 { return d.Seconds() * 1e3 }

// StartProfile turns the profiler on (again), dropping what it held.
func (d *Device) StartProfile() error {
	return d.do(func() error {
		err := d.dropProfile()
		d.prof = &profiler{start: time.Now()}
		return err
	})
}

// StopProfile waits for the queued work, turns the profiler off and
// returns what it measured since StartProfile.
func (d *Device) StopProfile() (Profile, error) {
	var out Profile
	err := d.do(func() error {
		p := d.prof
		if p == nil {
			return errors.New("gpu: StopProfile without StartProfile")
		}
		if err := d.drv.check("cuStreamSynchronize", d.drv.cuStreamSynchronize(d.stream)); err != nil {
			return err
		}
		out.Wall = time.Since(p.start)
		byName := map[string]*ProfileEntry{}
		for _, r := range p.recs {
			var t float32
			if p.err == nil {
				p.err = d.drv.check("cuEventElapsedTime", d.drv.cuEventElapsedTime(&t, r.from, r.to))
			}
			e := byName[r.name]
			if e == nil {
				e = &ProfileEntry{Name: r.name}
				byName[r.name] = e
			}
			e.Calls++
			e.GPU += time.Duration(float64(t) * float64(time.Millisecond))
		}
		for _, e := range byName {
			out.Entries = append(out.Entries, *e)
			out.GPU += e.GPU
		}
		slices.SortFunc(out.Entries, func(a, b ProfileEntry) int {
			return cmp.Or(cmp.Compare(b.GPU, a.GPU), strings.Compare(a.Name, b.Name))
		})
		return errors.Join(p.err, d.dropProfile())
	})
	return out, err
}

// dropProfile destroys the profiler's events and turns it off; inside do.
func (d *Device) dropProfile() error {
	p := d.prof
	d.prof = nil
	if p == nil {
		return nil
	}
	var errs []error
	for _, r := range p.recs {
		for _, ev := range []uintptr{r.from, r.to} {
			if ev != 0 {
				errs = append(errs, d.drv.check("cuEventDestroy", d.drv.cuEventDestroy(ev)))
			}
		}
	}
	return errors.Join(errs...)
}

// profBegin records an event before a profiled call (0 when the profiler
// is off or the event failed); profEnd records the one after it. Inside do.
func (d *Device) profBegin() uintptr {
	if d.prof == nil {
		return 0
	}
	return d.profEvent()
}

func (d *Device) profEnd(name string, from uintptr) {
	if d.prof == nil || from == 0 {
		return
	}
	if to := d.profEvent(); to != 0 {
		d.prof.recs = append(d.prof.recs, profRec{name: name, from: from, to: to})
	} else {
		d.drv.cuEventDestroy(from)
	}
}

func (d *Device) profEvent() uintptr {
	p := d.prof
	if p.err != nil {
		return 0
	}
	var ev uintptr
	ev, p.err = d.recordEvent()
	return ev
}
