package dataset

import (
	"math"
	"math/rand/v2"
)

// rgb is a colour with channels in [0, 255].
type rgb [3]float32

// fillKind is how an object's interior is painted.
type fillKind int

const (
	solidFill fillKind = iota
	stripeFill
	dotFill
	gradientFill
	checkerFill
	numFills
)

// fill paints an object. Textures vary appearance within a category so a
// detector must learn shape, not colour.
type fill struct {
	kind       fillKind
	c1, c2     rgb
	period     float64 // stripe, dot and checker spacing in pixels
	cosA, sinA float64 // stripe and gradient direction
	t0, span   float64 // gradient start and length along the direction
}

// hsv converts hue, saturation and value in [0, 1] to a colour.
func hsv(h, s, v float64) rgb {
	h = math.Mod(h, 1) * 6
	i := math.Floor(h)
	f := h - i
	p, q, t := v*(1-s), v*(1-s*f), v*(1-s*(1-f))
	var r, g, b float64
	switch int(i) {
	case 0:
		r, g, b = v, t, p
	case 1:
		r, g, b = q, v, p
	case 2:
		r, g, b = p, v, t
	case 3:
		r, g, b = p, q, v
	case 4:
		r, g, b = t, p, v
	default:
		r, g, b = v, p, q
	}
	return rgb{float32(255 * r), float32(255 * g), float32(255 * b)}
}

// objectColor is saturated and bright enough to stand out from the muted
// background.
func objectColor(rng *rand.Rand) rgb {
	return hsv(rng.Float64(), 0.55+0.45*rng.Float64(), 0.55+0.45*rng.Float64())
}

// newFill picks a texture for an object spanning [x0, x1] x [y0, y1]. Small
// objects are mostly solid: a texture finer than the object hides its shape.
func newFill(rng *rand.Rand, x0, y0, x1, y1 float64, small bool) fill {
	f := fill{kind: fillKind(rng.IntN(int(numFills))), c1: objectColor(rng)}
	if small && rng.Float64() < 0.7 {
		f.kind = solidFill
	}
	// The second colour differs in hue or brightness, never both subtly.
	h := rng.Float64()
	if rng.IntN(2) == 0 {
		f.c2 = hsv(h, 0.5+0.5*rng.Float64(), 0.5+0.5*rng.Float64())
	} else {
		f.c2 = rgb{f.c1[0] * 0.45, f.c1[1] * 0.45, f.c1[2] * 0.45}
	}
	a := rng.Float64() * math.Pi
	f.cosA, f.sinA = math.Cos(a), math.Sin(a)
	f.period = 4 + rng.Float64()*6
	// Project the box corners on the direction to span the gradient.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range [][2]float64{{x0, y0}, {x1, y0}, {x0, y1}, {x1, y1}} {
		t := c[0]*f.cosA + c[1]*f.sinA
		lo, hi = min(lo, t), max(hi, t)
	}
	f.t0, f.span = lo, max(hi-lo, 1)
	return f
}

// color is the fill's colour at pixel centre (x, y).
func (f *fill) color(x, y float64) rgb {
	switch f.kind {
	case stripeFill:
		t := (x*f.cosA + y*f.sinA) / f.period
		if t-math.Floor(t) < 0.5 {
			return f.c1
		}
		return f.c2
	case dotFill:
		u, v := x/f.period, y/f.period
		du, dv := u-math.Floor(u)-0.5, v-math.Floor(v)-0.5
		if du*du+dv*dv < 0.09 {
			return f.c2
		}
		return f.c1
	case gradientFill:
		t := float32(min(max((x*f.cosA+y*f.sinA-f.t0)/f.span, 0), 1))
		return rgb{
			f.c1[0] + t*(f.c2[0]-f.c1[0]),
			f.c1[1] + t*(f.c2[1]-f.c1[1]),
			f.c1[2] + t*(f.c2[2]-f.c1[2]),
		}
	case checkerFill:
		if (int(math.Floor(x/f.period))+int(math.Floor(y/f.period)))%2 == 0 {
			return f.c1
		}
		return f.c2
	default:
		return f.c1
	}
}
