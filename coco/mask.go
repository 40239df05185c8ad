package coco

import "fmt"

// RLE is a binary mask of H rows and W columns in pycocotools' run-length
// form: pixels in column-major order (x outer, y inner), Counts alternating
// runs of 0s and 1s starting with 0s (a mask starting with a 1 has a
// leading 0 count). A valid RLE's counts sum to H*W.
type RLE struct {
	H, W   int
	Counts []uint32
}

// maxMaskPixels bounds H*W: pycocotools' string decoder shifts 32-bit
// ints, which decodes every count correctly only while they stay within
// 2^29 (about 23,000 x 23,000 pixels).
const maxMaskPixels = 1 << 29

// EncodeMask is maskApi's rleEncode: m holds h*w bytes in column-major
// order (index x*h + y), non-zero for the object.
func EncodeMask(m []byte, h, w int) RLE {
	if len(m) != h*w {
		panic(fmt.Sprintf("coco: mask of %d bytes for %dx%d", len(m), h, w))
	}
	var counts []uint32
	var prev byte
	c := uint32(0)
	for _, v := range m {
		if v != 0 {
			v = 1
		}
		if v != prev {
			counts = append(counts, c)
			c, prev = 0, v
		}
		c++
	}
	return RLE{H: h, W: w, Counts: append(counts, c)}
}

// Decode is maskApi's rleDecode: h*w bytes, column-major, 1 inside.
func (r RLE) Decode() []byte {
	m := make([]byte, 0, r.H*r.W)
	v := byte(0)
	for _, c := range r.Counts {
		for range c {
			m = append(m, v)
		}
		v ^= 1
	}
	return m
}

// Area is maskApi's rleArea: the number of 1 pixels.
func (r RLE) Area() uint32 {
	a := uint32(0)
	for j := 1; j < len(r.Counts); j += 2 {
		a += r.Counts[j]
	}
	return a
}

// BBox is maskApi's rleToBbox: the tight box [x, y, w, h] of the 1 pixels
// in whole pixels, zeros when empty. As in pycocotools, a run that wraps
// into the next column widens the box to the full height.
func (r RLE) BBox() Box {
	m := len(r.Counts) / 2 * 2
	if m == 0 || r.H == 0 {
		return Box{}
	}
	h := uint32(r.H)
	xs, ys, xe, ye := uint32(r.W), h, uint32(0), uint32(0)
	var pos runPos
	xp := uint32(0)
	for j := 0; j < m; j++ {
		pos.advance(r.Counts[j], h)
		x, y := pos.x, pos.y
		if j%2 == 1 { // the run's last pixel, one before pos
			x, y = pos.back(h)
		}
		if j%2 == 0 {
			xp = x
		} else if xp < x {
			ys, ye = 0, h-1
		}
		xs, xe, ys, ye = min(xs, x), max(xe, x), min(ys, y), max(ye, y)
	}
	return Box{float64(xs), float64(ys), float64(xe - xs + 1), float64(ye - ys + 1)}
}

// runPos is rleToBbox's running pixel index cc (a C uint, wrapping as
// there) with its column x = cc/h and row y = cc%h, kept up to date by
// additions rather than a division per count: most runs stay within a
// column or cross into the next.
type runPos struct{ cc, x, y uint32 }

func (p *runPos) advance(c, h uint32) {
	p.cc += c
	switch {
	case p.cc < c: // wrapped: only the division gives C's values
		p.x, p.y = p.cc/h, p.cc%h
	case c < h-p.y:
		p.y += c
	case c-(h-p.y) < h:
		p.x, p.y = p.x+1, c-(h-p.y)
	default:
		p.x, p.y = p.cc/h, p.cc%h
	}
}

// back returns the column and row of cc-1.
func (p *runPos) back(h uint32) (x, y uint32) {
	switch {
	case p.y > 0:
		return p.x, p.y - 1
	case p.cc > 0:
		return p.x - 1, h - 1
	}
	t := p.cc - 1 // wraps, as in C
	return t / h, t % h
}

// Validate reports why r is not a mask pycocotools handles: negative or
// too large sizes, or counts that do not sum to H*W.
func (r RLE) Validate() error {
	if r.H < 0 || r.W < 0 || (r.W > 0 && r.H > maxMaskPixels/r.W) {
		return fmt.Errorf("size [%d, %d] not within 2^29 pixels", r.H, r.W)
	}
	sum := uint64(0)
	for _, c := range r.Counts {
		sum += uint64(c)
	}
	if sum != uint64(r.H*r.W) {
		return fmt.Errorf("counts sum to %d, want h*w = %d", sum, r.H*r.W)
	}
	return nil
}

// MergeRLEs is maskApi's rleMerge: the union (or, with intersect, the
// intersection) of masks of one size; masks of different sizes give an
// empty 0x0 RLE, as in pycocotools.
func MergeRLEs(rs []RLE, intersect bool) RLE {
	switch len(rs) {
	case 0:
		return RLE{}
	case 1:
		return RLE{H: rs[0].H, W: rs[0].W, Counts: append([]uint32(nil), rs[0].Counts...)}
	}
	h, w := rs[0].H, rs[0].W
	acc := append([]uint32(nil), rs[0].Counts...)
	for _, b := range rs[1:] {
		if b.H != h || b.W != w {
			return RLE{}
		}
		acc = mergeTwo(acc, b.Counts, intersect)
	}
	return RLE{H: h, W: w, Counts: acc}
}

// mergeTwo walks two run lists together, emitting a count whenever the
// merged value flips; like rleMerge it reads each list's first count, so
// empty lists are treated as one empty run.
func mergeTwo(a, b []uint32, intersect bool) []uint32 {
	out := make([]uint32, 0, len(a)+len(b))
	ca, cb := first(a), first(b)
	va, vb, v := false, false, false
	ia, ib := 1, 1
	cc := uint32(0)
	for ct := uint32(1); ct > 0; {
		c := min(ca, cb)
		cc += c
		ct = 0
		ca -= c
		if ca == 0 && ia < len(a) {
			ca, va, ia = a[ia], !va, ia+1
		}
		ct += ca
		cb -= c
		if cb == 0 && ib < len(b) {
			cb, vb, ib = b[ib], !vb, ib+1
		}
		ct += cb
		vp := v
		if intersect {
			v = va && vb
		} else {
			v = va || vb
		}
		if v != vp || ct == 0 {
			out = append(out, cc)
			cc = 0
		}
	}
	return out
}

func first(c []uint32) uint32 {
	if len(c) == 0 {
		return 0
	}
	return c[0]
}
