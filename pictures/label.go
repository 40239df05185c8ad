package pictures

import (
	"image"
	"image/color"
	"image/draw"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// face is the one font: a bitmap, so text rasterises identically everywhere.
var face = basicfont.Face7x13

// labelPad is the space around a label's text, in pixels.
const labelPad = 2

// labelSize is the size of text's label: the text plus padding.
func labelSize(text string) image.Point {
	w := font.MeasureString(face, text).Ceil()
	return image.Pt(w+2*labelPad, face.Metrics().Height.Ceil()+labelPad)
}

// drawText writes text in col with its label box's top-left corner at at.
func drawText(c *image.RGBA, at image.Point, text string, col color.RGBA) {
	d := font.Drawer{Dst: c, Src: image.NewUniform(col), Face: face,
		Dot: fixed.P(at.X+labelPad, at.Y+labelPad/2+face.Metrics().Ascent.Ceil())}
	d.DrawString(text)
}

// drawLabel draws text on a box of bg at r.
func drawLabel(c *image.RGBA, r image.Rectangle, text string, bg color.RGBA) {
	draw.Draw(c, r, image.NewUniform(bg), image.Point{}, draw.Src)
	drawText(c, r.Min, text, textColour(bg))
}

// placeLabels draws each item's label at the first of its candidate spots
// that no earlier label covers, or the least covered one.
func placeLabels(c *image.RGBA, items []Item) {
	var placed []image.Rectangle
	for _, it := range items {
		if it.Text == "" {
			continue
		}
		size := labelSize(it.Text)
		best, bestCover := image.Rectangle{}, -1
		for _, r := range candidates(pixelRect(it.Box), size, c.Bounds()) {
			cover := covered(r, placed)
			if bestCover < 0 || cover < bestCover {
				best, bestCover = r, cover
			}
			if cover == 0 {
				break
			}
		}
		drawLabel(c, best, it.Text, Colour(it.Class))
		placed = append(placed, best)
	}
}

// candidates are the spots a label of size s may take around box b, most
// natural first (above the top-left corner, as detection toolboxes draw
// it), each moved inside bounds.
func candidates(b image.Rectangle, s image.Point, bounds image.Rectangle) []image.Rectangle {
	corners := []image.Point{
		{b.Min.X, b.Min.Y - s.Y}, // above, left
		{b.Min.X, b.Min.Y},       // inside top, left
		{b.Max.X - s.X, b.Min.Y - s.Y},
		{b.Max.X - s.X, b.Min.Y},
		{b.Min.X, b.Max.Y}, // below, left
		{b.Min.X, b.Max.Y - s.Y},
		{b.Max.X - s.X, b.Max.Y},
		{b.Max.X - s.X, b.Max.Y - s.Y},
	}
	out := make([]image.Rectangle, len(corners))
	for i, p := range corners {
		out[i] = clampInside(image.Rectangle{Min: p, Max: p.Add(s)}, bounds)
	}
	return out
}

// clampInside moves r inside bounds, keeping its size; a label wider than
// the image is cut at the right.
func clampInside(r image.Rectangle, bounds image.Rectangle) image.Rectangle {
	d := image.Point{}
	if r.Max.X > bounds.Max.X {
		d.X = bounds.Max.X - r.Max.X
	}
	if r.Min.X+d.X < bounds.Min.X {
		d.X = bounds.Min.X - r.Min.X
	}
	if r.Max.Y > bounds.Max.Y {
		d.Y = bounds.Max.Y - r.Max.Y
	}
	if r.Min.Y+d.Y < bounds.Min.Y {
		d.Y = bounds.Min.Y - r.Min.Y
	}
	return r.Add(d).Intersect(bounds)
}

// covered is the area of r that rects cover (overlaps counted once each).
func covered(r image.Rectangle, rects []image.Rectangle) int {
	n := 0
	for _, o := range rects {
		in := r.Intersect(o)
		n += in.Dx() * in.Dy()
	}
	return n
}
