package coco

import (
	"bytes"
	"context"
	"fmt"
	"testing"
)

// benchSizes sweeps the image count at the per-image density.
func benchSizes() []synthSpec {
	small := benchSpec()
	small.images = 500
	return []synthSpec{small, benchSpec()}
}

// BenchmarkEvaluateFiles times what `pipeline coco-eval` does: decode both
// JSON files, evaluate, accumulate, summarise. Compare with
// testdata/bench_pycocotools.py on the same data (TestWriteBenchData).
func BenchmarkEvaluateFiles(b *testing.B) { benchEvaluateFiles(b, synthJSON, BBox) }

// BenchmarkEvaluateFilesSegm is BenchmarkEvaluateFiles for masks: ground
// truth polygons rasterised on load, results as compressed RLE with boxes.
// Compare with `bench_pycocotools.py DIR segm` (TestWriteSegmBenchData).
func BenchmarkEvaluateFilesSegm(b *testing.B) { benchEvaluateFiles(b, synthMaskJSON, Segm) }

// benchEvaluateFiles times EvaluateFiles of iou type t on the files synth
// makes at each bench size, reporting CPU seconds beside wall time.
func benchEvaluateFiles(b *testing.B, synth func(synthSpec) (gt, res []byte, err error), t IoUType) {
	for _, s := range benchSizes() {
		b.Run(fmt.Sprintf("images=%d", s.images), func(b *testing.B) {
			gt, res, err := synth(s)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(gt) + len(res)))
			b.ResetTimer()
			cpu := processCPUTime()
			for b.Loop() {
				if _, err := EvaluateFiles(context.Background(), bytes.NewReader(gt), bytes.NewReader(res), t); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((processCPUTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// BenchmarkEvaluate times evaluate + accumulate on data already in memory
// (pycocotools' evaluate() + accumulate()).
func BenchmarkEvaluate(b *testing.B) {
	for _, s := range benchSizes() {
		for _, kind := range IoUTypes() {
			b.Run(fmt.Sprintf("images=%d/%s", s.images, kind), func(b *testing.B) {
				ds, dets, err := synthData(s)
				if kind == Segm {
					ds, dets, _, err = synthMaskData(s)
				}
				if err != nil {
					b.Fatal(err)
				}
				p := mustParams(kind)
				b.ResetTimer()
				for b.Loop() {
					if _, err := Evaluate(context.Background(), ds, dets, p); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkLoad times decoding alone (pycocotools' COCO() + loadRes()).
func BenchmarkLoad(b *testing.B) {
	gt, res, err := synthJSON(benchSpec())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("instances", func(b *testing.B) {
		b.SetBytes(int64(len(gt)))
		for b.Loop() {
			if _, err := LoadDataset(context.Background(), bytes.NewReader(gt)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("results", func(b *testing.B) {
		b.SetBytes(int64(len(res)))
		for b.Loop() {
			if _, err := ReadResults(context.Background(), bytes.NewReader(res)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkEvaluateProposals times proposal recall at RPN scale: 1,000
// proposals per image.
func BenchmarkEvaluateProposals(b *testing.B) {
	s := benchSpec()
	s.images, s.detsPerImage = 1000, 1000
	ds, dets, err := synthData(s)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := Evaluate(context.Background(), ds, dets, mustParams(Proposal)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMaskIoUs times segm's computeIoU, the cost centre of mask
// evaluation, on one image's worth of masks: 100 detections decoded from
// their strings against 7 objects. It should not allocate once warm.
func BenchmarkMaskIoUs(b *testing.B) {
	s := synthSpec{images: 1, cats: 1, gtPerImage: 7, detsPerImage: 100, seed: 9}
	ds, dets, _, err := synthMaskData(s)
	if err != nil {
		b.Fatal(err)
	}
	gts := make([]gtObject, len(ds.Annotations))
	for i := range ds.Annotations {
		a := &ds.Annotations[i]
		gts[i] = gtObject{id: a.ID, mask: a.Segmentation, maskBox: a.Segmentation.BBox(), crowd: a.IsCrowd}
	}
	ious := make([]float64, len(dets)*len(gts))
	b.ReportAllocs()
	for b.Loop() {
		if err := maskIoUs(imageSize{synthH, synthW}, dets, gts, ious); err != nil {
			b.Fatal(err)
		}
	}
}
