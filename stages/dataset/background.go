package dataset

import (
	"math"
	"math/rand/v2"
)

// Clutter that is not an object: a gradient, soft blobs without edges and
// thin lines. It makes "anything that is not background" a useless cue, so
// the detector has to learn the shapes.

// mutedColor is a low-saturation colour, so objects stand out by colour as
// well as by shape.
func mutedColor(rng *rand.Rand) rgb {
	return hsv(rng.Float64(), 0.3*rng.Float64(), 0.3+0.55*rng.Float64())
}

// paintBackground fills c with a gradient, 2 to 6 blobs and 3 to 12 lines.
func paintBackground(c *canvas, rng *rand.Rand, scale float64) {
	paintGradient(c, mutedColor(rng), mutedColor(rng), rng.Float64()*2*math.Pi)
	for range 2 + rng.IntN(5) {
		sigma := (10 + 30*rng.Float64()) * scale
		paintBlob(c, rng.Float64()*float64(c.w), rng.Float64()*float64(c.h), sigma,
			mutedColor(rng), float32(0.3+0.3*rng.Float64()))
	}
	for range 3 + rng.IntN(10) {
		col := hsv(rng.Float64(), 0.7*rng.Float64(), 0.2+0.7*rng.Float64())
		paintLine(c, rng.Float64()*float64(c.w), rng.Float64()*float64(c.h),
			rng.Float64()*float64(c.w), rng.Float64()*float64(c.h),
			(0.8+1.7*rng.Float64())*scale/2, col, float32(0.4+0.5*rng.Float64()))
	}
}

func paintGradient(c *canvas, a, b rgb, angle float64) {
	cs, sn := math.Cos(angle), math.Sin(angle)
	// Project the corners to normalise the ramp over the whole image.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range [][2]float64{{0, 0}, {float64(c.w), 0}, {0, float64(c.h)}, {float64(c.w), float64(c.h)}} {
		t := p[0]*cs + p[1]*sn
		lo, hi = min(lo, t), max(hi, t)
	}
	for y := range c.h {
		for x := range c.w {
			t := float32(((float64(x)+0.5)*cs + (float64(y)+0.5)*sn - lo) / (hi - lo))
			i := 3 * (y*c.w + x)
			for k := range 3 {
				c.pix[i+k] = a[k] + t*(b[k]-a[k])
			}
		}
	}
}

// paintBlob adds a Gaussian spot: no edge, so no box could fit it.
func paintBlob(c *canvas, cx, cy, sigma float64, col rgb, peak float32) {
	x0, x1 := max(int(cx-3*sigma), 0), min(int(cx+3*sigma)+1, c.w)
	y0, y1 := max(int(cy-3*sigma), 0), min(int(cy+3*sigma)+1, c.h)
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
			a := peak * float32(math.Exp(-(dx*dx+dy*dy)/(2*sigma*sigma)))
			c.blend(x, y, col, a)
		}
	}
}

// paintLine draws an anti-aliased segment of half-width hw.
func paintLine(c *canvas, ax, ay, bx, by, hw float64, col rgb, alpha float32) {
	x0, x1 := max(int(min(ax, bx)-hw-1), 0), min(int(max(ax, bx)+hw+2), c.w)
	y0, y1 := max(int(min(ay, by)-hw-1), 0), min(int(max(ay, by)+hw+2), c.h)
	dx, dy := bx-ax, by-ay
	l2 := max(dx*dx+dy*dy, 1e-9)
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			px, py := float64(x)+0.5, float64(y)+0.5
			t := min(max(((px-ax)*dx+(py-ay)*dy)/l2, 0), 1)
			d := math.Hypot(px-(ax+t*dx), py-(ay+t*dy))
			cov := min(max(hw+0.5-d, 0), 1)
			if cov > 0 {
				c.blend(x, y, col, alpha*float32(cov))
			}
		}
	}
}

// addNoise adds uniform sensor noise of +-amp to every channel.
func addNoise(c *canvas, rng *rand.Rand, amp float32) {
	for i := range c.pix {
		c.pix[i] += amp * (2*rng.Float32() - 1)
	}
}
