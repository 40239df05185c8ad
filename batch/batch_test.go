package batch

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/tensor"
)

func TestTargetSizeMatchesMMDetectionRescale(t *testing.T) {
	o := Options{Scale: [2]int{1333, 800}, KeepRatio: true}
	tests := []struct{ w, h, nw, nh int }{
		{640, 480, 1067, 800},
		{480, 640, 800, 1067},
		{1333, 800, 1333, 800},
		{2000, 500, 1333, 333},
		{320, 240, 1067, 800},
	}
	for _, tt := range tests {
		if nw, nh := o.targetSize(tt.w, tt.h); nw != tt.nw || nh != tt.nh {
			t.Errorf("targetSize(%d,%d) = %dx%d, want %dx%d", tt.w, tt.h, nw, nh, tt.nw, tt.nh)
		}
	}
}

func TestResizeMatchesTorchBilinear(t *testing.T) {
	b, err := os.ReadFile("testdata/resize.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		SrcH  int `json:"src_h"`
		SrcW  int `json:"src_w"`
		Src   []float32
		Cases []struct {
			H, W int
			Out  []float32
		}
	}
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	for _, c := range fx.Cases {
		got := resizeBilinear(fx.Src, fx.SrcW, fx.SrcH, c.W, c.H)
		for i := range got {
			if math.Abs(float64(got[i]-c.Out[i])) > 1e-3 {
				t.Fatalf("%dx%d: value %d = %v, torch %v", c.W, c.H, i, got[i], c.Out[i])
			}
		}
	}
}

// pngRecord makes a record of a w x h image whose pixel (x,y) has red x,
// green y and blue 7.
func pngRecord(t *testing.T, w, h int) *schemas.Record {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 7, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return &schemas.Record{ImageID: 1, FileName: "a.png", Width: int32(w), Height: int32(h), Image: buf.Bytes(),
		GTBoxes: []float32{1, 2, 5, 6}, GTLabels: []int32{3}, GTCrowd: []bool{false},
		ProposalBoxes: []float32{0, 0, 10, 8}, ProposalScores: []float32{0.5}}
}

func TestPrepareNormalisesFlipsAndMovesBoxes(t *testing.T) {
	rec := pngRecord(t, 10, 8)
	o := Options{Scale: [2]int{10, 8}, KeepRatio: true, FlipRatio: 1, Mean: [3]float32{1, 2, 3}, Std: [3]float32{2, 2, 2}, ToRGB: true}
	it, err := Prepare(rec, o, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if it.W != 10 || it.H != 8 || it.Flipped {
		t.Fatalf("inference item %dx%d flipped %v", it.W, it.H, it.Flipped)
	}
	// red at (x=4,y=3) is 4: (4-1)/2; blue is (7-3)/2.
	if got := it.Pixels[0*80+3*10+4]; got != 1.5 {
		t.Errorf("red(4,3) = %v, want 1.5", got)
	}
	if got := it.Pixels[2*80+3*10+4]; got != 2 {
		t.Errorf("blue(4,3) = %v, want 2", got)
	}
	fl, err := Prepare(rec, o, true, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if !fl.Flipped || fl.Pixels[3*10+(9-4)] != it.Pixels[3*10+4] {
		t.Errorf("flip: flipped %v, mirrored pixel %v vs %v", fl.Flipped, fl.Pixels[3*10+5], it.Pixels[3*10+4])
	}
	if want := []float32{5, 2, 9, 6}; !equal(fl.GTBoxes, want) {
		t.Errorf("flipped box %v, want %v", fl.GTBoxes, want)
	}
	o.ToRGB = false
	bgr, _ := Prepare(rec, o, false, nil)
	if got := bgr.Pixels[0*80+3*10+4]; got != (7-1)/2.0 {
		t.Errorf("BGR first plane is blue: got %v", got)
	}
	o.Scale = [2]int{20, 16}
	big, _ := Prepare(rec, o, false, nil)
	if big.W != 20 || big.H != 16 || !equal(big.GTBoxes, []float32{2, 4, 10, 12}) || !equal(big.Proposals, []float32{0, 0, 20, 16}) {
		t.Errorf("x2 resize: %dx%d boxes %v proposals %v", big.W, big.H, big.GTBoxes, big.Proposals)
	}
}

func TestPrepareRejectsSizeMismatchAndGarbage(t *testing.T) {
	rec := pngRecord(t, 10, 8)
	rec.Width = 11
	if _, err := Prepare(rec, Options{Scale: [2]int{10, 8}, KeepRatio: true, Std: [3]float32{1, 1, 1}}, false, nil); err == nil || !strings.Contains(err.Error(), "record says 11x8") {
		t.Errorf("size mismatch: %v", err)
	}
	rec.Image = []byte("not an image")
	if _, err := Prepare(rec, Options{}, false, nil); err == nil || !strings.Contains(err.Error(), "a.png") {
		t.Errorf("garbage: %v", err)
	}
}

func TestCollatePadsToDivisor(t *testing.T) {
	e := tensor.NewEngine(tensor.NewCPU(1))
	a := &Item{W: 3, H: 2, Pixels: make([]float32, 3*6)}
	b := &Item{W: 5, H: 1, Pixels: make([]float32, 3*5)}
	for i := range a.Pixels {
		a.Pixels[i] = 1
	}
	bt := Collate(e, []*Item{a, b}, 4)
	if s := bt.Images.Shape(); s[0] != 2 || s[1] != 3 || s[2] != 4 || s[3] != 8 {
		t.Fatalf("shape %v, want [2 3 4 8]", s)
	}
	d := bt.Images.Data()
	if d[0] != 1 || d[2] != 1 || d[3] != 0 || d[8] != 1 || d[16] != 0 {
		t.Errorf("padding misplaced: %v", d[:24])
	}
}

// TestFloorSizeMatchesTorchvisionResize: torchvision floors (640x480 ->
// 1066x800) where MMDetection rounds.
func TestFloorSizeMatchesTorchvisionResize(t *testing.T) {
	o := Options{Scale: [2]int{1333, 800}, KeepRatio: true, FloorSize: true}
	for _, tt := range []struct{ w, h, nw, nh int }{{640, 480, 1066, 800}, {480, 640, 800, 1066}, {1333, 800, 1333, 800}, {2000, 500, 1333, 333}, {150, 103, 1165, 799}} {
		if nw, nh := o.targetSize(tt.w, tt.h); nw != tt.nw || nh != tt.nh {
			t.Errorf("targetSize(%d,%d) = %dx%d, want %dx%d", tt.w, tt.h, nw, nh, tt.nw, tt.nh)
		}
	}
}

func TestFromConfig(t *testing.T) {
	cfg, err := configs.Load(configs.Default, nil)
	if err != nil {
		t.Fatal(err)
	}
	o, err := FromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if o.Scale[0] == 0 || o.Std[0] == 0 {
		t.Errorf("options %+v", o)
	}
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-5 {
			return false
		}
	}
	return true
}
