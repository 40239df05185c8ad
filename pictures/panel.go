package pictures

import (
	"image"
	"image/color"
	"image/draw"
)

// Panel is one titled picture of a row.
type Panel struct {
	Title string
	Image image.Image
}

// panelGap is the white space between panels and around titles.
const panelGap = 4

// Row puts panels side by side, each under its title, on white: the ground
// truth next to the detections of the same image.
func Row(panels []Panel) *image.RGBA {
	titleH := labelSize("Ag").Y + panelGap
	w, h := panelGap, 0
	for _, p := range panels {
		w += panelWidth(p) + panelGap
		h = max(h, p.Image.Bounds().Dy())
	}
	out := image.NewRGBA(image.Rect(0, 0, w, titleH+h+panelGap))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	x := panelGap
	for _, p := range panels {
		b := p.Image.Bounds()
		drawText(out, image.Pt(x, panelGap/2), p.Title, color.RGBA{0, 0, 0, 255})
		draw.Draw(out, image.Rect(x, titleH, x+b.Dx(), titleH+b.Dy()), p.Image, b.Min, draw.Src)
		x += panelWidth(p) + panelGap
	}
	return out
}

// panelWidth fits the picture and its title.
func panelWidth(p Panel) int { return max(p.Image.Bounds().Dx(), labelSize(p.Title).X) }
