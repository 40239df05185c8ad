package pictures

import (
	"flag"
	"image"
	"image/color"
	"image/draw"
	"path/filepath"
	"strings"
	"testing"

	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/pictures/picturestest"
)

var update = flag.Bool("update", false, "rewrite the golden PNGs in testdata")

// grey is a small plain image to draw on.
func grey(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{90, 90, 90, 255}), image.Point{}, draw.Src)
	return img
}

func checkGolden(t *testing.T, name string, got *image.RGBA) {
	t.Helper()
	picturestest.CheckGolden(t, filepath.Join("testdata", name), got, *update)
}

func square(h, w, x0, y0, x1, y1 int) *coco.RLE {
	m := make([]byte, h*w)
	for x := x0; x < x1; x++ {
		for y := y0; y < y1; y++ {
			m[x*h+y] = 1
		}
	}
	r := coco.EncodeMask(m, h, w)
	return &r
}

func TestDrawMatchesGolden(t *testing.T) {
	items := []Item{
		{Box: coco.Box{10, 20, 40, 30}, Class: 0, Text: "circle 0.97", Mask: square(80, 120, 15, 25, 45, 45)},
		{Box: coco.Box{14, 24, 40, 30}, Class: 1, Text: "square 0.51"},
		{Box: coco.Box{70, 5, 45, 60}, Class: 2, Text: "star", Thin: true},
	}
	got, err := Draw(grey(120, 80), items)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "draw.png", got)
	row := Row([]Panel{{"ground truth", grey(60, 40)}, {"detections", got}})
	checkGolden(t, "row.png", row)
}

func TestMatrixMatchesGolden(t *testing.T) {
	m := Matrix{Title: "confusion", RowTitle: "ground truth", ColTitle: "prediction",
		RowLabels: []string{"cat", "dog", "background"}, ColLabels: []string{"cat", "dog", "background"},
		Shade: [][]float64{{0.8, 0.2, 0}, {0.1, 0.5, 0.4}, {1, 0, 0}},
		Text:  [][]string{{"8", "2", "0"}, {"1", "5", "4"}, {"3", "0", "0"}}}
	got, err := m.Draw()
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "matrix.png", got)
}

func TestMatrixRejectsRaggedRows(t *testing.T) {
	m := Matrix{Title: "bad", RowLabels: []string{"a", "b"}, ColLabels: []string{"a", "b"},
		Shade: [][]float64{{0, 0}, {0}}, Text: [][]string{{"", ""}, {""}}}
	if _, err := m.Draw(); err == nil || !strings.Contains(err.Error(), "row 1") {
		t.Fatalf("err = %v, want one naming row 1", err)
	}
}

func TestLabelsStayInsideAndApart(t *testing.T) {
	bounds := image.Rect(0, 0, 200, 150)
	cases := []struct {
		name  string
		boxes []coco.Box
	}{
		{"same box twice", []coco.Box{{50, 50, 80, 60}, {50, 50, 80, 60}}},
		{"at the top edge", []coco.Box{{0, 0, 60, 40}, {5, 2, 60, 40}}},
		{"at the bottom right", []coco.Box{{150, 120, 50, 30}, {140, 110, 60, 40}}},
		{"four nested", []coco.Box{{40, 40, 100, 80}, {42, 42, 96, 76}, {44, 44, 92, 72}, {46, 46, 88, 68}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var placed []image.Rectangle
			for i, b := range tc.boxes {
				size := labelSize("label " + string(rune('a'+i)))
				var got image.Rectangle
				for _, r := range candidates(pixelRect(b), size, bounds) {
					got = r
					if covered(r, placed) == 0 {
						break
					}
				}
				if !got.In(bounds) || got.Size() != size {
					t.Errorf("label %d at %v: not whole inside %v", i, got, bounds)
				}
				if covered(got, placed) != 0 {
					t.Errorf("label %d at %v covers an earlier label %v", i, got, placed)
				}
				placed = append(placed, got)
			}
		})
	}
}

func TestDrawRejectsMaskOfAnotherSize(t *testing.T) {
	_, err := Draw(grey(20, 10), []Item{{Box: coco.Box{1, 1, 5, 5}, Mask: square(11, 20, 0, 0, 2, 2)}})
	if err == nil || !strings.Contains(err.Error(), "item 0") {
		t.Fatalf("err = %v, want one naming item 0", err)
	}
}

func TestMaskIsTranslucentAndOnlyOnItsPixels(t *testing.T) {
	img := grey(20, 10)
	got, err := Draw(img, []Item{{Box: coco.Box{0, 0, 20, 10}, Class: 3, Mask: square(10, 20, 5, 3, 8, 6), Thin: true}})
	if err != nil {
		t.Fatal(err)
	}
	in, out := got.RGBAAt(6, 4), got.RGBAAt(12, 4)
	if out != img.RGBAAt(12, 4) {
		t.Errorf("pixel outside the mask changed: %v", out)
	}
	col := Colour(3)
	if in == img.RGBAAt(6, 4) || in == col {
		t.Errorf("pixel inside the mask is %v: want a blend of %v and %v", in, img.RGBAAt(6, 4), col)
	}
}

func TestColoursOfNearbyClassesDiffer(t *testing.T) {
	for i := range 80 {
		for j := i + 1; j < min(i+10, 80); j++ {
			a, b := Colour(i), Colour(j)
			d := abs(int(a.R)-int(b.R)) + abs(int(a.G)-int(b.G)) + abs(int(a.B)-int(b.B))
			if d < 40 {
				t.Errorf("classes %d and %d: colours %v and %v are too close", i, j, a, b)
			}
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestEnlargeScalesImageBoxesAndMasks(t *testing.T) {
	img := grey(20, 10)
	img.Set(3, 2, color.RGBA{255, 0, 0, 255})
	items := []Item{{Box: coco.Box{1, 2, 3, 4}, Mask: square(10, 20, 1, 2, 4, 6)}}
	big, got := Enlarge(img, items, 25) // factor 3: 10 -> 30
	if big.Bounds().Dx() != 60 || big.Bounds().Dy() != 30 {
		t.Fatalf("enlarged to %v, want 60x30", big.Bounds())
	}
	if c := color.RGBAModel.Convert(big.At(11, 8)).(color.RGBA); c.R != 255 {
		t.Errorf("pixel (3, 2) did not become the 3x3 block at (9..11, 6..8): %v", c)
	}
	if got[0].Box != (coco.Box{3, 6, 9, 12}) || items[0].Box != (coco.Box{1, 2, 3, 4}) {
		t.Errorf("box %v (input now %v), want [3 6 9 12] and the input unchanged", got[0].Box, items[0].Box)
	}
	if got[0].Mask.H != 30 || got[0].Mask.W != 60 || got[0].Mask.Area() != 9*items[0].Mask.Area() {
		t.Errorf("mask %dx%d area %d, want 60x30 area %d", got[0].Mask.W, got[0].Mask.H, got[0].Mask.Area(), 9*items[0].Mask.Area())
	}
	if same, _ := Enlarge(img, items, 10); same != image.Image(img) {
		t.Error("an image large enough was copied")
	}
}

func TestGoldenCheckCatchesABroadChange(t *testing.T) {
	a, b := grey(10, 10), grey(10, 10)
	draw.Draw(b, image.Rect(0, 0, 5, 10), image.White, image.Point{}, draw.Src)
	if n := picturestest.Differing(a, b, picturestest.ChannelTolerance); n != 50 {
		t.Errorf("%d pixels differ, want 50", n)
	}
}
