// Package termscreen replays what a program wrote to a terminal onto a
// screen of text lines, so tests can check what a person would see rather
// than the bytes (cursor moves and erasures included). It knows the few
// ECMA-48 sequences detflow writes and ignores colours.
package termscreen

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Screen is a terminal with unlimited scrollback.
type Screen struct {
	Width    int // columns; text wraps past them (0: never wraps)
	lines    [][]rune
	row, col int
}

// Render replays out on a screen width columns wide and returns its lines,
// trailing blanks trimmed.
func Render(out []byte, width int) []string {
	s := &Screen{Width: width}
	s.Write(out)
	return s.Lines()
}

// Lines returns the screen's text, trailing spaces and empty last lines cut.
func (s *Screen) Lines() []string {
	var out []string
	for _, l := range s.lines {
		out = append(out, strings.TrimRight(string(l), " "))
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// Write replays p. It never fails.
func (s *Screen) Write(p []byte) (int, error) {
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRune(p[i:])
		i += n
		switch r {
		case '\r':
			s.col = 0
		case '\n': // a pty's output processing turns \n into \r\n
			s.row, s.col = s.row+1, 0
		case '\b':
			s.col = max(s.col-1, 0)
		case '\t':
			s.col = (s.col/8 + 1) * 8
		case 0x1b:
			i += s.escape(p[i:])
		default:
			s.put(r)
		}
	}
	return len(p), nil
}

// escape applies the sequence after an ESC and returns its length.
func (s *Screen) escape(p []byte) int {
	if len(p) == 0 || p[0] != '[' {
		return min(len(p), 1)
	}
	end := 1
	for end < len(p) && (p[end] < 0x40 || p[end] > 0x7e) {
		end++
	}
	if end == len(p) {
		return end
	}
	params := string(p[1:end])
	n, err := strconv.Atoi(strings.TrimPrefix(params, "?"))
	if err != nil || n == 0 {
		n = 1
	}
	switch p[end] {
	case 'A':
		s.row = max(s.row-n, 0)
	case 'B':
		s.row += n
	case 'C':
		s.col += n
	case 'D':
		s.col = max(s.col-n, 0)
	case 'G':
		s.col = n - 1
	case 'K':
		s.eraseLine(params)
	case 'J':
		s.eraseLine("")
		if s.row+1 < len(s.lines) {
			s.lines = s.lines[:s.row+1]
		}
	}
	return end + 1
}

func (s *Screen) eraseLine(params string) {
	s.grow()
	l := s.lines[s.row]
	switch params {
	case "2":
		s.lines[s.row] = l[:0]
	case "", "0":
		if s.col < len(l) {
			s.lines[s.row] = l[:s.col]
		}
	}
}

func (s *Screen) put(r rune) {
	if s.Width > 0 && s.col >= s.Width {
		s.row, s.col = s.row+1, 0
	}
	s.grow()
	l := s.lines[s.row]
	for len(l) <= s.col {
		l = append(l, ' ')
	}
	l[s.col] = r
	s.lines[s.row] = l
	s.col++
}

func (s *Screen) grow() {
	for len(s.lines) <= s.row {
		s.lines = append(s.lines, nil)
	}
}
