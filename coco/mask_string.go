package coco

import "fmt"

// String is maskApi's rleToString, the "counts" of a compressed RLE in
// COCO JSON: each count from the third on is stored as the difference from
// the count two before (same-valued runs are similar), then written
// LEB128-like, 5 bits per character with bit 5 as "more", sign-extended
// from bit 4 of the last character, each character offset by 48 ('0').
func (r RLE) String() string {
	return string(AppendRLEString(nil, r.Counts))
}

// AppendRLEString appends the compressed string of counts to b.
func AppendRLEString(b []byte, counts []uint32) []byte {
	for i, c := range counts {
		x := int64(c)
		if i > 2 {
			x -= int64(counts[i-2])
		}
		for more := true; more; {
			ch := byte(x & 0x1f)
			x >>= 5 // arithmetic: negative differences end in -1
			if ch&0x10 != 0 {
				more = x != -1
			} else {
				more = x != 0
			}
			if more {
				ch |= 0x20
			}
			b = append(b, ch+48)
		}
	}
	return b
}

// ParseRLEString is maskApi's rleFrString for an h x w mask, stricter
// where pycocotools reads out of bounds or wraps silently: a character
// outside '0'..'o', a string ending inside a count, a count below 0 or
// above 2^32-1, or more than 7 characters for one count is an error (a
// valid string needs at most 7). It does not check the counts' sum
// (RLE.Validate does).
func ParseRLEString(s string, h, w int) (RLE, error) {
	counts, err := appendRLECounts(nil, s)
	if err != nil {
		return RLE{}, err
	}
	return RLE{H: h, W: w, Counts: counts}, nil
}

// appendRLECounts decodes a compressed counts string onto dst, so callers
// can reuse one buffer.
func appendRLECounts(dst []uint32, s string) ([]uint32, error) {
	dst, _, _, err := readRLECounts(dst, s, true)
	return dst, err
}

// scanRLECounts checks a compressed counts string without storing it:
// the sum of its counts, and its area (the sum of the odd-indexed ones).
func scanRLECounts(s string) (sum, area uint64, err error) {
	_, sum, area, err = readRLECounts(nil, s, false)
	return sum, area, err
}

// readRLECounts is the one loop behind appendRLECounts and scanRLECounts
// (keep says whether to append the counts to dst): decodeCount with its
// common case inlined, a count of one character, as results files hold
// hundreds of millions of counts. Errors are left to decodeCount, to word
// them once.
func readRLECounts(dst []uint32, s string, keep bool) (_ []uint32, sum, area uint64, err error) {
	var c1, c2 int64 // the counts one and two before
	for p, m := 0, 0; p < len(s); m++ {
		start, x := p, int64(0)
		if c := s[p] - 48; c < 0x20 { // no "more" bit
			x, p = int64(c)-int64(c&0x10)<<1, p+1 // sign-extend the 5 bits
		} else if x, p = scanLongCount(s, p); p < 0 {
			_, _, err := decodeCount(s, start, m, uint32(c2))
			return dst, 0, 0, err
		}
		if m > 2 {
			x += c2
		}
		if x < 0 || x > 1<<32-1 {
			_, _, err := decodeCount(s, start, m, uint32(c2))
			return dst, 0, 0, err
		}
		if keep {
			dst = append(dst, uint32(x))
		}
		sum += uint64(x)
		area += uint64(x) & -uint64(m&1)
		c1, c2 = x, c1
	}
	return dst, sum, area, nil
}

// scanLongCount reads a count of several characters from p; it returns
// p = -1 on any error, for decodeCount to word.
func scanLongCount(s string, p int) (x int64, next int) {
	for k := 0; ; {
		if p == len(s) || k == 7 || s[p] < 48 || s[p] > 48+63 {
			return 0, -1
		}
		c := int64(s[p] - 48)
		x |= (c & 0x1f) << (5 * k)
		p, k = p+1, k+1
		if c&0x20 == 0 {
			if c&0x10 != 0 {
				x |= -1 << (5 * k)
			}
			return x, p
		}
	}
}

// decodeCount reads count m starting at character p; from the fourth
// count on the value read is a difference from twoBefore.
func decodeCount(s string, p, m int, twoBefore uint32) (uint32, int, error) {
	x, k := int64(0), 0
	for more := true; more; k++ {
		if p == len(s) {
			return 0, p, fmt.Errorf("counts string ends inside count %d", m)
		}
		if k == 7 {
			return 0, p, fmt.Errorf("count %d at character %d: more than 7 characters", m, p)
		}
		ch := s[p]
		if ch < 48 || ch > 48+63 {
			return 0, p, fmt.Errorf("character %d: %q is not in '0'..'o'", p, ch)
		}
		c := int64(ch - 48)
		x |= (c & 0x1f) << (5 * k)
		more = c&0x20 != 0
		p++
		if !more && c&0x10 != 0 {
			x |= -1 << (5 * (k + 1)) // sign-extend
		}
	}
	if m > 2 {
		x += int64(twoBefore)
	}
	if x < 0 || x > 1<<32-1 {
		return 0, p, fmt.Errorf("count %d is %d, outside [0, 2^32)", m, x)
	}
	return uint32(x), p, nil
}
