package selsearch

import (
	"fmt"
	"testing"
)

// BenchmarkSearch measures one image per op in each mode at the default
// synthetic size (320x240), and the fast mode at half and double size;
// images/s per core = 1e9 / ns/op.
func BenchmarkSearch(b *testing.B) {
	cases := []struct {
		mode Mode
		w, h int
	}{{Fast, 160, 120}, {Fast, 320, 240}, {Fast, 640, 480}, {Quality, 320, 240}}
	for _, c := range cases {
		b.Run(fmt.Sprintf("mode=%s/size=%dx%d", c.mode, c.w, c.h), func(b *testing.B) {
			sx, sy := c.w/32, c.h/24 // the rectangles scale with the image
			rects := [][4]int{{2 * sx, 2 * sy, 12 * sx, 10 * sy}, {18 * sx, 4 * sy, 30 * sx, 18 * sy},
				{6 * sx, 14 * sy, 14 * sx, 22 * sy}, {24 * sx, 20 * sy, 28 * sx, 23 * sy}, {14 * sx, sy, 17 * sx, 4 * sy}}
			img := scene(c.w, c.h, 11, rects, testColours)
			opts := DefaultOptions()
			opts.Mode = c.mode
			n := 0
			for b.Loop() {
				props, err := Search(img, opts)
				if err != nil {
					b.Fatal(err)
				}
				n = len(props)
			}
			b.ReportMetric(float64(n), "proposals")
		})
	}
}
