package coco

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// Synthetic images are 640x480, as synthData's boxes assume.
const synthH, synthW = 480, 640

// ellipsePolygon is a 12-vertex outline inscribed in b, radii jittered so
// masks are not plain ellipses.
func ellipsePolygon(rng *rand.Rand, b Box) []float64 {
	cx, cy := b[0]+b[2]/2, b[1]+b[3]/2
	p := make([]float64, 0, 24)
	for k := range 12 {
		a := 2 * math.Pi * float64(k) / 12
		r := 0.8 + 0.2*rng.Float64()
		p = append(p, round2(cx+r*b[2]/2*math.Cos(a)), round2(cy+r*b[3]/2*math.Sin(a)))
	}
	return p
}

// synthMaskData is synthData with masks: every object and detection is
// the polygon of its box's jittered ellipse, rasterised at image size.
// Detections keep their boxes (as MMDetection's segm files do), so their
// area is w*h. It also returns the ground truth's polygons by annotation.
func synthMaskData(s synthSpec) (*Dataset, []Detection, [][]float64, error) {
	ds, dets, err := synthData(s)
	if err != nil {
		return nil, nil, nil, err
	}
	rng := rand.New(rand.NewPCG(s.seed, 16))
	polys := make([][]float64, len(ds.Annotations))
	for i := range ds.Annotations {
		polys[i] = ellipsePolygon(rng, ds.Annotations[i].BBox)
		r := PolygonToRLE(polys[i], synthH, synthW)
		ds.Annotations[i].Segmentation = &r
	}
	for i := range dets {
		dets[i].Segmentation = PolygonToRLE(ellipsePolygon(rng, dets[i].BBox), synthH, synthW).Compress()
	}
	return ds, dets, polys, nil
}

// synthMaskJSON renders synthMaskData as files pycocotools reads: ground
// truth with polygons (as COCO's own), results with compressed RLE.
func synthMaskJSON(s synthSpec) (gt, res []byte, err error) {
	ds, dets, polys, err := synthMaskData(s)
	if err != nil {
		return nil, nil, err
	}
	type ann struct {
		ID           int64       `json:"id"`
		ImageID      int64       `json:"image_id"`
		CategoryID   int64       `json:"category_id"`
		BBox         Box         `json:"bbox"`
		Area         float64     `json:"area"`
		IsCrowd      int         `json:"iscrowd"`
		Segmentation [][]float64 `json:"segmentation"`
	}
	anns := make([]ann, len(ds.Annotations))
	for i, a := range ds.Annotations {
		crowd := 0
		if a.IsCrowd {
			crowd = 1
		}
		anns[i] = ann{a.ID, a.ImageID, a.CategoryID, a.BBox, a.Area, crowd, [][]float64{polys[i]}}
	}
	gt, err = json.Marshal(map[string]any{"images": ds.Images, "annotations": anns, "categories": ds.Categories})
	if err != nil {
		return nil, nil, err
	}
	var r bytes.Buffer
	if err := WriteResults(context.Background(), &r, dets); err != nil {
		return nil, nil, err
	}
	return gt, r.Bytes(), nil
}

// TestWriteSegmBenchData writes the segm benchmark data as segm_gt.json
// and segm_res.json into $COCO_BENCH_DIR for bench_pycocotools.py.
func TestWriteSegmBenchData(t *testing.T) {
	dir := os.Getenv("COCO_BENCH_DIR")
	if dir == "" {
		t.Skip("COCO_BENCH_DIR not set; nothing to write")
	}
	gt, res, err := synthMaskJSON(benchSpec())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "segm_gt.json"), gt, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "segm_res.json"), res, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSegmBenchDataParity compares the Go segm stats on the benchmark data
// with $COCO_BENCH_DIR/pycocotools_segm_stats.json, when it exists.
func TestSegmBenchDataParity(t *testing.T) {
	dir := os.Getenv("COCO_BENCH_DIR")
	b, err := os.ReadFile(filepath.Join(dir, "pycocotools_segm_stats.json"))
	if dir == "" || err != nil {
		t.Skip("no $COCO_BENCH_DIR/pycocotools_segm_stats.json; run testdata/bench_pycocotools.py DIR segm first")
	}
	var want struct {
		Stats []float64 `json:"stats"`
	}
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	gt, err := os.ReadFile(filepath.Join(dir, "segm_gt.json"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := os.ReadFile(filepath.Join(dir, "segm_res.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := EvaluateFiles(context.Background(), bytes.NewReader(gt), bytes.NewReader(res), Segm)
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "stats", got.Stats, want.Stats, 0)
}

// TestSynthMasksMatchTheirJSON: the in-memory masks are what the ground
// truth file's polygons load to, so benchmarks of either agree.
func TestSynthMasksMatchTheirJSON(t *testing.T) {
	s := synthSpec{images: 10, cats: 5, gtPerImage: 7, detsPerImage: 20, seed: 5}
	ds, dets, _, err := synthMaskData(s)
	if err != nil {
		t.Fatal(err)
	}
	gt, res, err := synthMaskJSON(s)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Evaluate(context.Background(), ds, dets, mustParams(Segm))
	if err != nil {
		t.Fatal(err)
	}
	got, err := EvaluateFiles(context.Background(), bytes.NewReader(gt), bytes.NewReader(res), Segm)
	if err != nil {
		t.Fatal(err)
	}
	checkClose(t, "stats", got.Stats, want.Stats, 0)
	if want.Stats[0] <= 0 {
		t.Errorf("segm mAP %v on synthetic data: masks do not overlap", want.Stats[0])
	}
}
