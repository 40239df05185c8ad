package dataset

// imageAnnotation is one annotation of a synthetic image before ids are
// assigned.
type imageAnnotation struct {
	kind         shapeKind
	bbox         [4]float64
	area         int
	crowd        bool
	segmentation any
}

// annotate turns a finished layout into COCO annotations, in painting
// order. Boxes and areas describe what stays visible (modal, as in COCO):
// area counts the visible pixels (those at least half covered by the
// object and by nothing above it); on each side of the box, if occlusion
// left the object's outermost pixels there visible, the box edge is the
// shape's exact extent, otherwise the edge of the outermost visible pixel.
// An unoccluded object thus gets its exact box, also at acute tips whose
// pixels are less than half covered.
// An unoccluded object's segmentation is its exact outline polygon; an
// occluded object or a crowd gets the uncompressed RLE of its visible
// pixels, since a polygon cannot express what the objects above cut away.
func annotate(s *scene) []imageAnnotation {
	type extent struct{ x0, y0, x1, y1, n int }
	ext := make([]extent, len(s.objects))
	for i := range ext {
		ext[i] = extent{x0: s.w, y0: s.h, x1: -1, y1: -1}
	}
	for y := range s.h {
		for x := range s.w {
			id := s.label[y*s.w+x]
			if id < 0 {
				continue
			}
			e := &ext[id]
			e.x0, e.y0 = min(e.x0, x), min(e.y0, y)
			e.x1, e.y1 = max(e.x1, x), max(e.y1, y)
			e.n++
		}
	}
	out := make([]imageAnnotation, 0, len(s.objects))
	for id, o := range s.objects {
		e := ext[id]
		if e.n == 0 {
			continue // cannot happen while minVisible > 0; never emit empty boxes
		}
		x0, y0 := edge(e.x0, o.fullPix[0], o.exact[0], 0), edge(e.y0, o.fullPix[1], o.exact[1], 0)
		x1, y1 := edge(e.x1, o.fullPix[2], o.exact[2], 1), edge(e.y1, o.fullPix[3], o.exact[3], 1)
		x0, y0 = max(x0, 0), max(y0, 0)
		x1, y1 = min(x1, float64(s.w)), min(y1, float64(s.h))
		a := imageAnnotation{
			kind:  o.kind,
			bbox:  [4]float64{roundCoord(x0), roundCoord(y0), roundCoord(x1 - x0), roundCoord(y1 - y0)},
			area:  e.n,
			crowd: o.crowd,
		}
		if o.crowd || e.n < o.full {
			label := int32(id)
			a.segmentation = cocoRLE{
				Counts: rleCounts(func(x, y int) bool { return s.label[y*s.w+x] == label }, s.w, s.h),
				Size:   [2]int{s.h, s.w},
			}
		} else {
			a.segmentation = o.parts[0].shape.polygons()
		}
		out = append(out, a)
	}
	return out
}

// edge is one side of a box: the exact shape bound when the visible pixel
// extent reaches the object's full pixel extent on that side, else the
// visible pixel's edge (offset 0 for left/top, 1 for right/bottom).
func edge(visible, full int, exact float64, offset int) float64 {
	if visible == full {
		return exact
	}
	return float64(visible + offset)
}
