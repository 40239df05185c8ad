// Package picturestest compares drawn images with golden PNGs, tolerant
// to the odd pixel a font or a decoder rasterises differently.
package picturestest

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"testing"
)

// Tolerances of CheckGolden: a pixel differs when a channel is off by more
// than ChannelTolerance; at most MaxDifferingShare of the pixels may.
const (
	ChannelTolerance  = 48
	MaxDifferingShare = 0.01
)

// CheckGolden compares got with the PNG at path, or writes it there when
// update is set.
func CheckGolden(t testing.TB, path string, got image.Image, update bool) {
	t.Helper()
	if update {
		var b bytes.Buffer
		if err := png.Encode(&b, got); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to write it)", err)
	}
	defer f.Close()
	want, err := png.Decode(f)
	if err != nil {
		t.Fatalf("golden %s: %v", path, err)
	}
	if want.Bounds().Size() != got.Bounds().Size() {
		t.Fatalf("%s: size %v, golden %v", path, got.Bounds().Size(), want.Bounds().Size())
	}
	n, total := Differing(want, got, ChannelTolerance), got.Bounds().Dx()*got.Bounds().Dy()
	if float64(n) > MaxDifferingShare*float64(total) {
		t.Errorf("%s: %d of %d pixels differ from the golden image (at most %.0f%% may)", path, n, total, 100*MaxDifferingShare)
	}
}

// Differing counts the pixels of a and b (same size) whose channels
// differ by more than tol.
func Differing(a, b image.Image, tol int) int {
	n := 0
	ra, rb := a.Bounds(), b.Bounds()
	for y := 0; y < ra.Dy(); y++ {
		for x := 0; x < ra.Dx(); x++ {
			p := color.RGBAModel.Convert(a.At(ra.Min.X+x, ra.Min.Y+y)).(color.RGBA)
			q := color.RGBAModel.Convert(b.At(rb.Min.X+x, rb.Min.Y+y)).(color.RGBA)
			for _, d := range []int{int(p.R) - int(q.R), int(p.G) - int(q.G), int(p.B) - int(q.B)} {
				if d > tol || -d > tol {
					n++
					break
				}
			}
		}
	}
	return n
}
