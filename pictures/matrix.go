package pictures

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
)

// Matrix is a table of numbers drawn as coloured cells: row i, column j
// holds Text[i][j] on a blue whose depth is Shade[i][j] in [0, 1].
type Matrix struct {
	Title     string
	RowTitle  string // what rows are, e.g. "ground truth"
	ColTitle  string // what columns are, e.g. "prediction"
	RowLabels []string
	ColLabels []string
	Shade     [][]float64
	Text      [][]string
}

// cellPad is the space around a cell's text.
const cellPad = 6

// Draw renders the matrix; rows or columns that do not match the labels
// are an error.
func (m Matrix) Draw() (*image.RGBA, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	cw, ch := m.cellSize()
	rowW := 0
	for _, l := range m.RowLabels {
		rowW = max(rowW, labelSize(l).X)
	}
	colH := 0
	for _, l := range m.ColLabels {
		colH = max(colH, labelSize(l).X)
	}
	line := labelSize("Ag").Y
	left := line + rowW + panelGap // the row title runs up the left edge
	top := 2*line + colH + panelGap
	nr, nc := len(m.RowLabels), len(m.ColLabels)
	height := max(nr*ch, labelSize(m.RowTitle).X)
	width := max(left+nc*cw, left+labelSize(m.Title).X, left+labelSize(m.ColTitle).X)
	out := image.NewRGBA(image.Rect(0, 0, width+panelGap, top+height+panelGap))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	black := color.RGBA{0, 0, 0, 255}
	drawText(out, image.Pt(left, 0), m.Title, black)
	drawText(out, image.Pt(left, line), m.ColTitle, black)
	drawVertical(out, image.Pt(0, top+(height-labelSize(m.RowTitle).X)/2), m.RowTitle, black)
	for j, l := range m.ColLabels {
		drawVertical(out, image.Pt(left+j*cw+(cw-line)/2, 2*line), l, black)
	}
	for i, l := range m.RowLabels {
		y := top + i*ch
		drawText(out, image.Pt(left-panelGap-labelSize(l).X, y+(ch-line)/2), l, black)
		for j := range m.ColLabels {
			r := image.Rect(left+j*cw, y, left+(j+1)*cw, y+ch)
			bg := shade(m.Shade[i][j])
			draw.Draw(out, r, image.NewUniform(bg), image.Point{}, draw.Src)
			strokeBox(out, r, color.RGBA{255, 255, 255, 255}, 1)
			t := m.Text[i][j]
			drawText(out, image.Pt(r.Min.X+(cw-labelSize(t).X)/2, r.Min.Y+(ch-line)/2), t, textColour(bg))
		}
	}
	return out, nil
}

func (m Matrix) check() error {
	nr, nc := len(m.RowLabels), len(m.ColLabels)
	if len(m.Shade) != nr || len(m.Text) != nr {
		return fmt.Errorf("matrix %q: %d row labels, %d shade rows, %d text rows", m.Title, nr, len(m.Shade), len(m.Text))
	}
	for i := range nr {
		if len(m.Shade[i]) != nc || len(m.Text[i]) != nc {
			return fmt.Errorf("matrix %q: row %d has %d shades and %d texts for %d columns", m.Title, i, len(m.Shade[i]), len(m.Text[i]), nc)
		}
	}
	return nil
}

// cellSize fits the widest text of any cell.
func (m Matrix) cellSize() (int, int) {
	w := labelSize("000").X
	for _, row := range m.Text {
		for _, t := range row {
			w = max(w, labelSize(t).X)
		}
	}
	return w + cellPad, labelSize("Ag").Y + cellPad
}

// shade maps v in [0, 1] from white to a deep blue.
func shade(v float64) color.RGBA {
	if math.IsNaN(v) {
		v = 0
	}
	v = min(max(v, 0), 1)
	lerp := func(a, b float64) uint8 { return uint8(math.Round(a + (b-a)*v)) }
	return color.RGBA{lerp(247, 8), lerp(251, 48), lerp(255, 107), 255}
}

// drawVertical writes text upwards (rotated a quarter turn anticlockwise)
// with its label box's top-left corner at at.
func drawVertical(c *image.RGBA, at image.Point, text string, col color.RGBA) {
	s := labelSize(text)
	tmp := image.NewRGBA(image.Rect(0, 0, s.X, s.Y))
	drawText(tmp, image.Point{}, text, col)
	for y := range s.Y {
		for x := range s.X {
			px := tmp.RGBAAt(x, y)
			if px.A == 0 {
				continue
			}
			c.SetRGBA(at.X+y, at.Y+s.X-1-x, px)
		}
	}
}
