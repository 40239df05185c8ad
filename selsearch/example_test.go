package selsearch_test

import (
	"fmt"
	"image"
	"image/color"

	"github.com/detflow/detflow/selsearch"
)

// A red square on a grey background: selective search proposes a box
// around it.
func ExampleSearch() {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			c := color.RGBA{120, 120, 120, 255}
			if x >= 20 && x < 44 && y >= 10 && y < 30 {
				c = color.RGBA{220, 30, 30, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	opts := selsearch.DefaultOptions()
	opts.MinRegion = 20
	props, err := selsearch.Search(img, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range props {
		if p.Box == [4]float32{20, 10, 44, 30} {
			fmt.Println("found the square:", p.Box)
		}
	}
	// Output: found the square: [20 10 44 30]
}
