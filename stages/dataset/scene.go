package dataset

import (
	"image"
	"math"
	"math/rand/v2"
	"sort"
)

// Scene layout rules (see doc.go for how they turn into annotations).
const (
	minObjects = 3
	maxObjects = 8
	// minVisible is the fraction of an object's pixels that must stay
	// visible under later objects; placements that would hide more are
	// retried elsewhere.
	minVisible = 0.6
	// placeTries bounds the attempts to place one object; after half of
	// them the object shrinks on each try.
	placeTries = 30
	// Object sizes: sqrt(area) is log-uniform in [minSide, maxSide] pixels
	// at 240 px image height, which covers COCO small (< 32), medium and
	// large (> 96).
	minSide = 12.0
	maxSide = 150.0
	// Crowds: every crowdEvery-th image (index 0, crowdEvery, ...) gets one
	// tight cluster of crowdMin..crowdMax tiny same-category objects.
	crowdEvery     = 8
	crowdMin       = 6
	crowdMax       = 14
	crowdMemberMin = 5.0 // sqrt(area) of a crowd member, pixels
	crowdMemberMax = 9.0
	noiseAmplitude = 8
)

// part is one painted shape: a whole object, or one member of a crowd.
type part struct {
	shape shape
	mask  *mask
	fill  fill
}

// sceneObject is one annotation-to-be.
type sceneObject struct {
	kind  shapeKind
	crowd bool
	parts []part
	box   image.Rectangle // union of the parts' pixel boxes
	own   []bool          // pixels of box claimed by any part
	full  int             // claimed pixels before any occlusion
	// exact is the union of the parts' exact bounds (x0, y0, x1, y1) and
	// fullPix the pixel extent of own, inclusive: annotate uses both to keep
	// boxes exact on every side that occlusion did not cut.
	exact   [4]float64
	fullPix [4]int
}

