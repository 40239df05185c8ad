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
	k := len(xy) / 2
	// Vertices on the upsampled grid; C truncates toward zero after +.5.
	x := make([]int, k+1)
	y := make([]int, k+1)
	for j := 0; j < k; j++ {
		x[j] = int(polyScale*xy[2*j] + .5)
		y[j] = int(polyScale*xy[2*j+1] + .5)
	}
	if k > 0 {
		x[k], y[k] = x[0], y[0]
	}
	u, v := polygonEdges(x, y, k)
	bx, by := polygonBoundary(u, v, h, w)
	return boundaryToRLE(bx, by, h, w)
}

// polygonEdges walks each edge on the upsampled grid one step at a time
// along its longer axis, always from the lower end so that both directions
// round alike (rleFrPoly's flip).
func polygonEdges(x, y []int, k int) (u, v []int) {
	n := 0
	for j := 0; j < k; j++ {
		n += max(abs(x[j]-x[j+1]), abs(y[j]-y[j+1])) + 1
	}
	u, v = make([]int, 0, n), make([]int, 0, n)
	for j := 0; j < k; j++ {
		xs, xe, ys, ye := x[j], x[j+1], y[j], y[j+1]
		dx, dy := abs(xe-xs), abs(ys-ye)
		flip := (dx >= dy && xs > xe) || (dx < dy && ys > ye)
		if flip {
			xs, xe, ys, ye = xe, xs, ye, ys
		}
		if dx >= dy {
			s := float64(ye-ys) / float64(dx)
			for d := 0; d <= dx; d++ {
				t := d
				if flip {
					t = dx - d
				}
				u, v = append(u, t+xs), append(v, int(float64(ys)+s*float64(t)+.5))
			}
			continue
		}
		s := float64(xe-xs) / float64(dy)
		for d := 0; d <= dy; d++ {
			t := d
			if flip {
				t = dy - d
			}
			v, u = append(v, t+ys), append(u, int(float64(xs)+s*float64(t)+.5))
		}
	}
	return u, v
}

// polygonBoundary keeps the points where the walk crosses a pixel column
// centre and returns, per crossing, the column and the first row below the
// outline there (clamped to [0, h]).
func polygonBoundary(u, v []int, h, w int) (bx, by []int) {
	// rleFrPoly compares with w-1 as an unsigned long: no upper bound when w is 0.
	xMax := float64(w - 1)
	if w == 0 {
		xMax = math.MaxUint64
	}
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
		bx, by = append(bx, int(xd)), append(by, int(math.Ceil(yd)))
	}
	return bx, by
}

// boundaryToRLE turns the crossings into column-major positions where the
// mask toggles, sorts them, and differences them into counts; zero-length
// runs are folded into their neighbours as rleFrPoly does.
func boundaryToRLE(bx, by []int, h, w int) RLE {
	a := make([]uint32, 0, len(bx)+1)
	for j := range bx {
		a = append(a, uint32(int32(bx[j]*h+by[j]))) // C: int product, cast to uint
	}
	a = append(a, uint32(h*w))
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
	return RLE{H: h, W: w, Counts: b}
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
