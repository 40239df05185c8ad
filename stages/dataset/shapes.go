package dataset

import "math"

// A shape is one object's outline in image coordinates, where pixel (i, j)
// covers [i, i+1) x [j, j+1).
type shape interface {
	// inside reports whether the point (x, y) lies in the shape.
	inside(x, y float64) bool
	// bounds is the axis-aligned extent of the whole shape.
	bounds() (x0, y0, x1, y1 float64)
	// polygons is the outline as COCO polygons ([x1, y1, x2, y2, ...]).
	polygons() [][]float64
}

// shapeParams are the random choices that fix one object's geometry.
type shapeParams struct {
	kind   shapeKind
	cx, cy float64 // centre
	r      float64 // circumradius (for round shapes: the larger semi-axis)
	theta  float64 // rotation in radians
	aspect float64 // ellipse minor/major axis ratio
}

// Proportions that keep the categories apart at a glance.
const (
	ringHole       = 0.55 // inner radius / outer radius of a ring
	starInner      = 0.45 // inner vertex radius / outer radius of a star
	crossArm       = 0.32 // half-width of a cross arm / arm length
	diamondWidth   = 0.62 // half-width / half-height of a diamond
	crescentOffset = 0.45 // centre offset of the circle cut from a crescent
	crescentCut    = 0.8  // radius of that circle
	roundSegments  = 48   // vertices of a circle's or ellipse's polygon
	polygonDecimal = 100  // polygon coordinates are rounded to 1/100 px
)

// newShape builds the shape that p describes.
func newShape(p shapeParams) shape {
	switch p.kind {
	case circle:
		return &roundShape{cx: p.cx, cy: p.cy, rx: p.r, ry: p.r}
	case ellipse:
		return &roundShape{cx: p.cx, cy: p.cy, rx: p.r, ry: p.r * p.aspect, theta: p.theta}
	case ring:
		return &roundShape{cx: p.cx, cy: p.cy, rx: p.r, ry: p.r, hole: ringHole}
	default:
		return newPolyShape(unitPolygon(p.kind), p)
	}
}

// unitPolygon is the outline of a polygonal category with circumradius 1,
// centred on the origin, upright.
func unitPolygon(k shapeKind) [][2]float64 {
	switch k {
	case square:
		return regularPolygon(4, math.Pi/4)
	case triangle:
		return regularPolygon(3, -math.Pi/2)
	case crescent:
		return crescentPolygon()
	case star:
		pts := make([][2]float64, 10)
		for i := range pts {
			r := 1.0
			if i%2 == 1 {
				r = starInner
			}
			a := -math.Pi/2 + float64(i)*math.Pi/5
			pts[i] = [2]float64{r * math.Cos(a), r * math.Sin(a)}
		}
		return pts
	case cross:
		w := crossArm
		return [][2]float64{
			{-w, -1}, {w, -1}, {w, -w}, {1, -w}, {1, w}, {w, w},
			{w, 1}, {-w, 1}, {-w, w}, {-1, w}, {-1, -w}, {-w, -w},
		}
	case diamond:
		return [][2]float64{{0, -1}, {diamondWidth, 0}, {0, 1}, {-diamondWidth, 0}}
	}
	panic("dataset: no polygon for shape " + k.String())
}

// crescentPolygon is the unit disk minus a disk of radius crescentCut
// centred at (crescentOffset, 0): the unit circle's arc from the upper
// intersection point round the left to the lower one, then the cut circle's
// arc back, also round the left.
func crescentPolygon() [][2]float64 {
	d, r := crescentOffset, crescentCut
	ix := (d*d + 1 - r*r) / (2 * d) // intersection points are (ix, +-iy)
	iy := math.Sqrt(1 - ix*ix)
	outer := math.Atan2(iy, ix)   // outer arc runs from outer to 2pi-outer
	inner := math.Atan2(iy, ix-d) // cut arc runs from 2pi-inner down to inner, through pi
	const n = roundSegments
	pts := make([][2]float64, 0, 2*n+2)
	for i := 0; i <= n; i++ {
		a := outer + (2*math.Pi-2*outer)*float64(i)/n
		pts = append(pts, [2]float64{math.Cos(a), math.Sin(a)})
	}
	for i := 1; i < n; i++ {
		a := 2*math.Pi - inner - (2*math.Pi-2*inner)*float64(i)/n
		pts = append(pts, [2]float64{d + r*math.Cos(a), r * math.Sin(a)})
	}
	return pts
}

func regularPolygon(n int, phase float64) [][2]float64 {
	pts := make([][2]float64, n)
	for i := range pts {
		a := phase + 2*math.Pi*float64(i)/float64(n)
		pts[i] = [2]float64{math.Cos(a), math.Sin(a)}
	}
	return pts
}

