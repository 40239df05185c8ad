package coco

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// rowScanner splits a top-level JSON array into its elements' raw bytes
// while reading, so a results file is never held whole. It only finds
// boundaries; the bytes of each element are then parsed strictly.
type rowScanner struct {
	r   io.Reader
	buf []byte
	pos int // next unread byte of buf
	eof bool
	err error
}

func newRowScanner(r io.Reader) *rowScanner {
	return &rowScanner{r: r, buf: make([]byte, 0, 1<<20)}
}

// fill reads more input, first dropping consumed bytes. It reports whether
// any byte was added.
func (s *rowScanner) fill() bool {
	if s.eof {
		return false
	}
	if s.pos > 0 && s.pos >= len(s.buf)/2 {
		n := copy(s.buf, s.buf[s.pos:])
		s.buf, s.pos = s.buf[:n], 0
	}
	if len(s.buf) == cap(s.buf) {
		s.buf = append(s.buf, 0)[:len(s.buf)]
	}
	n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
	s.buf = s.buf[:len(s.buf)+n]
	if err != nil {
		s.eof = true
		if !errors.Is(err, io.EOF) {
			s.err = err
		}
	}
	return n > 0 || !s.eof
}

// peek skips whitespace and returns the next byte without consuming it.
func (s *rowScanner) peek() (byte, bool) {
	for {
		for s.pos < len(s.buf) {
			switch c := s.buf[s.pos]; c {
			case ' ', '\t', '\n', '\r':
				s.pos++
			default:
				return c, true
			}
		}
		if !s.fill() {
			return 0, false
		}
	}
}

// value returns the raw bytes of the JSON value at the current position and
// consumes them. The slice is valid until the next call.
func (s *rowScanner) value() ([]byte, error) {
	if _, ok := s.peek(); !ok {
		return nil, s.endError()
	}
	depth, inString, escaped := 0, false, false
	for i := 0; ; i++ {
		for s.pos+i >= len(s.buf) {
			if !s.fill() {
				return nil, s.endError()
			}
		}
		c := s.buf[s.pos+i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
				if depth == 0 {
					return s.take(i + 1), nil
				}
			default:
				// Skip to the next quote or backslash at memchr speed: RLE
				// counts strings are most of a segm results file.
				i += plainRun(s.buf[s.pos+i+1:])
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth == 0 {
				return s.take(i), nil // end of a bare literal
			}
			depth--
			if depth == 0 {
				return s.take(i + 1), nil
			}
		case depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return s.take(i), nil
		}
	}
}

// plainRun is the length of b's prefix without '"' or '\\'.
func plainRun(b []byte) int {
	n := bytes.IndexByte(b, '"')
	if n < 0 {
		n = len(b)
	}
	if k := bytes.IndexByte(b[:n], '\\'); k >= 0 {
		return k
	}
	return n
}

func (s *rowScanner) take(n int) []byte {
	v := s.buf[s.pos : s.pos+n]
	s.pos += n
	return v
}

func (s *rowScanner) endError() error {
	if s.err != nil {
		return s.err
	}
	return io.ErrUnexpectedEOF
}

// rows reads "[v, v, ...]" calling each with every element's bytes, then
// requires the input to end.
func (s *rowScanner) rows(ctx context.Context, path string, each func(i int, raw []byte) error) error {
	c, ok := s.peek()
	if !ok {
		return fmt.Errorf("%s: %w", path, s.endError())
	}
	if c != '[' {
		return fmt.Errorf("%s: want an array, got %q", path, c)
	}
	s.pos++
	if c, ok := s.peek(); ok && c == ']' {
		s.pos++
		return s.end(path)
	}
	for i := 0; ; i++ {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		raw, err := s.value()
		if err != nil {
			return fmt.Errorf("%s[%d]: %w", path, i, err)
		}
		if len(raw) == 0 {
			return fmt.Errorf("%s[%d]: missing value", path, i)
		}
		if err := each(i, raw); err != nil {
			return fmt.Errorf("%s[%d]: %w", path, i, err)
		}
		c, ok := s.peek()
		switch {
		case !ok:
			return fmt.Errorf("%s: %w", path, s.endError())
		case c == ',':
			s.pos++
		case c == ']':
			s.pos++
			return s.end(path)
		default:
			return fmt.Errorf("%s: after element %d: want ',' or ']', got %q", path, i, c)
		}
	}
}

