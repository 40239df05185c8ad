package reporttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"testing"
	"time"

	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/storage"
)

// Runs WriteEvaluated and WriteEvaluatedMasks write.
const (
	EvaluatedRun      = "tiny_evaluated"
	EvaluatedMasksRun = "tiny_evaluated_masks"
)

// Size of EvaluatedRun's images: small, so that golden pictures stay small.
const (
	EvaluatedWidth  = 64
	EvaluatedHeight = 48
)

// evaluatedObject is one ground-truth object of the fixture, drawn into
// its image as a filled rectangle.
type evaluatedObject struct {
	image    int64
	category int64
	box      [4]float64
	crowd    bool
}

var evaluatedObjects = []evaluatedObject{
	{1, 1, [4]float64{4, 6, 20, 16}, false},
	{1, 2, [4]float64{34, 20, 24, 22}, false},
	{2, 1, [4]float64{10, 10, 30, 30}, false},
	{3, 2, [4]float64{2, 2, 12, 12}, false},
	{3, 1, [4]float64{30, 8, 28, 30}, true},
}

// EvaluatedDetections are the fixture's bbox results: image 1 found
// well, image 2's circle taken for a square, image 3's square missed.
var EvaluatedDetections = []map[string]any{
	{"image_id": 1, "category_id": 1, "bbox": []float64{4, 6, 20, 16}, "score": 0.95},
	{"image_id": 1, "category_id": 2, "bbox": []float64{35, 21, 23, 21}, "score": 0.9},
	{"image_id": 1, "category_id": 2, "bbox": []float64{5, 7, 18, 14}, "score": 0.2},
	{"image_id": 2, "category_id": 2, "bbox": []float64{11, 10, 29, 30}, "score": 0.8},
	{"image_id": 3, "category_id": 1, "bbox": []float64{40, 30, 10, 10}, "score": 0.6},
}

// WriteEvaluated writes a run with a published dataset stage (three PNG
// images of EvaluatedWidth x EvaluatedHeight, categories circle and square
// of supercategory shape, a crowd region in image 3), a train stage with a
// train log, and an evaluate stage with results.bbox.json
// (EvaluatedDetections) and bbox metrics.
func WriteEvaluated(t testing.TB, fsys *storage.FS, workdir string) {
	t.Helper()
	writeEvaluated(t, fsys, workdir, EvaluatedRun, false)
}

// WriteEvaluatedMasks writes the run of WriteEvaluated with masks: the
// ground truth has polygons (each object's box) and the evaluate stage
// wrote results.segm.json too, each detection's mask its box.
func WriteEvaluatedMasks(t testing.TB, fsys *storage.FS, workdir string) {
	t.Helper()
	writeEvaluated(t, fsys, workdir, EvaluatedMasksRun, true)
}

func writeEvaluated(t testing.TB, fsys *storage.FS, workdir, name string, masks bool) {
	files := map[string][]byte{
		"dataset.json": mustJSON(t, map[string]any{"source": "synthetic", "splits": []map[string]any{
			{"name": "val", "annotations": "annotations/instances_val.json", "image_root": "val", "images": 3}}}),
		"annotations/instances_val.json": mustJSON(t, evaluatedInstances(masks)),
	}
	for id := int64(1); id <= 3; id++ {
		files[fmt.Sprintf("val/%06d.png", id)] = evaluatedImage(t, id)
	}
	results := map[string][]byte{"results.bbox.json": mustJSON(t, EvaluatedDetections)}
	if masks {
		results["results.segm.json"] = mustJSON(t, segmResults())
	}
	WriteRun(t, fsys, workdir, Run{
		Name: name, Pipeline: "fast_rcnn_with_proposals", Config: "fast_rcnn_tiny_synth",
		Sets: []string{"train.epochs=2"},
		Stages: []Stage{
			{Name: "dataset", Extra: files},
			{Name: "train", TrainLog: TrainLog(name, 2, 2, 10)},
			{Name: "evaluate", Metrics: BBoxRows(name, "epoch_2.safetensors", 0.4, Epoch.Add(time.Hour)), Extra: results},
		},
	})
}

// segmResults are EvaluatedDetections with their boxes as masks.
func segmResults() []map[string]any {
	var out []map[string]any
	for _, d := range EvaluatedDetections {
		b := d["bbox"].([]float64)
		m := make([]byte, EvaluatedWidth*EvaluatedHeight)
		for x := int(b[0]); x < int(b[0]+b[2]); x++ {
			for y := int(b[1]); y < int(b[1]+b[3]); y++ {
				m[x*EvaluatedHeight+y] = 1
			}
		}
		rle := coco.EncodeMask(m, EvaluatedHeight, EvaluatedWidth).Compress()
		row := map[string]any{"segmentation": map[string]any{"size": []int{rle.H, rle.W}, "counts": rle.Counts}}
		for k, v := range d {
			row[k] = v
		}
		out = append(out, row)
	}
	return out
}

func evaluatedInstances(masks bool) map[string]any {
	var images, anns []map[string]any
	for id := int64(1); id <= 3; id++ {
		images = append(images, map[string]any{"id": id, "width": EvaluatedWidth, "height": EvaluatedHeight,
			"file_name": fmt.Sprintf("%06d.png", id)})
	}
	for i, o := range evaluatedObjects {
		a := map[string]any{"id": i + 1, "image_id": o.image, "category_id": o.category,
			"bbox": o.box, "area": o.box[2] * o.box[3], "iscrowd": map[bool]int{false: 0, true: 1}[o.crowd]}
		if masks {
			x0, y0, x1, y1 := o.box[0], o.box[1], o.box[0]+o.box[2], o.box[1]+o.box[3]
			a["segmentation"] = [][]float64{{x0, y0, x1, y0, x1, y1, x0, y1}}
		}
		anns = append(anns, a)
	}
	return map[string]any{"images": images, "annotations": anns, "categories": []map[string]any{
		{"id": 1, "name": "circle", "supercategory": "shape"}, {"id": 2, "name": "square", "supercategory": "shape"}}}
}

// evaluatedImage is image id: a dark background with its objects as
// lighter rectangles.
func evaluatedImage(t testing.TB, id int64) []byte {
	img := image.NewRGBA(image.Rect(0, 0, EvaluatedWidth, EvaluatedHeight))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{40, 44, 52, 255}), image.Point{}, draw.Src)
	for _, o := range evaluatedObjects {
		if o.image != id {
			continue
		}
		r := image.Rect(int(o.box[0]), int(o.box[1]), int(o.box[0]+o.box[2]), int(o.box[1]+o.box[3]))
		draw.Draw(img, r, image.NewUniform(color.RGBA{150, 160, 170, 255}), image.Point{}, draw.Src)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mustJSON(t testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
