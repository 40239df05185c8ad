package console

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// record logs one record through h at a fixed time.
func record(h slog.Handler, level slog.Level, msg string, args ...any) {
	r := slog.NewRecord(time.Date(2026, 12, 7, 0, 11, 0, 0, time.Local), level, msg, 0)
	r.Add(args...)
	h.Handle(context.Background(), r)
}

func TestPeopleLinesAreShortAndRounded(t *testing.T) {
	tests := []struct {
		msg  string
		args []any
		want string
	}{
		{"train", []any{"epoch", 1, "lr", 0.0038161999999999988, "loss", 1.6963736325502397},
			"00:11:00 train     train epoch=1 lr=0.003816 loss=1.696\n"},
		{"stage start", []any{"stage", "train", "reasons", []string{"forced", "never run"}},
			"00:11:00 train     stage start reasons=\"forced, never run\"\n"},
		{"stage failed", []any{"err", errors.New("boom")}, "00:11:00 train     stage failed err=boom\n"},
		{"done", []any{"seconds", 3.399065311, "outputs", 5.0, "took", 1500 * time.Microsecond},
			"00:11:00 train     done seconds=3.399 outputs=5 took=2ms\n"},
		{"ignored", []any{"n", 1, Say("Epoch [1][1/1] lr: 2.000e-05")}, "00:11:00 train     Epoch [1][1/1] lr: 2.000e-05\n"},
		{"two lines", []any{Say("first\nsecond")}, "00:11:00 train     first\n                   second\n"},
		{"summary", []any{Print(" Average Precision = 0.052\n")}, " Average Precision = 0.052\n"},
		{"file only", []any{Print("")}, ""},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		record(newPeople(&buf, "train", nil, false), slog.LevelInfo, tt.msg, tt.args...)
		if buf.String() != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.msg, buf.String(), tt.want)
		}
	}
}

func TestWarningsAndErrorsStandOut(t *testing.T) {
	var plain, coloured bytes.Buffer
	record(newPeople(&plain, "evaluate", nil, false), slog.LevelWarn, "slow")
	record(newPeople(&coloured, "evaluate", nil, true), slog.LevelError, "broken")
	if got := plain.String(); got != "00:11:00 evaluate  WARN slow\n" {
		t.Errorf("warning: %q", got)
	}
	if got := coloured.String(); !strings.Contains(got, red+"ERROR broken"+reset+"\n") {
		t.Errorf("error not in red: %q", got)
	}
}

func TestNoColorTurnsColourOff(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	var buf bytes.Buffer
	record(NewHandler(&buf, Options{Format: Text, Terminal: true, Stage: "x"}), slog.LevelError, "broken")
	if strings.Contains(buf.String(), "\x1b[") {
		t.Errorf("NO_COLOR set, got %q", buf.String())
	}
}

// Machine formats keep full precision and never show the people's line.
func TestMachineFormatsKeepFullPrecision(t *testing.T) {
	for _, f := range []Format{JSON, Logfmt, Auto} { // Auto off a terminal is logfmt
		var buf bytes.Buffer
		record(NewHandler(&buf, Options{Format: f}), slog.LevelInfo, "train",
			"lr", 0.0038161999999999988, Say("for people"), Print("for people"))
		out := buf.String()
		if !strings.Contains(out, "0.0038161999999999988") || strings.Contains(out, "people") || strings.Contains(out, sayKey) {
			t.Errorf("%s: %q", f, out)
		}
	}
}

func TestAutoIsTextOnATerminal(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	var buf bytes.Buffer
	record(NewHandler(&buf, Options{Format: Auto, Terminal: true, Stage: "train"}), slog.LevelInfo, "x", Say("people"))
	if !strings.HasSuffix(buf.String(), "train     people\n") {
		t.Errorf("got %q", buf.String())
	}
}

func TestGroupsAndWithAttrsFlatten(t *testing.T) {
	var buf bytes.Buffer
	h := newPeople(&buf, "s", nil, false).WithAttrs([]slog.Attr{slog.Int("a", 1)}).WithGroup("g")
	record(h, slog.LevelInfo, "m", "b", 2, slog.Group("c", "d", 0.5))
	if got := buf.String(); !strings.HasSuffix(got, "m a=1 g.b=2 g.c.d=0.5\n") {
		t.Errorf("got %q", got)
	}
}

func TestFloat(t *testing.T) {
	tests := map[float64]string{0: "0", 375: "375", 1.5201669039999999: "1.52", 0.7115384615384616: "0.7115",
		2.000000000000002e-05: "2e-05", 123456.789: "123456.8", -0.25: "-0.25"}
	for x, want := range tests {
		if got := Float(x); got != want {
			t.Errorf("Float(%v) = %q, want %q", x, got, want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"auto", "text", "logfmt", "json"} {
		if _, err := ParseFormat(s); err != nil {
			t.Errorf("ParseFormat(%q): %v", s, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), `"xml"`) {
		t.Errorf("ParseFormat(xml) error = %v", err)
	}
}
