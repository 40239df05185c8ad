package reporttest

import (
	"fmt"
	"testing"
	"time"

	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

// Run names of the standard fixture work directory.
const (
	TinyRun   = "fast_rcnn_tiny_synth"
	FasterRun = "faster_rcnn_r50_fpn_1x"
	RPNRun    = "rpn_r50_fpn_1x"
)

// WriteZoo writes the standard fixture work directory: a tiny Fast R-CNN
// run with proposals, train and three evaluated epochs; a Faster R-CNN R-50
// 1x run with train and one evaluation; an RPN R-50 1x run whose evaluation
// measured proposal recall only; and a folder that is not a run.
func WriteZoo(t testing.TB, fsys *storage.FS, workdir string) {
	t.Helper()
	WriteRun(t, fsys, workdir, Run{
		Name: TinyRun, Pipeline: "fast_rcnn_with_proposals", Config: "fast_rcnn_tiny_synth",
		Stages: []Stage{
			{Name: "proposals", Metrics: append(
				RecallRows(TinyRun, "proposals", "train", 0.801, Epoch),
				RecallRows(TinyRun, "proposals", "val", 0.7925, Epoch)...)},
			{Name: "train", TrainLog: TrainLog(TinyRun, 3, 2, 10), Metrics: SpeedRows(TinyRun, 1843, 0.512, 4)},
			{Name: "evaluate", Metrics: append(append(append(
				BBoxRows(TinyRun, "epoch_1.safetensors", 0.052, Epoch.Add(time.Minute)),
				BBoxRows(TinyRun, "epoch_2.safetensors", 0.113, Epoch.Add(2*time.Minute))...),
				BBoxRows(TinyRun, "epoch_3.safetensors", 0.1415, Epoch.Add(3*time.Minute))...),
				schemas.Metric{Run: TinyRun, Stage: "evaluate", Checkpoint: "epoch_3.safetensors", Dataset: "synthetic/val",
					Metric: "inference_images_per_s", Value: 21.25, Created: Epoch.Add(3 * time.Minute)})},
		},
	})
	WriteRun(t, fsys, workdir, Run{
		Name: FasterRun, Pipeline: "faster_rcnn", Config: "faster_rcnn_r50_fpn_1x_coco",
		Stages: []Stage{
			{Name: "train", Metrics: SpeedRows(FasterRun, 5222.4, 0.554, 16)},
			{Name: "evaluate", Metrics: append(BBoxRows(FasterRun, "epoch_12.safetensors", 0.3641, Epoch),
				schemas.Metric{Run: FasterRun, Stage: "evaluate", Dataset: "coco/val2017",
					Metric: "inference_images_per_s", Value: 9.9, Created: Epoch})},
		},
	})
	WriteRun(t, fsys, workdir, Run{
		Name: RPNRun, Pipeline: "rpn", Config: "rpn_r50_fpn_1x_coco",
		Stages: []Stage{
			{Name: "train", Metrics: SpeedRows(RPNRun, 4915.2, 0.407, 16)},
			{Name: "evaluate", Metrics: RecallRows(RPNRun, "evaluate", "coco/val2017", 0.571, Epoch)},
		},
	})
	mustWrite(t, fsys, storage.Join(workdir, "scratch", "notes.txt"), []byte("not a run\n"))
}

// BBoxRows are the 12 COCO bbox stats and two per-category APs of one
// evaluated checkpoint, derived from its mAP.
func BBoxRows(run, checkpoint string, mAP float64, created time.Time) []schemas.Metric {
	names := []string{"bbox_mAP", "bbox_mAP_50", "bbox_mAP_75", "bbox_mAP_s", "bbox_mAP_m", "bbox_mAP_l",
		"bbox_AR_1", "bbox_AR_10", "bbox_AR_100", "bbox_AR_s", "bbox_AR_m", "bbox_AR_l",
		"AP/circle", "AP/square"}
	scale := []float64{1, 1.7, 1.05, 0.5, 1.1, 1.3, 0.9, 1.4, 1.5, 0.8, 1.5, 1.8, 1.2, 0.8}
	var rows []schemas.Metric
	for i, n := range names {
		rows = append(rows, schemas.Metric{Run: run, Stage: "evaluate", Checkpoint: checkpoint, Dataset: "synthetic/val",
			IoUType: "bbox", Metric: n, Value: mAP * scale[i], Created: created})
	}
	return rows
}

// RecallRows are proposal recall rows as the proposals stage writes them.
func RecallRows(run, stage, dataset string, ar1000 float64, created time.Time) []schemas.Metric {
	names := []string{"AR@100", "AR@300", "AR@1000", "AR_s@1000", "AR_m@1000", "AR_l@1000"}
	scale := []float64{0.8, 0.93, 1, 0.7, 1.05, 1.1}
	var rows []schemas.Metric
	for i, n := range names {
		rows = append(rows, schemas.Metric{Run: run, Stage: stage, Dataset: dataset, IoUType: "proposal",
			Metric: n, Value: ar1000 * scale[i], Created: created})
	}
	return rows
}

// SpeedRows are the train stage's speed and memory rows.
func SpeedRows(run string, memMB, sPerIter float64, batch int) []schemas.Metric {
	m := func(name string, v float64) schemas.Metric {
		return schemas.Metric{Run: run, Stage: "train", Checkpoint: "epoch_1.safetensors", Dataset: "train",
			Metric: name, Value: v, Created: Epoch}
	}
	return []schemas.Metric{m("train_peak_memory_mb", memMB), m("train_s_per_iter", sPerIter),
		m("train_images_per_s", float64(batch)/sPerIter)}
}

// TrainLog is a decreasing loss over epochs x intervals logging intervals
// of every iterations each.
func TrainLog(run string, epochs, intervals, every int) []schemas.TrainLogRow {
	var rows []schemas.TrainLogRow
	for e := 1; e <= epochs; e++ {
		for i := 1; i <= intervals; i++ {
			step := int64(((e-1)*intervals + i) * every)
			cls := 2.0 / (1 + float64(step)/20)
			box := 0.5 / (1 + float64(step)/40)
			rows = append(rows, schemas.TrainLogRow{
				Run: run, Epoch: int32(e), Iter: int32(i * every), Step: step,
				LR: 0.02, Time: 0.5, DataTime: 0.01, MemoryMB: 1800 + step, Loss: cls + box, GradNorm: 3,
				Losses: []schemas.LossValue{{Name: "loss_cls", Value: cls}, {Name: "loss_bbox", Value: box}},
			})
		}
	}
	return rows
}

// OldMetrics is a metrics table file of schema version 0.
func OldMetrics(run string) []byte {
	b, err := EncodeTable(schemas.Table{Name: schemas.Metrics.Name, Version: schemas.Metrics.Version - 1},
		[]schemas.Metric{{Run: run, Metric: "bbox_mAP", Value: 0.1, Created: Epoch}})
	if err != nil {
		panic(fmt.Sprintf("reporttest: encode old metrics: %v", err))
	}
	return b
}
