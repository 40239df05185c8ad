package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestBarDrawsRateAndETA(t *testing.T) {
	var buf bytes.Buffer
	f := NewFactory(&buf, Always)
	clock := time.Unix(100, 0)
	f.now = func() time.Time { return clock }
	b := f.New("images", 100)
	clock = clock.Add(2 * time.Second)
	b.Add(40)
	b.Done()
	out := buf.String()
	for _, want := range []string{"images", "40/100", "20.0/s", "ETA 3s"} {
		if !strings.Contains(out, want) {
			t.Errorf("output %q lacks %q", out, want)
		}
	}
	if !strings.HasSuffix(out, "\n") {
		t.Errorf("final line not terminated: %q", out)
	}
}

func TestNeverAndAutoStayQuiet(t *testing.T) {
	for _, mode := range []Mode{Never, Auto} { // a bytes.Buffer is not a terminal
		var buf bytes.Buffer
		b := NewFactory(&buf, mode).New("x", 10)
		b.Add(10)
		b.Done()
		if buf.Len() != 0 {
			t.Errorf("mode %s wrote %q", mode, buf.String())
		}
	}
	var nilFactory *Factory
	b := nilFactory.New("x", 3)
	b.Add(3) // must not panic
	b.Done()
}

func TestParseMode(t *testing.T) {
	for _, s := range []string{"auto", "always", "never"} {
		if _, err := ParseMode(s); err != nil {
			t.Errorf("ParseMode(%q): %v", s, err)
		}
	}
	if _, err := ParseMode("sometimes"); err == nil || !strings.Contains(err.Error(), `"sometimes"`) {
		t.Errorf("ParseMode(sometimes) error = %v", err)
	}
}

func TestFormatDuration(t *testing.T) {
	tests := map[time.Duration]string{
		950 * time.Millisecond:       "950ms",
		42 * time.Second:             "42s",
		187 * time.Second:            "3m07s",
		62*time.Minute + time.Second: "1h02m",
	}
	for d, want := range tests {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