// shapeAreaFactor is a shape's area divided by r*r (r its circumradius), so
// that a target pixel area can be turned into a radius.
func shapeAreaFactor(k shapeKind, aspect float64) float64 {
	switch k {
	case circle:
		return math.Pi
	case ellipse:
		return math.Pi * aspect
	case ring:
		return math.Pi * (1 - ringHole*ringHole)
	default:
		return math.Abs(shoelace(unitPolygon(k)))
	}
}

// shoelace is the signed area of a polygon.
func shoelace(pts [][2]float64) float64 {
	var a float64
	for i := range pts {
		j := (i + 1) % len(pts)
		a += pts[i][0]*pts[j][1] - pts[j][0]*pts[i][1]
	}
	return a / 2
}

// polyShape is a simple polygon (convex or not) in image coordinates.
type polyShape struct {
	xs, ys         []float64
	x0, y0, x1, y1 float64
}

func newPolyShape(unit [][2]float64, p shapeParams) *polyShape {
	s := &polyShape{x0: math.Inf(1), y0: math.Inf(1), x1: math.Inf(-1), y1: math.Inf(-1)}
	c, sn := math.Cos(p.theta), math.Sin(p.theta)
	for _, v := range unit {
		x := p.cx + p.r*(v[0]*c-v[1]*sn)
		y := p.cy + p.r*(v[0]*sn+v[1]*c)
		s.xs = append(s.xs, x)
		s.ys = append(s.ys, y)
		s.x0, s.x1 = min(s.x0, x), max(s.x1, x)
		s.y0, s.y1 = min(s.y0, y), max(s.y1, y)
	}
	return s
}

// inside is the even-odd crossing test.
func (s *polyShape) inside(x, y float64) bool {
	in := false
	n := len(s.xs)
	for i, j := 0, n-1; i < n; j, i = i, i+1 {
		yi, yj := s.ys[i], s.ys[j]
		if (yi > y) != (yj > y) {
			xc := s.xs[i] + (y-yi)*(s.xs[j]-s.xs[i])/(yj-yi)
			if x < xc {
				in = !in
			}
		}
	}
	return in
}

func (s *polyShape) bounds() (x0, y0, x1, y1 float64) { return s.x0, s.y0, s.x1, s.y1 }

func (s *polyShape) polygons() [][]float64 {
	poly := make([]float64, 0, 2*len(s.xs))
	for i := range s.xs {
		poly = append(poly, roundCoord(s.xs[i]), roundCoord(s.ys[i]))
	}
	return [][]float64{poly}
}

// roundShape is an ellipse (a circle when rx == ry), optionally with a
// concentric hole of relative radius hole (a ring).
type roundShape struct {
	cx, cy, rx, ry, theta, hole float64
}

func (s *roundShape) local(x, y float64) (u, v float64) {
	dx, dy := x-s.cx, y-s.cy
	c, sn := math.Cos(s.theta), math.Sin(s.theta)
	return dx*c + dy*sn, -dx*sn + dy*c
}

func (s *roundShape) inside(x, y float64) bool {
	u, v := s.local(x, y)
	d := (u/s.rx)*(u/s.rx) + (v/s.ry)*(v/s.ry)
	return d <= 1 && d >= s.hole*s.hole
}

func (s *roundShape) bounds() (x0, y0, x1, y1 float64) {
	c, sn := math.Cos(s.theta), math.Sin(s.theta)
	hw := math.Hypot(s.rx*c, s.ry*sn)
	hh := math.Hypot(s.rx*sn, s.ry*c)
	return s.cx - hw, s.cy - hh, s.cx + hw, s.cy + hh
}

// point is the boundary point at angle a, scaled by f (1: outer edge).
func (s *roundShape) point(a, f float64) (x, y float64) {
	u, v := f*s.rx*math.Cos(a), f*s.ry*math.Sin(a)
	c, sn := math.Cos(s.theta), math.Sin(s.theta)
	return s.cx + u*c - v*sn, s.cy + u*sn + v*c
}

// polygons outlines the ellipse; a ring becomes one "keyhole" polygon (outer
// circle, a zero-width cut, inner circle backwards) because COCO polygons
// cannot have holes.
func (s *roundShape) polygons() [][]float64 {
	var poly []float64
	add := func(x, y float64) { poly = append(poly, roundCoord(x), roundCoord(y)) }
	if s.hole == 0 {
		for i := range roundSegments {
			add(s.point(2*math.Pi*float64(i)/roundSegments, 1))
		}
		return [][]float64{poly}
	}
	for i := 0; i <= roundSegments; i++ {
		add(s.point(2*math.Pi*float64(i)/roundSegments, 1))
	}
	for i := roundSegments; i >= 0; i-- {
		add(s.point(2*math.Pi*float64(i)/roundSegments, s.hole))
	}
	return [][]float64{poly}
}

func roundCoord(v float64) float64 { return math.Round(v*polygonDecimal) / polygonDecimal }
