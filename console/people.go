package console

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ANSI colours (SGR).
const (
	dim    = "\x1b[2m"
	yellow = "\x1b[33m"
	red    = "\x1b[1;31m"
	reset  = "\x1b[0m"
)

// stageWidth aligns messages after the longest stage name ("proposals").
const stageWidth = 9

// people is the slog.Handler for people: "15:04:05 train     message k=v".
type people struct {
	w      io.Writer
	mu     *sync.Mutex // one line per Write, whole
	stage  string
	level  slog.Leveler
	colour bool
	attrs  []slog.Attr // from WithAttrs, keys already qualified by groups
	group  string      // prefix from WithGroup, "a.b."
}

func newPeople(w io.Writer, stage string, level slog.Leveler, colour bool) *people {
	if level == nil {
		level = slog.LevelInfo
	}
	return &people{w: w, mu: new(sync.Mutex), stage: stage, level: level, colour: colour}
}

func (h *people) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *people) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(c.attrs[:len(c.attrs):len(c.attrs)], qualify(h.group, as)...)
	return &c
}

func (h *people) WithGroup(name string) slog.Handler {
	c := *h
	c.group += name + "."
	return &c
}

func (h *people) Handle(_ context.Context, r slog.Record) error {
	var attrs []slog.Attr
	var say *said
	r.Attrs(func(a slog.Attr) bool {
		if s, ok := a.Value.Any().(said); ok && a.Key == sayKey {
			say = &s
		} else {
			attrs = append(attrs, qualify(h.group, []slog.Attr{a})...)
		}
		return true
	})
	line := h.format(r, say, append(h.attrs[:len(h.attrs):len(h.attrs)], attrs...))
	if line == "" {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, line)
	return err
}

// format renders one record, or "" when it has nothing for people.
func (h *people) format(r slog.Record, say *said, attrs []slog.Attr) string {
	if say != nil && say.bare {
		if say.text == "" || strings.HasSuffix(say.text, "\n") {
			return say.text
		}
		return say.text + "\n"
	}
	prefix := r.Time.Format(time.TimeOnly) + " " + fmt.Sprintf("%-*s", stageWidth, h.stage) + " "
	var b strings.Builder
	if h.colour {
		b.WriteString(dim + prefix + reset)
	} else {
		b.WriteString(prefix)
	}
	b.WriteString(h.levelTag(r.Level))
	if say != nil {
		// Continuation lines align under the first one's text.
		b.WriteString(strings.ReplaceAll(strings.TrimRight(say.text, "\n"), "\n", "\n"+strings.Repeat(" ", len(prefix))))
	} else {
		b.WriteString(r.Message)
		for _, a := range attrs {
			if a.Key == "stage" && h.stage != "" {
				continue // already in the prefix
			}
			b.WriteString(" " + a.Key + "=" + formatValue(a.Value))
		}
	}
	if r.Level >= slog.LevelWarn && h.colour {
		b.WriteString(reset)
	}
	b.WriteByte('\n')
	return b.String()
}

// levelTag marks warnings and errors; info, the common case, is unmarked.
func (h *people) levelTag(l slog.Level) string {
	var tag, col string
	switch {
	case l >= slog.LevelError:
		tag, col = "ERROR ", red
	case l >= slog.LevelWarn:
		tag, col = "WARN ", yellow
	case l < slog.LevelInfo:
		tag, col = "DEBUG ", dim
	default:
		return ""
	}
	if h.colour {
		return col + tag
	}
	return tag
}

// qualify flattens groups into dotted keys.
func qualify(prefix string, as []slog.Attr) []slog.Attr {
	var out []slog.Attr
	for _, a := range as {
		a.Value = a.Value.Resolve()
		if a.Value.Kind() == slog.KindGroup {
			p := prefix
			if a.Key != "" {
				p += a.Key + "."
			}
			out = append(out, qualify(p, a.Value.Group())...)
			continue
		}
		a.Key = prefix + a.Key
		out = append(out, a)
	}
	return out
}

// formatValue prints a value for people: floats at 4 significant digits,
// durations to the millisecond, lists comma separated, text quoted only
// where it would not read as one value.
func formatValue(v slog.Value) string {
	switch v.Kind() {
	case slog.KindFloat64:
		return Float(v.Float64())
	case slog.KindDuration:
		return v.Duration().Round(time.Millisecond).String()
	case slog.KindTime:
		return v.Time().Format(time.DateTime)
	case slog.KindString:
		return quote(v.String())
	}
	switch x := v.Any().(type) {
	case []string:
		return quote(strings.Join(x, ", "))
	case error:
		return quote(x.Error())
	}
	return quote(v.String())
}

func quote(s string) string {
	if s == "" || strings.ContainsAny(s, " =\"\n\t") {
		return strconv.Quote(s)
	}
	return s
}

// Float prints x for people: integers as integers, otherwise 4 significant
// digits, with an exponent only for very small or large magnitudes.
func Float(x float64) string {
	a := math.Abs(x)
	switch {
	case x == math.Trunc(x) && a < 1e15:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case a >= 1e4 && a < 1e15:
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}
