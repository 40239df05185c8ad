package pictures

import (
	"image/color"
	"math"
)

// goldenAngle spaces hues so that any run of consecutive classes is spread
// around the colour wheel: class i+1 lands far from class i, and later
// classes fall between earlier ones instead of next to them.
const goldenAngle = 137.50776405003785

// Colour is the colour of class i (i >= 0): saturated and bright enough to
// show on photographs, alternating between two brightness levels so that
// neighbouring hues still differ.
func Colour(i int) color.RGBA {
	if i < 0 {
		i = -i
	}
	h := math.Mod(float64(i)*goldenAngle+30, 360)
	v := 0.95
	if i%2 == 1 {
		v = 0.75
	}
	return hsv(h, 0.85, v)
}

// hsv converts hue (degrees), saturation and value in [0, 1] to RGB.
func hsv(h, s, v float64) color.RGBA {
	c := v * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	m := v - c
	var r, g, b float64
	switch {
	case h < 60:
		r, g, b = c, x, 0
	case h < 120:
		r, g, b = x, c, 0
	case h < 180:
		r, g, b = 0, c, x
	case h < 240:
		r, g, b = 0, x, c
	case h < 300:
		r, g, b = x, 0, c
	default:
		r, g, b = c, 0, x
	}
	u8 := func(f float64) uint8 { return uint8(math.Round((f + m) * 255)) }
	return color.RGBA{u8(r), u8(g), u8(b), 255}
}

// textColour is black or white, whichever reads better on bg.
func textColour(bg color.RGBA) color.RGBA {
	// Rec. 601 luma: cheap and good enough to pick between two colours.
	if 0.299*float64(bg.R)+0.587*float64(bg.G)+0.114*float64(bg.B) > 150 {
		return color.RGBA{0, 0, 0, 255}
	}
	return color.RGBA{255, 255, 255, 255}
}
