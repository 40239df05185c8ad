package termscreen

import (
	"slices"
	"testing"
)

func TestRender(t *testing.T) {
	tests := []struct {
		name  string
		out   string
		width int
		want  []string
	}{
		{"lines", "a\nb\n", 0, []string{"a", "b"}},
		{"carriage return overwrites", "abc\rX\n", 0, []string{"Xbc"}},
		{"erase to end of line", "abc\r\x1b[Kd\n", 0, []string{"d"}},
		{"up and erase below", "log\nbar1\nbar2\n\r\x1b[2A\x1b[Jnext\nbar\n", 0, []string{"log", "next", "bar"}},
		{"colours ignored", "\x1b[31mred\x1b[0m\n", 0, []string{"red"}},
		{"wraps at width", "abcdef\n", 4, []string{"abcd", "ef"}},
		{"cursor shown", "x\x1b[?25h\n", 0, []string{"x"}},
	}
	for _, tt := range tests {
		if got := Render([]byte(tt.out), tt.width); !slices.Equal(got, tt.want) {
			t.Errorf("%s: Render(%q) = %q, want %q", tt.name, tt.out, got, tt.want)
		}
	}
}
