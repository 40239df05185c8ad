package selsearch

import (
	"image"
	"image/color"
	"math"
)

// planes is an image of c channels of 8 bits in planar layout:
// pix[ch*w*h + y*w + x].
type planes struct {
	w, h, c int
	pix     []uint8
}

func (p *planes) channel(ch int) []uint8 { return p.pix[ch*p.w*p.h : (ch+1)*p.w*p.h] }

// colourSpace names a conversion of the RGB image.
type colourSpace int

const (
	spaceHSV       colourSpace = iota // H in [0,180), S and V in [0,255], as OpenCV's 8-bit HSV
	spaceLab                          // L*255/100, a+128, b+128, as OpenCV's 8-bit Lab (D65)
	spaceIntensity                    // grey 0.299R + 0.587G + 0.114B
	spaceHue                          // the H channel of HSV alone
	spaceRGI                          // normalised r, g (x255) and intensity, the paper's rgI
)

// toRGB copies img into 3 planes of R, G and B.
func toRGB(img image.Image) *planes {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	p := &planes{w: w, h: h, c: 3, pix: make([]uint8, 3*w*h)}
	r, g, bl := p.channel(0), p.channel(1), p.channel(2)
	switch m := img.(type) {
	case *image.YCbCr:
		for y := range h {
			for x := range w {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				i := y*w + x
				r[i], g[i], bl[i] = color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
			}
		}
	case *image.RGBA:
		for y := range h {
			row := m.Pix[(y)*m.Stride:]
			for x := range w {
				i := y*w + x
				r[i], g[i], bl[i] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
	case *image.Gray:
		for y := range h {
			for x := range w {
				i := y*w + x
				v := m.Pix[y*m.Stride+x]
				r[i], g[i], bl[i] = v, v, v
			}
		}
	default:
		for y := range h {
			for x := range w {
				cr, cg, cb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				i := y*w + x
				r[i], g[i], bl[i] = uint8(cr>>8), uint8(cg>>8), uint8(cb>>8)
			}
		}
	}
	return p
}

// convert returns the RGB image in colour space s.
func convert(rgb *planes, s colourSpace) *planes {
	n := rgb.w * rgb.h
	r, g, b := rgb.channel(0), rgb.channel(1), rgb.channel(2)
	switch s {
	case spaceHSV, spaceHue:
		c := 3
		if s == spaceHue {
			c = 1
		}
		out := &planes{w: rgb.w, h: rgb.h, c: c, pix: make([]uint8, c*n)}
		for i := range n {
			hh, ss, vv := hsv(r[i], g[i], b[i])
			out.pix[i] = hh
			if c == 3 {
				out.pix[n+i], out.pix[2*n+i] = ss, vv
			}
		}
		return out
	case spaceLab:
		out := &planes{w: rgb.w, h: rgb.h, c: 3, pix: make([]uint8, 3*n)}
		lin := srgbToLinear()
		for i := range n {
			out.pix[i], out.pix[n+i], out.pix[2*n+i] = lab(lin, r[i], g[i], b[i])
		}
		return out
	case spaceIntensity:
		out := &planes{w: rgb.w, h: rgb.h, c: 1, pix: make([]uint8, n)}
		for i := range n {
			out.pix[i] = intensity(r[i], g[i], b[i])
		}
		return out
	default: // spaceRGI
		out := &planes{w: rgb.w, h: rgb.h, c: 3, pix: make([]uint8, 3*n)}
		for i := range n {
			sum := int(r[i]) + int(g[i]) + int(b[i])
			if sum > 0 {
				out.pix[i] = uint8((255*int(r[i]) + sum/2) / sum)
				out.pix[n+i] = uint8((255*int(g[i]) + sum/2) / sum)
			}
			out.pix[2*n+i] = intensity(r[i], g[i], b[i])
		}
		return out
	}
}

func intensity(r, g, b uint8) uint8 {
	return uint8((299*int(r) + 587*int(g) + 114*int(b) + 500) / 1000)
}

// hsv converts to OpenCV's 8-bit HSV: H = degrees/2 in [0,180).
func hsv(r, g, b uint8) (h, s, v uint8) {
	mx := max(r, g, b)
	mn := min(r, g, b)
	v = mx
	if mx == 0 {
		return 0, 0, v
	}
	d := float64(mx) - float64(mn)
	s = uint8(math.Round(255 * d / float64(mx)))
	if d == 0 {
		return 0, s, v
	}
	var deg float64
	switch mx {
	case r:
		deg = 60 * (float64(g) - float64(b)) / d
	case g:
		deg = 120 + 60*(float64(b)-float64(r))/d
	default:
		deg = 240 + 60*(float64(r)-float64(g))/d
	}
	if deg < 0 {
		deg += 360
	}
	hv := math.Round(deg / 2)
	if hv >= 180 {
		hv -= 180
	}
	return uint8(hv), s, v
}

// srgbToLinear tabulates the sRGB transfer function for 8-bit values.
func srgbToLinear() *[256]float64 {
	var t [256]float64
	for i := range t {
		c := float64(i) / 255
		if c <= 0.04045 {
			t[i] = c / 12.92
		} else {
			t[i] = math.Pow((c+0.055)/1.055, 2.4)
		}
	}
	return &t
}

// lab converts to CIE L*a*b* (D65 white) scaled to 8 bits as OpenCV does.
func lab(lin *[256]float64, r, g, b uint8) (l, a, bb uint8) {
	R, G, B := lin[r], lin[g], lin[b]
	x := (0.412453*R + 0.357580*G + 0.180423*B) / 0.950456
	y := 0.212671*R + 0.715160*G + 0.072169*B
	z := (0.019334*R + 0.119193*G + 0.950227*B) / 1.088754
	fx, fy, fz := labF(x), labF(y), labF(z)
	L := 116*fy - 16
	if y <= 0.008856 {
		L = 903.3 * y
	}
	return clamp8(L * 255 / 100), clamp8(500*(fx-fy) + 128), clamp8(200*(fy-fz) + 128)
}

func labF(t float64) float64 {
	if t > 0.008856 {
		return math.Cbrt(t)
	}
	return 7.787*t + 16.0/116
}

func clamp8(v float64) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(math.Round(v))
}
