// Package progress draws live progress bars with rate and ETA for long loops.
// Bars draw only on an interactive terminal (or when forced), so logs and CI
// output stay clean.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
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

// Factory makes bars that share one output.
type Factory struct {
	out     io.Writer
	enabled bool
	mu      sync.Mutex // serialises drawing across bars
	now     func() time.Time
}

// NewFactory returns a factory drawing to out under mode. A nil factory is
// valid and makes silent bars.
func NewFactory(out io.Writer, mode Mode) *Factory {
	enabled := mode == Always
	if mode == Auto {
		enabled = isTerminal(out) && os.Getenv("CI") == ""
	}
	return &Factory{out: out, enabled: enabled, now: time.Now}
}

func isTerminal(w io.Writer) bool {
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
	lastDraw atomic.Int64 // unix nanos of the last draw
	finished atomic.Bool
}

// New starts a bar for total units of work.
func (f *Factory) New(label string, total int) *Bar {
	b := &Bar{f: f, label: label, total: int64(total)}
	if f != nil {
		b.start = f.now()
	}
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
	if b.f == nil || !b.f.enabled {
		return
	}
	now := b.f.now()
	if last := b.lastDraw.Load(); now.UnixNano()-last < int64(150*time.Millisecond) && d < b.total {
		return
	}
	b.lastDraw.Store(now.UnixNano())
	b.draw(now, false)
}

// Done finishes the bar, leaving its final line on the terminal.
func (b *Bar) Done() {
	if b.f == nil || !b.f.enabled || b.finished.Swap(true) {
		return
	}
	b.draw(b.f.now(), true)
}

func (b *Bar) draw(now time.Time, final bool) {
	line := b.line(now)
	b.f.mu.Lock()
	defer b.f.mu.Unlock()
	end := ""
	if final {
		end = "\n"
	}
	fmt.Fprintf(b.f.out, "\r\x1b[K%s%s", line, end)
}

// line renders "label [=====>    ] 40/100 12.3/s ETA 4s".
func (b *Bar) line(now time.Time) string {
	done, total := b.done.Load(), b.total
	elapsed := now.Sub(b.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed
	}
	const width = 24
	frac := 0.0
	if total > 0 {
		frac = min(float64(done)/float64(total), 1)
	}
	filled := int(frac * width)
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	eta := "?"
	if rate > 0 && total >= done {
		eta = FormatDuration(time.Duration(float64(total-done) / rate * float64(time.Second)))
	}
	return fmt.Sprintf("%s [%s] %d/%d %.1f/s ETA %s", b.label, bar, done, total, rate, eta)
}

// FormatDuration prints d compactly: "950ms", "42s", "3m07s", "1h02m".
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.0fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
