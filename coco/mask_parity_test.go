package coco

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// maskGolden is one row of testdata/parity/masks.golden.json: what
// pycocotools' frPoly, area, toBbox, merge and iou gave for polygon i and,
// rasterised at its size, polygon i+1.
type maskGolden struct {
	RLE          wireGoldenRLE `json:"rle"`
	Area         uint32        `json:"area"`
	BBox         Box           `json:"bbox"`
	Next         wireGoldenRLE `json:"next"`
	Union        wireGoldenRLE `json:"union"`
	Intersection wireGoldenRLE `json:"intersection"`
	IoU          []float64     `json:"iou"` // crowd 0, crowd 1
}

type wireGoldenRLE struct {
	Size   [2]int `json:"size"`
	Counts string `json:"counts"`
}

func TestMaskPrimitivesMatchPycocotools(t *testing.T) {
	var in struct {
		Polygons []struct {
			H, W    int
			Polygon []float64
		}
	}
	readJSON(t, "masks.json", &in)
	var golden []maskGolden
	readJSON(t, "masks.golden.json", &golden)
	if len(golden) != len(in.Polygons) {
		t.Fatalf("%d goldens for %d polygons", len(golden), len(in.Polygons))
	}
	for i, p := range in.Polygons {
		g := golden[i]
		q := in.Polygons[(i+1)%len(in.Polygons)]
		r := PolygonToRLE(p.Polygon, p.H, p.W)
		next := PolygonToRLE(q.Polygon, p.H, p.W)
		checkRLE(t, i, "frPoly", r, g.RLE)
		checkRLE(t, i, "frPoly(next)", next, g.Next)
		checkRLE(t, i, "merge", MergeRLEs([]RLE{r, next}, false), g.Union)
		checkRLE(t, i, "merge(intersect)", MergeRLEs([]RLE{r, next}, true), g.Intersection)
		if r.Area() != g.Area || r.BBox() != g.BBox {
			t.Errorf("polygon %d: area %d bbox %v, pycocotools %d %v", i, r.Area(), r.BBox(), g.Area, g.BBox)
		}
		for k, crowd := range []bool{false, true} {
			if got := MaskIoU(r, next, crowd); got != g.IoU[k] {
				t.Errorf("polygon %d: iou(crowd=%v) = %.17g, pycocotools %.17g", i, crowd, got, g.IoU[k])
			}
		}
	}
}

func checkRLE(t *testing.T, i int, what string, got RLE, want wireGoldenRLE) {
	t.Helper()
	if got.H != want.Size[0] || got.W != want.Size[1] || got.String() != want.Counts {
		t.Errorf("polygon %d: %s = %dx%d %q, pycocotools %v %q", i, what, got.H, got.W, got.String(), want.Size, want.Counts)
		return
	}
	back, err := ParseRLEString(want.Counts, want.Size[0], want.Size[1])
	if err != nil || !slices.Equal(back.Counts, got.Counts) {
		t.Errorf("polygon %d: %s: parse %q: %v, counts %v want %v", i, what, want.Counts, err, back.Counts, got.Counts)
	}
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "parity", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
}