func newSceneObject(kind shapeKind, crowd bool, parts []part) *sceneObject {
	o := &sceneObject{kind: kind, crowd: crowd, parts: parts}
	o.exact = [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for _, p := range parts {
		o.box = o.box.Union(image.Rect(p.mask.x0, p.mask.y0, p.mask.x0+p.mask.w, p.mask.y0+p.mask.h))
		x0, y0, x1, y1 := p.shape.bounds()
		o.exact = [4]float64{min(o.exact[0], x0), min(o.exact[1], y0), max(o.exact[2], x1), max(o.exact[3], y1)}
	}
	o.fullPix = [4]int{math.MaxInt, math.MaxInt, -1, -1}
	o.own = make([]bool, o.box.Dx()*o.box.Dy())
	for y := o.box.Min.Y; y < o.box.Max.Y; y++ {
		for x := o.box.Min.X; x < o.box.Max.X; x++ {
			for _, p := range parts {
				if p.mask.owns(x, y) {
					o.own[(y-o.box.Min.Y)*o.box.Dx()+(x-o.box.Min.X)] = true
					o.full++
					o.fullPix = [4]int{min(o.fullPix[0], x), min(o.fullPix[1], y), max(o.fullPix[2], x), max(o.fullPix[3], y)}
					break
				}
			}
		}
	}
	return o
}

// scene is a layout under construction: objects in painting order and, per
// pixel, the index of the topmost object that claims it (-1: background).
type scene struct {
	w, h    int
	objects []*sceneObject
	label   []int32
	visible []int
}

func newScene(w, h int) *scene {
	s := &scene{w: w, h: h, label: make([]int32, w*h)}
	for i := range s.label {
		s.label[i] = -1
	}
	return s
}

// tryPlace puts o on top of the scene unless it would hide too much of an
// object below it or touch a crowd region.
func (s *scene) tryPlace(o *sceneObject) bool {
	if o.full == 0 {
		return false
	}
	lost := make([]int, len(s.objects))
	s.eachOwned(o, func(p int) {
		if id := s.label[p]; id >= 0 {
			lost[id]++
		}
	})
	for id, l := range lost {
		if l == 0 {
			continue
		}
		below := s.objects[id]
		if below.crowd || o.crowd || float64(s.visible[id]-l) < minVisible*float64(below.full) {
			return false
		}
	}
	id := int32(len(s.objects))
	s.eachOwned(o, func(p int) { s.label[p] = id })
	for i, l := range lost {
		s.visible[i] -= l
	}
	s.objects = append(s.objects, o)
	s.visible = append(s.visible, o.full)
	return true
}

// eachOwned calls f with the image index of every pixel o claims.
func (s *scene) eachOwned(o *sceneObject, f func(p int)) {
	bw := o.box.Dx()
	for y := o.box.Min.Y; y < o.box.Max.Y; y++ {
		for x := o.box.Min.X; x < o.box.Max.X; x++ {
			if o.own[(y-o.box.Min.Y)*bw+(x-o.box.Min.X)] {
				f(y*s.w + x)
			}
		}
	}
}

// layoutScene places an optional crowd and 3 to 8 objects, largest first so
// that big objects end up behind small ones (and are not refused for
// hiding them). One object has the category index mod numShapes, so every
// category appears in any split of at least numShapes images.
func layoutScene(rng *rand.Rand, w, h, index int) *scene {
	s := newScene(w, h)
	scale := float64(min(w, h)) / 240
	if index%crowdEvery == 0 {
		kind := shapeKind(rng.IntN(int(numShapes)))
		for range placeTries {
			if s.tryPlace(newCrowd(rng, kind, w, h, scale)) {
				break
			}
		}
	}
	type plan struct {
		kind shapeKind
		side float64
	}
	plans := make([]plan, minObjects+rng.IntN(maxObjects-minObjects+1))
	for k := range plans {
		plans[k] = plan{kind: shapeKind(rng.IntN(int(numShapes))), side: objectSide(rng, scale)}
		if k == 0 {
			plans[k].kind = shapeKind(index % int(numShapes))
		}
	}
	sort.SliceStable(plans, func(i, j int) bool { return plans[i].side > plans[j].side })
	for _, pl := range plans {
		side := pl.side
		for try := range placeTries {
			if try >= placeTries/2 {
				side *= 0.8
			}
			if s.tryPlace(newObject(rng, pl.kind, w, h, scale, side)) {
				break
			}
		}
	}
	return s
}

// objectSide draws sqrt(area) log-uniform in [minSide, maxSide]*scale.
func objectSide(rng *rand.Rand, scale float64) float64 {
	return math.Exp(math.Log(minSide)+rng.Float64()*math.Log(maxSide/minSide)) * scale
}

// shapeRotation draws a rotation that keeps a category recognisable:
// squares, diamonds and crosses stay nearly upright (a square turned 45
// degrees would be a diamond, a cross an X); the rest turn freely.
func shapeRotation(rng *rand.Rand, k shapeKind) float64 {
	switch k {
	case circle, ring:
		return 0
	case square, diamond, cross:
		return (2*rng.Float64() - 1) * math.Pi / 12
	default:
		return rng.Float64() * 2 * math.Pi
	}
}

// newObject draws one object of category kind and sqrt(area) side at a
// random place, shrunk if needed to fit inside the image with a 1 px margin.
func newObject(rng *rand.Rand, kind shapeKind, w, h int, scale, side float64) *sceneObject {
	p := shapeParams{kind: kind, theta: shapeRotation(rng, kind), aspect: 0.45 + 0.15*rng.Float64()}
	p.r = side / math.Sqrt(shapeAreaFactor(kind, p.aspect))
	p.cx, p.cy = placeInside(rng, &p, w, h)
	sh := newShape(p)
	x0, y0, x1, y1 := sh.bounds()
	f := newFill(rng, x0, y0, x1, y1, side < 32*scale)
	return newSceneObject(kind, false, []part{{shape: sh, mask: rasterize(sh, w, h), fill: f}})
}

// placeInside scales p down until its bounds fit in the image with a 1 px
// margin and returns a random centre that keeps it there.
func placeInside(rng *rand.Rand, p *shapeParams, w, h int) (cx, cy float64) {
	p.cx, p.cy = 0, 0
	x0, y0, x1, y1 := newShape(*p).bounds()
	fit := min((float64(w)-2)/(x1-x0), (float64(h)-2)/(y1-y0), 1)
	p.r *= fit
	x0, y0, x1, y1 = x0*fit, y0*fit, x1*fit, y1*fit
	cx = 1 - x0 + rng.Float64()*(float64(w)-2-(x1-x0))
	cy = 1 - y0 + rng.Float64()*(float64(h)-2-(y1-y0))
	return cx, cy
}

// newCrowd draws a tight cluster of tiny objects of one category, annotated
// together as one iscrowd region.
func newCrowd(rng *rand.Rand, kind shapeKind, w, h int, scale float64) *sceneObject {
	spreadX, spreadY := (14+16*rng.Float64())*scale, (10+12*rng.Float64())*scale
	ccx := spreadX + 6*scale + rng.Float64()*(float64(w)-2*spreadX-12*scale)
	ccy := spreadY + 6*scale + rng.Float64()*(float64(h)-2*spreadY-12*scale)
	n := crowdMin + rng.IntN(crowdMax-crowdMin+1)
	parts := make([]part, 0, n)
	for range n {
		side := (crowdMemberMin + rng.Float64()*(crowdMemberMax-crowdMemberMin)) * scale
		p := shapeParams{kind: kind, theta: shapeRotation(rng, kind), aspect: 0.45 + 0.15*rng.Float64()}
		p.r = side / math.Sqrt(shapeAreaFactor(kind, p.aspect))
		p.cx = min(max(ccx+(2*rng.Float64()-1)*spreadX, p.r+1), float64(w)-p.r-1)
		p.cy = min(max(ccy+(2*rng.Float64()-1)*spreadY, p.r+1), float64(h)-p.r-1)
		sh := newShape(p)
		f := fill{kind: solidFill, c1: objectColor(rng)}
		parts = append(parts, part{shape: sh, mask: rasterize(sh, w, h), fill: f})
	}
	return newSceneObject(kind, true, parts)
}
