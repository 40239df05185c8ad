package evaluate

import (
	"github.com/detflow/detflow/batch"
	"math/rand/v2"
	"testing"

	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/detection"
)

// BenchmarkImageOverhead measures what a worker adds per image besides the
// model: converting 100 detections, COCO matching, and encoding the
// ImageEval for the combine, on a synthetic 640x480 image with 10 objects
// of 5 categories.
func BenchmarkImageOverhead(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var anns []coco.Annotation
	for i := range 10 {
		box := coco.Box{rng.Float64() * 500, rng.Float64() * 350, 20 + rng.Float64()*100, 20 + rng.Float64()*100}
		anns = append(anns, coco.Annotation{ID: int64(i + 1), ImageID: 1, CategoryID: int64(i%5 + 1), BBox: box, Area: box.Area()})
	}
	var cats []coco.Category
	labels := map[int32]int64{}
	for k := range 5 {
		cats = append(cats, coco.Category{ID: int64(k + 1), Name: string(rune('a' + k))})
		labels[int32(k)] = int64(k + 1)
	}
	gt, err := coco.NewDataset([]coco.Image{{ID: 1, Width: 640, Height: 480}}, anns, cats)
	if err != nil {
		b.Fatal(err)
	}
	p, err := params("bbox", nil)
	if err != nil {
		b.Fatal(err)
	}
	ev, err := coco.NewEvaluator(gt, p)
	if err != nil {
		b.Fatal(err)
	}
	var d detection.Detections
	for i := range 100 {
		x, y := rng.Float32()*560, rng.Float32()*400
		d.Boxes = append(d.Boxes, x, y, x+10+rng.Float32()*70, y+10+rng.Float32()*70)
		d.Scores = append(d.Scores, rng.Float32())
		d.Labels = append(d.Labels, int32(i%5))
	}
	b.ResetTimer()
	for b.Loop() {
		dets, _, err := convert(&batch.Item{ImageID: 1, OrigW: 640, OrigH: 480}, &d, "bbox", labels)
		if err != nil {
			b.Fatal(err)
		}
		ie, err := ev.EvaluateImage(1, dets)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := encodeImageEval(imageEval{Kind: "bbox", Eval: ie}); err != nil {
			b.Fatal(err)
		}
	}
}
