package pickle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
)

// maxDeclaredLen bounds any single length field. Real pickles stay far
// below it; a larger value is corruption, not data.
const maxDeclaredLen = 1 << 40

// readChunk is the most memory committed to a length field before the bytes
// behind it have actually arrived.
const readChunk = 1 << 20

func (d *decoder) readByte() (byte, error) {
	b, err := d.r.ReadByte()
	if err == nil {
		d.off++
	}
	return b, err
}

// readN reads exactly n bytes, growing the buffer as data arrives so that a
// hostile length cannot allocate more than the input holds.
func (d *decoder) readN(n uint64) ([]byte, error) {
	if n > maxDeclaredLen {
		return nil, fmt.Errorf("declared length %d too large", n)
	}
	if n <= readChunk {
		buf := make([]byte, n)
		got, err := io.ReadFull(d.r, buf)
		d.off += int64(got)
		if err != nil {
			return nil, truncated(err)
		}
		return buf, nil
	}
	var buf bytes.Buffer
	buf.Grow(readChunk)
	got, err := io.CopyN(&buf, d.r, int64(n))
	d.off += got
	if err != nil {
		return nil, truncated(err)
	}
	return buf.Bytes(), nil
}

func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("unexpected end of data")
	}
	return err
}

// readUint reads an n-byte little-endian unsigned integer (n <= 8).
func (d *decoder) readUint(n int) (uint64, error) {
	b, err := d.readN(uint64(n))
	if err != nil {
		return 0, err
	}
	var buf [8]byte
	copy(buf[:], b)
	return binary.LittleEndian.Uint64(buf[:]), nil
}

// readLine reads up to and excluding the next newline (protocol 0 text).
func (d *decoder) readLine() ([]byte, error) {
	line, err := d.r.ReadBytes('\n')
	d.off += int64(len(line))
	if err != nil {
		return nil, truncated(err)
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

func parseIndex(line []byte) (int64, error) {
	v, err := strconv.ParseInt(string(line), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad memo index %q", line)
	}
	return v, nil
}

// textNumber runs INT, LONG and FLOAT, the protocol 0 decimal forms.
func (d *decoder) textNumber(op byte) error {
	line, err := d.readLine()
	if err != nil {
		return err
	}
	s := string(line)
	switch op {
	case opFloat:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("bad FLOAT %q", s)
		}
		d.push(f)
		return nil
	case opInt:
		// Python 2.2 spelled booleans as INT 01 and 00.
		if s == "01" {
			d.push(true)
			return nil
		}
		if s == "00" {
			d.push(false)
			return nil
		}
	case opLong:
		if n := len(s); n > 0 && s[n-1] == 'L' {
			s = s[:n-1]
		}
	}
	v, err := parseInt(s)
	if err != nil {
		return fmt.Errorf("bad integer %q", s)
	}
	d.push(v)
	return nil
}

// parseInt parses a decimal integer as int64, or *big.Int when it does not
// fit.
func parseInt(s string) (any, error) {
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, nil
	}
	if len(s) > 10000 {
		return nil, fmt.Errorf("integer literal too long")
	}
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, fmt.Errorf("not an integer")
	}
	return b, nil
}

// argWidth is the byte width of an opcode's integer argument (a value or a
// length).
func argWidth(op byte) int {
	switch op {
	case opBinInt1, opShortBinString, opShortBinUnicode, opShortBinBytes:
		return 1
	case opBinInt2:
		return 2
	case opBinInt, opBinString, opBinUnicode, opBinBytes:
		return 4
	}
	return 8 // BINUNICODE8, BINBYTES8, BYTEARRAY8
}

// binInt runs BININT (signed 4 bytes), BININT1 and BININT2 (unsigned).
func (d *decoder) binInt(op byte) error {
	v, err := d.readUint(argWidth(op))
	if err != nil {
		return err
	}
	if op == opBinInt {
		d.push(int64(int32(uint32(v))))
	} else {
		d.push(int64(v))
	}
	return nil
}

// binLong runs LONG1 and LONG4: a little-endian two's complement integer.
func (d *decoder) binLong(op byte) error {
	n := 1
	if op == opLong4 {
		n = 4
	}
	size, err := d.readUint(n)
	if err != nil {
		return err
	}
	if size > 1<<20 {
		return fmt.Errorf("integer of %d bytes too large", size)
	}
	b, err := d.readN(size)
	if err != nil {
		return err
	}
	d.push(decodeLong(b))
	return nil
}

func decodeLong(b []byte) any {
	if len(b) == 0 {
		return int64(0)
	}
	if len(b) <= 8 {
		var buf [8]byte
		copy(buf[:], b)
		if b[len(b)-1]&0x80 != 0 {
			for i := len(b); i < 8; i++ {
				buf[i] = 0xff
			}
		}
		return int64(binary.LittleEndian.Uint64(buf[:]))
	}
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	v := new(big.Int).SetBytes(be)
	if b[len(b)-1]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	if v.IsInt64() {
		return v.Int64()
	}
	return v
}

// stringOp runs the string opcodes of every protocol.
func (d *decoder) stringOp(op byte) error {
	switch op {
	case opString:
		line, err := d.readLine()
		if err != nil {
			return err
		}
		s, err := unquoteString(line)
		if err != nil {
			return err
		}
		d.push(s)
		return nil
	case opUnicode:
		line, err := d.readLine()
		if err != nil {
			return err
		}
		s, err := rawUnicodeEscape(line)
		if err != nil {
			return err
		}
		d.push(s)
		return nil
	}
	n, err := d.readUint(argWidth(op))
	if err != nil {
		return err
	}
	if op == opBinString && int32(uint32(n)) < 0 {
		return fmt.Errorf("negative BINSTRING length")
	}
	b, err := d.readN(n)
	if err != nil {
		return err
	}
	// Python 2 str (BINSTRING, SHORT_BINSTRING) is kept as its raw bytes,
	// as Python 3 does with encoding="latin1" or "bytes".
	d.push(string(b))
	return nil
}

// bytesOp runs the bytes and bytearray opcodes.
func (d *decoder) bytesOp(op byte) error {
	n, err := d.readUint(argWidth(op))
	if err != nil {
		return err
	}
	b, err := d.readN(n)
	if err != nil {
		return err
	}
	d.push(b)
	return nil
}
