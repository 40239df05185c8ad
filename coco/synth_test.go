package coco

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// synthSpec sizes the deterministic synthetic benchmark data.
type synthSpec struct {
	images, cats, gtPerImage, detsPerImage int
	seed                                   uint64
}

// benchSpec is the benchmark size: 5,000 images, 80 categories,
// about 7 ground truths and 100 detections per image.
func benchSpec() synthSpec {
	return synthSpec{images: 5000, cats: 80, gtPerImage: 7, detsPerImage: 100, seed: 1}
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// synthData builds a COCO-like data set: log-uniform box sizes (all three
// area ranges), 1% crowds, and per image detsPerImage detections of which
// about three per object are jittered copies (mostly the right category) and
// the rest random boxes; scores have three decimals, so ties occur.
func synthData(s synthSpec) (*Dataset, []Detection, error) {
	rng := rand.New(rand.NewPCG(s.seed, 2026))
	cats := make([]Category, s.cats)
	for c := range cats {
		cats[c] = Category{ID: int64(c + 1), Name: fmt.Sprintf("class%02d", c+1)}
	}
	randBox := func() Box {
		w := math.Exp(math.Log(4) + rng.Float64()*math.Log(500.0/4))
		h := w * math.Exp((rng.Float64()-0.5)*1.2)
		return Box{round2(rng.Float64() * (640 - min(w, 600))), round2(rng.Float64() * (480 - min(h, 440))), round2(w), round2(h)}
	}
	var images []Image
	var anns []Annotation
	var dets []Detection
	for i := range s.images {
		img := Image{ID: int64(i + 1), Width: 640, Height: 480, FileName: fmt.Sprintf("%012d.jpg", i+1)}
		images = append(images, img)
		n := s.gtPerImage - 4 + rng.IntN(9)
		var nd int
		for range n {
			b := randBox()
			a := Annotation{ID: int64(len(anns) + 1), ImageID: img.ID, CategoryID: int64(1 + rng.IntN(s.cats)),
				BBox: b, Area: round2(b.Area() * (0.6 + 0.3*rng.Float64())), IsCrowd: rng.Float64() < 0.01}
			anns = append(anns, a)
			for range 3 {
				if nd == s.detsPerImage {
					break
				}
				cat := a.CategoryID
				if rng.Float64() < 0.2 {
					cat = int64(1 + rng.IntN(s.cats))
				}
				j := Box{round2(b[0] + rng.NormFloat64()*0.1*b[2]), round2(b[1] + rng.NormFloat64()*0.1*b[3]),
					round2(b[2] * math.Exp(rng.NormFloat64()*0.15)), round2(b[3] * math.Exp(rng.NormFloat64()*0.15))}
				dets = append(dets, Detection{ImageID: img.ID, CategoryID: cat, BBox: j, Score: math.Round(500+rng.Float64()*500) / 1000})
				nd++
			}
		}
		for ; nd < s.detsPerImage; nd++ {
			dets = append(dets, Detection{ImageID: img.ID, CategoryID: int64(1 + rng.IntN(s.cats)), BBox: randBox(),
				Score: math.Round(rng.Float64()*700) / 1000})
		}
	}
	for i := range dets {
		dets[i].ID = int64(i + 1)
		dets[i].Area = dets[i].BBox.Area()
	}
	ds, err := NewDataset(images, anns, cats)
	return ds, dets, err
}

// synthJSON renders synthetic data as instances and results JSON.
func synthJSON(s synthSpec) (gt, res []byte, err error) {
	ds, dets, err := synthData(s)
	if err != nil {
		return nil, nil, err
	}
	var g, r bytes.Buffer
	if err := WriteDataset(context.Background(), &g, ds); err != nil {
		return nil, nil, err
	}
	if err := WriteResults(context.Background(), &r, dets); err != nil {
		return nil, nil, err
	}
	return g.Bytes(), r.Bytes(), nil
}

// TestWriteBenchData writes the benchmark data set as gt.json and res.json
// into $COCO_BENCH_DIR for testdata/bench_pycocotools.py. It does nothing
// unless that variable is set.
func TestWriteBenchData(t *testing.T) {
	dir := os.Getenv("COCO_BENCH_DIR")
	if dir == "" {
		t.Skip("COCO_BENCH_DIR not set; nothing to write")
	}
	gt, res, err := synthJSON(benchSpec())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gt.json"), gt, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "res.json"), res, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSynthDataIsDeterministic(t *testing.T) {
	small := synthSpec{images: 20, cats: 5, gtPerImage: 7, detsPerImage: 100, seed: 3}
	g1, r1, err := synthJSON(small)
	if err != nil {
		t.Fatal(err)
	}
	g2, r2, err := synthJSON(small)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(g1, g2) || !bytes.Equal(r1, r2) {
		t.Fatal("same seed gave different data")
	}
	ds, dets, err := synthData(small)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Images) != 20 || len(dets) != 20*100 {
		t.Fatalf("got %d images and %d detections, want 20 and 2000", len(ds.Images), len(dets))
	}
}

// TestBenchDataParity compares the Go stats on the benchmark data with the
// ones bench_pycocotools.py recorded in $COCO_BENCH_DIR/pycocotools_stats.json.
// It does nothing unless that file exists.
func TestBenchDataParity(t *testing.T) {
	dir := os.Getenv("COCO_BENCH_DIR")
	b, err := os.ReadFile(filepath.Join(dir, "pycocotools_stats.json"))
	if dir == "" || err != nil {
		t.Skip("no $COCO_BENCH_DIR/pycocotools_stats.json; run testdata/bench_pycocotools.py first")
	}
	var want struct {
		Stats []float64 `json:"stats"`
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	gt, err := os.Open(filepath.Join(dir, "gt.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer gt.Close()
	res, err := os.Open(filepath.Join(dir, "res.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	got, err := EvaluateFiles(context.Background(), gt, res, BBox)
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "stats", got.Stats, want.Stats, parityTol)
}