func (s *rowScanner) end(path string) error {
	if _, ok := s.peek(); ok {
		return fmt.Errorf("%s: unexpected data after the array", path)
	}
	return s.err
}

// parseRowFast decodes a results row of exactly the keys image_id,
// category_id, bbox (at most 4 numbers), score and optionally segmentation
// ({size: [h, w], counts: string}), each once, with plain numbers, in any
// order and spacing. It reports false for anything else, for encoding/json
// to handle; when it reports true the values equal what encoding/json
// would decode. seg is storage for the segmentation.
func parseRowFast(row string, w *wireDetection, bbox *[4]float64, seg *wireSegm) bool {
	p := rowParser{b: row}
	if !p.byte('{') {
		return false
	}
	var imageID, categoryID int64
	var score float64
	var seen uint8
	*seg = wireSegm{}
	for {
		key, ok := p.key()
		if !ok {
			return false
		}
		var bit uint8
		switch key {
		case "image_id":
			bit = 1
			imageID, ok = p.int()
		case "category_id":
			bit = 2
			categoryID, ok = p.int()
		case "score":
			bit = 4
			score, ok = p.float()
		case "bbox":
			bit = 8
			var n int
			n, ok = p.floats(bbox)
			w.BBox = bbox[:n]
		case "segmentation":
			bit = 16
			ok = p.rle(&seg.wireRLE)
			w.Segmentation = seg
		default:
			return false
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		if p.byte(',') {
			continue
		}
		if !p.byte('}') {
			return false
		}
		break
	}
	p.space()
	// Without segmentation every key is needed; with one, bbox is optional.
	if p.i != len(p.b) || (seen != 15 && seen != 31 && seen != 23) {
		return false
	}
	w.ImageID, w.CategoryID, w.Score = &imageID, &categoryID, &score
	return true
}

// rowParser walks one row's text. It works on a string so that the values
// it returns (counts strings) share the row's memory.
type rowParser struct {
	b string
	i int
}

func (p *rowParser) space() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\n' || p.b[p.i] == '\r') {
		p.i++
	}
}

// byte consumes c after optional whitespace.
func (p *rowParser) byte(c byte) bool {
	p.space()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// key reads `"name" :` for names without escapes.
func (p *rowParser) key() (string, bool) {
	if !p.byte('"') {
		return "", false
	}
	start := p.i
	for p.i < len(p.b) && p.b[p.i] != '"' {
		if p.b[p.i] == '\\' || p.b[p.i] < 0x20 {
			return "", false
		}
		p.i++
	}
	if p.i == len(p.b) {
		return "", false
	}
	key := p.b[start:p.i]
	p.i++
	return key, p.byte(':')
}

// number returns the next JSON number token, checked against the grammar
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, and whether it is an integer.
func (p *rowParser) number() (tok string, integer, ok bool) {
	p.space()
	start := p.i
	p.i += p.match('-')
	switch {
	case p.match('0') == 1:
		p.i++
	case p.i < len(p.b) && p.b[p.i] >= '1' && p.b[p.i] <= '9':
		p.digits()
	default:
		return "", false, false
	}
	integer = true
	if p.match('.') == 1 {
		p.i++
		if p.digits() == 0 {
			return "", false, false
		}
		integer = false
	}
	if p.match('e') == 1 || p.match('E') == 1 {
		p.i++
		p.i += p.match('+') | p.match('-')
		if p.digits() == 0 {
			return "", false, false
		}
		integer = false
	}
	return p.b[start:p.i], integer, true
}

// match reports 1 when the next byte is c (without consuming it).
func (p *rowParser) match(c byte) int {
	if p.i < len(p.b) && p.b[p.i] == c {
		return 1
	}
	return 0
}

func (p *rowParser) digits() int {
	n := 0
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
		n++
	}
	return n
}

