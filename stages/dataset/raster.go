package dataset

import (
	"image"
	"math"
)

// canvas is a floating-point RGB image, row-major, channels in [0, 255].
type canvas struct {
	w, h int
	pix  []float32
}

func newCanvas(w, h int) *canvas {
	return &canvas{w: w, h: h, pix: make([]float32, 3*w*h)}
}

// blend mixes col into pixel (x, y) with opacity a in [0, 1].
func (c *canvas) blend(x, y int, col rgb, a float32) {
	i := 3 * (y*c.w + x)
	for k := range 3 {
		c.pix[i+k] += a * (col[k] - c.pix[i+k])
	}
}

// rgba rounds and clamps the canvas into an 8-bit image.
func (c *canvas) rgba() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, c.w, c.h))
	for p := 0; p < c.w*c.h; p++ {
		for k := range 3 {
			img.Pix[4*p+k] = uint8(min(max(c.pix[3*p+k]+0.5, 0), 255))
		}
		img.Pix[4*p+3] = 255
	}
	return img
}

// mask is a shape's pixel coverage over its integer bounding box.
type mask struct {
	x0, y0, w, h int
	cov          []float32 // fraction of each pixel inside the shape
}

// owns reports whether the mask claims pixel (x, y): at least half of the
// pixel lies inside the shape. Annotations are built from owned pixels.
func (m *mask) owns(x, y int) bool {
	if x < m.x0 || y < m.y0 || x >= m.x0+m.w || y >= m.y0+m.h {
		return false
	}
	return m.cov[(y-m.y0)*m.w+(x-m.x0)] >= 0.5
}

// Anti-aliasing samples per pixel side on shape edges.
const edgeSamples = 4

// rasterize computes s's coverage of every pixel of a w x h image. A pixel
// whose centre and four corners agree is taken as fully in or out; only
// edge pixels pay for edgeSamples^2 point tests.
func rasterize(s shape, w, h int) *mask {
	bx0, by0, bx1, by1 := s.bounds()
	x0, y0 := max(int(math.Floor(bx0)), 0), max(int(math.Floor(by0)), 0)
	x1, y1 := min(int(math.Ceil(bx1)), w), min(int(math.Ceil(by1)), h)
	m := &mask{x0: x0, y0: y0, w: max(x1-x0, 0), h: max(y1-y0, 0)}
	m.cov = make([]float32, m.w*m.h)
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			m.cov[(y-y0)*m.w+(x-x0)] = pixelCoverage(s, float64(x), float64(y))
		}
	}
	return m
}

func pixelCoverage(s shape, x, y float64) float32 {
	c := s.inside(x+0.5, y+0.5)
	if c == s.inside(x, y) && c == s.inside(x+1, y) && c == s.inside(x, y+1) && c == s.inside(x+1, y+1) {
		if c {
			return 1
		}
		return 0
	}
	n := 0
	for i := range edgeSamples {
		for j := range edgeSamples {
			if s.inside(x+(float64(i)+0.5)/edgeSamples, y+(float64(j)+0.5)/edgeSamples) {
				n++
			}
		}
	}
	return float32(n) / (edgeSamples * edgeSamples)
}

// paint composites the fill through the mask's coverage.
func (c *canvas) paint(m *mask, f *fill) {
	for j := range m.h {
		for i := range m.w {
			a := m.cov[j*m.w+i]
			if a == 0 {
				continue
			}
			x, y := m.x0+i, m.y0+j
			c.blend(x, y, f.color(float64(x)+0.5, float64(y)+0.5), a)
		}
	}
}

// rleCounts encodes a binary image (true = object) as COCO's uncompressed
// RLE: column-major run lengths, starting with a run of zeros.
func rleCounts(on func(x, y int) bool, w, h int) []int {
	counts := []int{}
	cur, run := false, 0
	for x := range w {
		for y := range h {
			if on(x, y) != cur {
				counts = append(counts, run)
				cur, run = !cur, 0
			}
			run++
		}
	}
	return append(counts, run)
}
