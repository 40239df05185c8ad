package progress

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Terminal control sequences (ECMA-48) the live area needs.
const (
	cursorUp    = "\x1b[%dA" // move up n lines
	clearBelow  = "\x1b[J"   // erase from the cursor to the end of the screen
	maxLiveBars = 8          // more would scroll off short terminals and break redraws
)

// Writer returns a writer for log text that keeps the bars below it: each
// complete line clears the bars, is written, and the bars are redrawn under
// it, so no log line ever shares a line with a bar. Text without a final
// newline waits for the rest of its line.
func (f *Factory) Writer() io.Writer {
	if f == nil {
		return io.Discard
	}
	return logWriter{f}
}

type logWriter struct{ f *Factory }

func (w logWriter) Write(p []byte) (int, error) {
	f := w.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.enabled {
		return f.out.Write(p)
	}
	f.partial = append(f.partial, p...)
	i := bytes.LastIndexByte(f.partial, '\n')
	if i < 0 {
		return len(p), nil
	}
	lines := bytes.Clone(f.partial[:i+1])
	f.partial = append(f.partial[:0], f.partial[i+1:]...)
	return len(p), f.redraw(lines)
}

// Close finishes the live area: bars still running are erased (their
// stage ended without Done) and unfinished log text is ended with a newline,
// so the terminal is left with the cursor on a clean line.
func (f *Factory) Close() error {
	if !f.drawing() {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range f.live {
		b.finished.Store(true)
	}
	f.live = nil
	var rest []byte
	if len(f.partial) > 0 {
		rest = append(f.partial, '\n')
		f.partial = nil
	}
	return f.redraw(rest)
}

// redraw erases the bars, writes text (whole lines) where they were, and
// draws the live bars again below it, all in one write so a reader never
// sees a half-drawn screen. The caller holds f.mu.
func (f *Factory) redraw(text []byte) error {
	var b bytes.Buffer
	if f.drawn > 0 {
		fmt.Fprintf(&b, "\r"+cursorUp+clearBelow, f.drawn)
	}
	b.Write(text)
	now := f.now()
	f.drawn = 0
	width := f.width() // one query (an ioctl) per redraw, not per bar
	for _, bar := range f.live[:min(len(f.live), maxLiveBars)] {
		b.WriteString(fit(bar.line(now, false), width) + "\n")
		f.drawn++
	}
	f.lastDraw = now
	_, err := f.out.Write(b.Bytes())
	return err
}

// fit cuts a bar line to the terminal's width w: a wrapped line would take
// two rows and the next redraw would erase one too few.
func fit(line string, w int) string {
	if w <= 1 || utf8.RuneCountInString(line) < w {
		return line
	}
	return string([]rune(line)[:w-1])
}

// line renders "label [=====>    ] 40/100 12.3/s ETA 4s", or for a finished
// bar "label [==========] 100/100 12.3/s in 8s".
func (b *Bar) line(now time.Time, final bool) string {
	done, total := b.done.Load(), b.total
	elapsed := now.Sub(b.start)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed.Seconds()
	}
	const width = 24
	frac := 0.0
	if total > 0 {
		frac = min(float64(done)/float64(total), 1)
	}
	filled := int(frac * width)
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", width-filled)
	when := "ETA ?"
	switch {
	case final:
		when = "in " + FormatDuration(elapsed)
	case rate > 0 && total >= done:
		when = "ETA " + FormatDuration(time.Duration(float64(total-done)/rate*float64(time.Second)))
	}
	return fmt.Sprintf("%s [%s] %d/%d %.1f/s %s", b.label, bar, done, total, rate, when)
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