// int decodes an integer token as encoding/json does for an int64 field;
// fractions, exponents and more than 18 digits are left to encoding/json.
func (p *rowParser) int() (int64, bool) {
	tok, integer, ok := p.number()
	if !ok || !integer || len(tok) > 18 {
		return 0, false
	}
	neg := tok[0] == '-'
	if neg {
		tok = tok[1:]
	}
	var v int64
	for j := 0; j < len(tok); j++ {
		v = v*10 + int64(tok[j]-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

func (p *rowParser) float() (float64, bool) {
	tok, _, ok := p.number()
	if !ok {
		return 0, false
	}
	if v, ok := exactFloat(tok); ok {
		return v, true
	}
	v, err := strconv.ParseFloat(tok, 64)
	return v, err == nil
}

// float64Pow10 holds the powers of ten that float64 represents exactly.
var float64Pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// exactFloat converts a JSON number token (already checked against the
// grammar) when its digits form an integer below 2^53 and its decimal
// exponent is within ±22: both are then exact float64s, and one IEEE
// multiplication or division rounds correctly, giving strconv's value
// (Clinger's fast path, which strconv also takes, reached here without
// its general scanning). Boxes and scores are mostly such short decimals;
// it reports false for the rest.
func exactFloat(tok string) (float64, bool) {
	neg := tok[0] == '-'
	i := 0
	if neg {
		i = 1
	}
	var mant uint64
	exp, fraction := 0, false
	for ; i < len(tok) && tok[i] != 'e' && tok[i] != 'E'; i++ {
		if tok[i] == '.' {
			fraction = true
			continue
		}
		if mant >= 1<<53/10 {
			return 0, false
		}
		mant = mant*10 + uint64(tok[i]-'0')
		if fraction {
			exp--
		}
	}
	if i < len(tok) {
		e, err := strconv.Atoi(strings.TrimPrefix(tok[i+1:], "+"))
		if err != nil || e < -100 || e > 100 {
			return 0, false
		}
		exp += e
	}
	if exp < -22 || exp > 22 {
		return 0, false
	}
	f := float64(mant)
	if exp < 0 {
		f /= float64Pow10[-exp]
	} else {
		f *= float64Pow10[exp]
	}
	if neg {
		f = -f
	}
	return f, true
}

// rle reads {"size": [h, w], "counts": "..."}, keys in any order, each
// once; counts may escape only backslashes.
func (p *rowParser) rle(w *wireRLE) bool {
	if !p.byte('{') {
		return false
	}
	var size [2]int64
	var seen uint8
	for {
		key, ok := p.key()
		if !ok {
			return false
		}
		var bit uint8
		switch key {
		case "size":
			bit = 1
			ok = p.byte('[')
			if ok {
				size[0], ok = p.int()
			}
			ok = ok && p.byte(',')
			if ok {
				size[1], ok = p.int()
			}
			ok = ok && p.byte(']')
		case "counts":
			bit = 2
			w.counts, ok = p.countsString()
		default:
			return false
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		if p.byte(',') {
			continue
		}
		if !p.byte('}') || seen != 3 {
			return false
		}
		w.Size, w.parsed = size[:], true
		return true
	}
}

// countsRun is the length of b's prefix of the compressed RLE alphabet
// other than the backslash: characters the counts string takes as they are.
func countsRun(b string) int {
	for i := 0; i < len(b); i++ {
		if c := b[i]; c < '0' || c > 'o' || c == '\\' {
			return i
		}
	}
	return len(b)
}

// countsString reads a JSON string of printable ASCII whose only escape is
// "\\" (the backslash is one of the compressed RLE's characters).
func (p *rowParser) countsString() (string, bool) {
	if !p.byte('"') {
		return "", false
	}
	start, escapes := p.i, 0
	for ; p.i < len(p.b) && p.b[p.i] != '"'; p.i++ {
		p.i += countsRun(p.b[p.i:])
		if p.i == len(p.b) || p.b[p.i] == '"' {
			break
		}
		c := p.b[p.i]
		if c < 0x20 || c > 0x7e {
			return "", false
		}
		if c == '\\' {
			if p.i+1 == len(p.b) || p.b[p.i+1] != '\\' {
				return "", false
			}
			p.i++
			escapes++
		}
	}
	if p.i == len(p.b) {
		return "", false
	}
	raw := p.b[start:p.i]
	p.i++
	if escapes == 0 {
		return raw, true
	}
	out := make([]byte, 0, len(raw)-escapes)
	for j := 0; j < len(raw); j++ {
		out = append(out, raw[j])
		if raw[j] == '\\' {
			j++
		}
	}
	return string(out), true
}

// floats reads an array of at most 4 numbers.
func (p *rowParser) floats(out *[4]float64) (int, bool) {
	if !p.byte('[') {
		return 0, false
	}
	if p.byte(']') {
		return 0, true
	}
	for n := 0; n < len(out); n++ {
		v, ok := p.float()
		if !ok {
			return 0, false
		}
		out[n] = v
		if p.byte(']') {
			return n + 1, true
		}
		if !p.byte(',') {
			return 0, false
		}
	}
	return 0, false
}
