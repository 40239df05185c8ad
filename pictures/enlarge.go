package pictures

import (
	"image"

	"github.com/detflow/detflow/coco"
)

// Enlarge scales img and its items up by the smallest whole factor that
// makes the image's shorter side at least minSide pixels (nearest
// neighbour: pixels stay sharp squares), so that labels fit on small
// images. Images already large enough are returned as they are.
func Enlarge(img image.Image, items []Item, minSide int) (image.Image, []Item) {
	b := img.Bounds()
	short := min(b.Dx(), b.Dy())
	if short <= 0 || short >= minSide {
		return img, items
	}
	f := (minSide + short - 1) / short
	big := image.NewRGBA(image.Rect(0, 0, b.Dx()*f, b.Dy()*f))
	for y := range big.Bounds().Dy() {
		for x := range big.Bounds().Dx() {
			big.Set(x, y, img.At(b.Min.X+x/f, b.Min.Y+y/f))
		}
	}
	out := make([]Item, len(items))
	for i, it := range items {
		it.Box = coco.Box{it.Box[0] * float64(f), it.Box[1] * float64(f), it.Box[2] * float64(f), it.Box[3] * float64(f)}
		if it.Mask != nil {
			m := enlargeMask(*it.Mask, f)
			it.Mask = &m
		}
		out[i] = it
	}
	return big, out
}

// enlargeMask scales a column-major RLE mask by f in both directions.
func enlargeMask(m coco.RLE, f int) coco.RLE {
	src := m.Decode()
	H, W := m.H*f, m.W*f
	dst := make([]byte, H*W)
	for x := range W {
		col := src[(x/f)*m.H : (x/f+1)*m.H]
		for y := range H {
			dst[x*H+y] = col[y/f]
		}
	}
	return coco.EncodeMask(dst, H, W)
}
