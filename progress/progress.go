// Package progress draws live progress bars with rate and ETA for long loops,
// and keeps them below the log: log lines written through Factory.Writer
// scroll up above the bars, which are redrawn after each line. Bars draw only
// on an interactive terminal (or when forced), so logs and CI output stay
// clean.
package progress

import (
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Mode selects when bars are drawn.
type Mode string

const (
	Auto   Mode = "auto"   // draw when the output is a terminal and CI is unset
	Always Mode = "always" // always draw
	Never  Mode = "never"  // never draw
)

// ParseMode parses the --progress flag.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Auto, Always, Never:
		return m, nil
	}
	return "", fmt.Errorf("--progress %q: want auto, always or never", s)
}

// redrawEvery throttles redraws caused by counts alone: a bar moving
// thousands of times a second would otherwise flood the terminal.
const redrawEvery = 150 * time.Millisecond

// Factory makes bars that share one output, and the writer that puts log
// lines above them. Its methods are safe for concurrent use.
type Factory struct {
	out     io.Writer
	enabled bool
	width   func() int // columns of the terminal, 0 when unknown
	now     func() time.Time

	mu       sync.Mutex // guards the fields below and serialises writes to out
	live     []*Bar     // bars drawn below the log, oldest first
	drawn    int        // bar lines on the screen now, the cursor just below them
	partial  []byte     // log text not yet ended by a newline
	lastDraw time.Time
}

// NewFactory returns a factory drawing to out under mode. A nil factory is
// valid and makes silent bars.
func NewFactory(out io.Writer, mode Mode) *Factory {
	enabled := mode == Always
	if mode == Auto {
		enabled = IsTerminal(out) && os.Getenv("CI") == ""
	}
	return &Factory{out: out, enabled: enabled, now: time.Now, width: func() int { return termWidth(out) }}
}

// drawing reports whether the factory draws bars.
func (f *Factory) drawing() bool { return f != nil && f.enabled }

// IsTerminal reports whether w is an interactive terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Bar tracks one loop of known length. Its methods are safe for concurrent use.
type Bar struct {
	f        *Factory
	label    string
	total    int64
	done     atomic.Int64
	start    time.Time
	finished atomic.Bool
}

// New starts a bar for total units of work and draws it below the others.
func (f *Factory) New(label string, total int) *Bar {
	b := &Bar{f: f, label: label, total: int64(total)}
	if !f.drawing() {
		return b
	}
	b.start = f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.live = append(f.live, b)
	f.redraw(nil)
	return b
}

// Add records n more units done.
func (b *Bar) Add(n int) { b.update(b.done.Add(int64(n))) }

// Set records that done units are done in all, for callbacks that report
// totals rather than increments.
func (b *Bar) Set(done int) {
	b.done.Store(int64(done))
	b.update(int64(done))
}

func (b *Bar) update(d int64) {
	if !b.f.drawing() || b.finished.Load() {
		return
	}
	f := b.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.now().Sub(f.lastDraw) < redrawEvery && d < b.total {
		return
	}
	f.redraw(nil)
}

// Done finishes the bar: it leaves the live area and its final line (count
// and elapsed time) stays above the bars still running.
func (b *Bar) Done() {
	if !b.f.drawing() || b.finished.Swap(true) {
		return
	}
	f := b.f
	f.mu.Lock()
	defer f.mu.Unlock()
	f.live = slices.DeleteFunc(f.live, func(x *Bar) bool { return x == b })
	f.redraw([]byte(fit(b.line(f.now(), true), f.width()) + "\n"))
}
