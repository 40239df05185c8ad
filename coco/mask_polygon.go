package coco

import (
	"math"
	"slices"
)

// polyScale is rleFrPoly's upsampling: the outline is walked on a grid 5
// times finer than the pixels, then sampled back at pixel centres.
const polyScale = 5

// maxPolygonCoord bounds polygon coordinates so that scale*v+.5 fits the
// C int that pycocotools converts it to.
const maxPolygonCoord = 1e8

// maxPolygonSteps bounds the upsampled outline a file may ask for (its
// points are held in memory): 4M steps is a perimeter of 800,000 pixels.
const maxPolygonSteps = 1 << 22

// polygonSteps is the number of points rleFrPoly's edge walk visits.
func polygonSteps(xy []float64) int {
	n, k := 0, len(xy)/2
	for j := 0; j < k; j++ {
		i := (j + 1) % k
		dx := math.Abs(math.Round(polyScale*xy[2*j]) - math.Round(polyScale*xy[2*i]))
		dy := math.Abs(math.Round(polyScale*xy[2*j+1]) - math.Round(polyScale*xy[2*i+1]))
		n += int(max(dx, dy)) + 1
	}
	return n
}

// PolygonToRLE is maskApi's rleFrPoly: the h x w mask of one closed
// polygon xy = [x0, y0, x1, y1, ...] in pixel coordinates, rasterised
// exactly as pycocotools does it (so areas and IoUs agree bit for bit). A
// trailing odd coordinate is ignored, as there.
func PolygonToRLE(xy []float64, h, w int) RLE {
	var s polyScratch
	return s.rasterise(xy, h, w)
}

// polyScratch holds rleFrPoly's working arrays so that rasterising many
// polygons reuses them; only the returned counts are allocated.
type polyScratch struct {
	x, y, u, v []int
	a          []uint32
}

func (s *polyScratch) rasterise(xy []float64, h, w int) RLE {
	k := len(xy) / 2
	// Vertices on the upsampled grid; C truncates toward zero after +.5.
	s.x, s.y = s.x[:0], s.y[:0]
	for j := 0; j < k; j++ {
		s.x = append(s.x, int(polyScale*xy[2*j]+.5))
		s.y = append(s.y, int(polyScale*xy[2*j+1]+.5))
	}
	if k > 0 {
		s.x, s.y = append(s.x, s.x[0]), append(s.y, s.y[0])
	}
	s.polygonEdges(k)
	s.polygonBoundary(h, w)
	return s.boundaryToRLE(h, w)
}

// polygonEdges walks each edge on the upsampled grid one step at a time
// along its longer axis, always from the lower end so that both directions
// round alike (rleFrPoly's flip), into s.u, s.v.
func (s *polyScratch) polygonEdges(k int) {
	x, y := s.x, s.y
	u, v := s.u[:0], s.v[:0]
	for j := 0; j < k; j++ {
		xs, xe, ys, ye := x[j], x[j+1], y[j], y[j+1]
		dx, dy := abs(xe-xs), abs(ys-ye)
		flip := (dx >= dy && xs > xe) || (dx < dy && ys > ye)
		if flip {
			xs, xe, ys, ye = xe, xs, ye, ys
		}
		if dx >= dy {
			sl := float64(ye-ys) / float64(dx)
			for d := 0; d <= dx; d++ {
				t := d
				if flip {
					t = dx - d
				}
				u, v = append(u, t+xs), append(v, int(float64(ys)+sl*float64(t)+.5))
			}
			continue
		}
		sl := float64(xe-xs) / float64(dy)
		for d := 0; d <= dy; d++ {
			t := d
			if flip {
				t = dy - d
			}
			v, u = append(v, t+ys), append(u, int(float64(xs)+sl*float64(t)+.5))
		}
	}
	s.u, s.v = u, v
}

// polygonBoundary keeps the points where the walk crosses a pixel column
// centre and records, per crossing, its column-major position x*h + y with
// y the first row below the outline there (clamped to [0, h]), into s.a.
func (s *polyScratch) polygonBoundary(h, w int) {
	// rleFrPoly compares with w-1 as an unsigned long: no upper bound when w is 0.
	xMax := float64(w - 1)
	if w == 0 {
		xMax = math.MaxUint64
	}
	u, v := s.u, s.v
	a := s.a[:0]
	for j := 1; j < len(u); j++ {
		if u[j] == u[j-1] {
			continue
		}
		xd := float64(u[j])
		if u[j] >= u[j-1] {
			xd = float64(u[j] - 1)
		}
		xd = (xd+.5)/polyScale - .5
		if math.Floor(xd) != xd || xd < 0 || xd > xMax {
			continue
		}
		yd := (float64(min(v[j], v[j-1]))+.5)/polyScale - .5
		if yd < 0 {
			yd = 0
		} else if yd > float64(h) {
			yd = float64(h)
		}
		a = append(a, uint32(int32(int(xd)*h+int(math.Ceil(yd))))) // C: int product, cast to uint
	}
	s.a = a
}

// boundaryToRLE sorts the positions where the mask toggles and differences
// them into counts; zero-length runs are folded into their neighbours as
// rleFrPoly does.
func (s *polyScratch) boundaryToRLE(h, w int) RLE {
	a := append(s.a, uint32(h*w))
	s.a = a
	slices.Sort(a)
	p := uint32(0)
	for j, t := range a {
		a[j] -= p
		p = t
	}
	b := make([]uint32, 0, len(a))
	b = append(b, a[0])
	for j := 1; j < len(a); {
		if a[j] > 0 {
			b = append(b, a[j])
			j++
			continue
		}
		j++
		if j < len(a) {
			b[len(b)-1] += a[j]
			j++
		}
	}
	return RLE{H: h, W: w, Counts: slices.Clip(b)}
}

// BoxToRLE is maskApi's rleFrBbox: the box [x, y, w, h] rasterised as the
// polygon of its corners.
func BoxToRLE(b Box, h, w int) RLE {
	xs, ys := b[0], b[1]
	xe, ye := xs+b[2], ys+b[3]
	return PolygonToRLE([]float64{xs, ys, xs, ye, xe, ye, xe, ys}, h, w)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
