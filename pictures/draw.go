package pictures

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"

	"github.com/detflow/detflow/coco"
)

// Item is one object drawn on an image.
type Item struct {
	Box   coco.Box
	Class int       // picks the colour (Colour(Class))
	Text  string    // the label; "" draws none
	Mask  *coco.RLE // drawn translucent under the box when set
	Thin  bool      // a 1 px outline instead of 2 (crowd regions, proposals)
}

// maskAlpha is how much of a mask's colour covers the pixel under it: the
// image stays readable through it.
const maskAlpha = 0.45

// Draw returns a copy of img with every item's mask, then every box, then
// every label, so that no box hides a label. A mask whose size differs from
// the image's is an error naming the item.
func Draw(img image.Image, items []Item) (*image.RGBA, error) {
	c := toRGBA(img)
	for i, it := range items {
		if it.Mask == nil {
			continue
		}
		if it.Mask.H != c.Bounds().Dy() || it.Mask.W != c.Bounds().Dx() {
			return nil, fmt.Errorf("draw item %d: mask is %dx%d, image is %dx%d", i, it.Mask.W, it.Mask.H, c.Bounds().Dx(), c.Bounds().Dy())
		}
		fillMask(c, *it.Mask, Colour(it.Class))
	}
	for _, it := range items {
		width := 2
		if it.Thin {
			width = 1
		}
		strokeBox(c, pixelRect(it.Box), Colour(it.Class), width)
	}
	placeLabels(c, items)
	return c, nil
}

// toRGBA copies img into a new RGBA image whose bounds start at (0, 0).
func toRGBA(img image.Image) *image.RGBA {
	b := img.Bounds()
	c := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(c, c.Bounds(), img, b.Min, draw.Src)
	return c
}

// pixelRect is the box's outline in whole pixels: [x0, x1) covers the
// pixels the box's left and right edges fall in.
func pixelRect(b coco.Box) image.Rectangle {
	x0, y0 := int(math.Floor(b[0])), int(math.Floor(b[1]))
	x1, y1 := int(math.Ceil(b[0]+b[2])), int(math.Ceil(b[1]+b[3]))
	return image.Rect(x0, y0, max(x1, x0+1), max(y1, y0+1))
}

// strokeBox draws r's outline, width pixels thick inwards, clipped to c.
func strokeBox(c *image.RGBA, r image.Rectangle, col color.RGBA, width int) {
	u := image.NewUniform(col)
	w := min(width, r.Dx(), r.Dy())
	for _, e := range []image.Rectangle{
		image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+w),
		image.Rect(r.Min.X, r.Max.Y-w, r.Max.X, r.Max.Y),
		image.Rect(r.Min.X, r.Min.Y, r.Min.X+w, r.Max.Y),
		image.Rect(r.Max.X-w, r.Min.Y, r.Max.X, r.Max.Y),
	} {
		draw.Draw(c, e.Intersect(c.Bounds()), u, image.Point{}, draw.Src)
	}
}

// fillMask blends col over the mask's pixels. The RLE is column-major, so
// runs are walked down columns without decoding the whole mask.
func fillMask(c *image.RGBA, m coco.RLE, col color.RGBA) {
	pos, on := 0, false
	for _, n := range m.Counts {
		if on {
			for p := pos; p < pos+int(n); p++ {
				blend(c, p/m.H, p%m.H, col, maskAlpha)
			}
		}
		pos += int(n)
		on = !on
	}
}

func blend(c *image.RGBA, x, y int, col color.RGBA, a float64) {
	i := c.PixOffset(x, y)
	px := c.Pix[i : i+3 : i+3]
	for k, v := range []uint8{col.R, col.G, col.B} {
		px[k] = uint8(math.Round(float64(px[k])*(1-a) + float64(v)*a))
	}
}
