package selsearch

import (
	"image"
	"image/color"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// scene draws coloured rectangles (boxes xyxy, ends exclusive) on a noisy
// grey background.
func scene(w, h int, seed uint64, rects [][4]int, colours []color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(seed, 1))
	for y := range h {
		for x := range w {
			v := uint8(110 + rng.IntN(20))
			img.SetRGBA(x, y, color.RGBA{v, v, v + 5, 255})
		}
	}
	for i, r := range rects {
		c := colours[i%len(colours)]
		for y := r[1]; y < r[3]; y++ {
			for x := r[0]; x < r[2]; x++ {
				j := int8(rng.IntN(9) - 4)
				img.SetRGBA(x, y, color.RGBA{add(c.R, j), add(c.G, j), add(c.B, j), 255})
			}
		}
	}
	return img
}

func add(v uint8, d int8) uint8 { return uint8(min(max(int(v)+int(d), 0), 255)) }

func iou(a [4]float32, b [4]int) float64 {
	ix := min(float64(a[2]), float64(b[2])) - max(float64(a[0]), float64(b[0]))
	iy := min(float64(a[3]), float64(b[3])) - max(float64(a[1]), float64(b[1]))
	if ix <= 0 || iy <= 0 {
		return 0
	}
	inter := ix * iy
	ua := float64((a[2]-a[0])*(a[3]-a[1])) + float64((b[2]-b[0])*(b[3]-b[1])) - inter
	return inter / ua
}

var testColours = []color.RGBA{{200, 40, 40, 255}, {40, 180, 60, 255}, {30, 60, 210, 255}, {230, 210, 40, 255}, {150, 40, 170, 255}}

func TestSearchFindsRectangles(t *testing.T) {
	rects := [][4]int{{10, 12, 60, 50}, {90, 20, 150, 90}, {30, 70, 70, 110}, {120, 100, 140, 115}, {70, 5, 85, 20}}
	img := scene(160, 120, 7, rects, testColours)
	for _, mode := range []Mode{Fast, Quality} {
		t.Run(string(mode), func(t *testing.T) {
			opts := DefaultOptions()
			opts.Mode = mode
			props, err := Search(img, opts)
			if err != nil {
				t.Fatal(err)
			}
			found := 0
			for _, r := range rects {
				best := 0.0
				for _, p := range props {
					best = max(best, iou(p.Box, r))
				}
				if best >= 0.7 {
					found++
				} else {
					t.Logf("rectangle %v: best IoU %.2f", r, best)
				}
			}
			if found < len(rects) {
				t.Errorf("%s: %d of %d rectangles found at IoU 0.7 among %d proposals", mode, found, len(rects), len(props))
			}
		})
	}
}

func TestSearchOutputIsRankedUniqueAndInside(t *testing.T) {
	img := scene(96, 64, 3, [][4]int{{10, 10, 40, 40}, {50, 20, 90, 60}}, testColours)
	props, err := Search(img, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(props) < 3 {
		t.Fatalf("only %d proposals", len(props))
	}
	seen := map[[4]float32]bool{}
	for i, p := range props {
		b := p.Box
		if b[0] < 0 || b[1] < 0 || b[2] > 96 || b[3] > 64 || b[2] <= b[0] || b[3] <= b[1] {
			t.Errorf("proposal %d box %v outside the 96x64 image or empty", i, b)
		}
		if seen[b] {
			t.Errorf("proposal %d box %v is a duplicate", i, b)
		}
		seen[b] = true
		if i > 0 && p.Score > props[i-1].Score {
			t.Errorf("proposal %d score %v above its predecessor's %v", i, p.Score, props[i-1].Score)
		}
	}
	if !seen[[4]float32{0, 0, 96, 64}] {
		t.Errorf("the whole-image region (the top of every hierarchy) is missing")
	}
}

func TestSearchIsDeterministicPerSeed(t *testing.T) {
	img := scene(64, 48, 5, [][4]int{{5, 5, 30, 30}}, testColours)
	opts := DefaultOptions()
	a, _ := Search(img, opts)
	b, _ := Search(img, opts)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two runs with the same seed differ")
	}
	opts.Seed = 99
	c, _ := Search(img, opts)
	if reflect.DeepEqual(a, c) {
		t.Error("another seed gave the same ranking")
	}
	if len(a) != len(c) {
		t.Errorf("the seed changed the set of boxes: %d vs %d", len(a), len(c))
	}
}

func TestSearchRejectsBadOptions(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	tests := []struct {
		mutate func(*Options)
		want   string
	}{
		{func(o *Options) { o.Mode = "slow" }, `mode "slow"`},
		{func(o *Options) { o.BaseK = 0 }, "base_k 0"},
		{func(o *Options) { o.IncK = -1 }, "inc_k -1"},
		{func(o *Options) { o.Sigma = -0.5 }, "sigma -0.5"},
		{func(o *Options) { o.MinRegion = -1 }, "min region -1"},
	}
	for _, tt := range tests {
		o := DefaultOptions()
		tt.mutate(&o)
		_, err := Search(img, o)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error %v, want one containing %q", err, tt.want)
		}
	}
	if _, err := Search(image.NewRGBA(image.Rect(0, 0, 0, 5)), DefaultOptions()); err == nil {
		t.Error("empty image accepted")
	}
}

func TestSearchTinyImages(t *testing.T) {
	for _, size := range [][2]int{{1, 1}, {3, 1}, {1, 4}, {2, 2}} {
		img := scene(size[0], size[1], 1, nil, testColours)
		props, err := Search(img, DefaultOptions())
		if err != nil {
			t.Fatalf("%v: %v", size, err)
		}
		whole := [4]float32{0, 0, float32(size[0]), float32(size[1])}
		found := false
		for _, p := range props {
			found = found || p.Box == whole
		}
		if !found {
			t.Errorf("%v: proposals %v lack the whole image", size, props)
		}
	}
}
