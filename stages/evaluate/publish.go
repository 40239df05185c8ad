package evaluate

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/console"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/storage"
)

// publish gathers the workers' part files into the stage's outputs and
// removes them.
func publish(ctx context.Context, env *stages.Env, j *job) error {
	rows, err := readParts(ctx, env.FS, j)
	if err != nil {
		return err
	}
	var all []schemas.Detection
	for _, kind := range j.infer.Kinds {
		kr := rowsOf(rows, kind)
		if err := writeResults(ctx, env.FS, storage.Join(env.Out, ResultsName(kind)), kind, kr); err != nil {
			return err
		}
		all = append(all, kr...)
		if kind == string(coco.BBox) && !slices.Contains(j.infer.Kinds, string(coco.Segm)) && hasMasks(kr) {
			// A mask model evaluated for boxes only still publishes its masks.
			if err := writeResults(ctx, env.FS, storage.Join(env.Out, ResultsName(string(coco.Segm))), string(coco.Segm), kr); err != nil {
				return err
			}
		}
	}
	if err := schemas.Write(ctx, env.FS, storage.Join(env.Out, DetectionsName), schemas.Detections, all); err != nil {
		return err
	}
	sums := make([]evalSummary, 0, len(j.infer.Kinds))
	for _, kind := range j.infer.Kinds {
		s, err := readSummary(ctx, env.FS, j.parts, kind)
		if err != nil {
			return err
		}
		sums = append(sums, s)
	}
	if err := writeMetrics(ctx, env, j, sums); err != nil {
		return err
	}
	if err := writeSummaryText(ctx, env, sums); err != nil {
		return err
	}
	stats := map[string][]float64{}
	for _, s := range sums {
		stats[s.Kind] = s.Stats
	}
	env.Info = map[string]any{"checkpoint": j.checkpoint, "images": j.images, "detections": len(all), "stats": stats}
	if err := env.FS.RemoveAll(ctx, j.parts); err != nil {
		return fmt.Errorf("evaluate: remove worker parts: %w", err)
	}
	return nil
}

// readParts reads every shard's detections part; a missing one is an
// error naming the shard.
func readParts(ctx context.Context, fsys *storage.FS, j *job) ([]schemas.Detection, error) {
	var rows []schemas.Detection
	for _, sh := range j.shards {
		part, err := schemas.Read[schemas.Detection](ctx, fsys, storage.Join(j.parts, partName(sh.Index)), schemas.Detections)
		if err != nil {
			return nil, fmt.Errorf("evaluate: detections of shard %d (%s): %w", sh.Index, sh.File, err)
		}
		for i := range part {
			part[i].Checkpoint = j.checkpoint
		}
		rows = append(rows, part...)
	}
	return rows, nil
}

// rowsOf returns an iou type's rows by ascending image id, each image's
// rows in the model's order (the order its ImageEval was computed with).
func rowsOf(rows []schemas.Detection, kind string) []schemas.Detection {
	var out []schemas.Detection
	for _, r := range rows {
		if r.IoUType == kind {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b schemas.Detection) int {
		switch {
		case a.ImageID < b.ImageID:
			return -1
		case a.ImageID > b.ImageID:
			return 1
		}
		return 0
	})
	return out
}

func hasMasks(rows []schemas.Detection) bool {
	return slices.ContainsFunc(rows, func(r schemas.Detection) bool { return r.Mask != "" })
}

// writeResults writes rows as the COCO results JSON file of iou type kind:
// with each row's mask for segm (as MMDetection writes segm results, box
// included), without masks for the others.
func writeResults(ctx context.Context, fsys *storage.FS, path, kind string, rows []schemas.Detection) error {
	dets := make([]coco.Detection, len(rows))
	for i, r := range rows {
		dets[i] = detectionOf(r, int64(i+1))
		if kind != string(coco.Segm) {
			dets[i].Segmentation = coco.CompressedRLE{}
		}
	}
	var b bytes.Buffer
	if err := coco.WriteResults(ctx, &b, dets); err != nil {
		return fmt.Errorf("evaluate: %s: %w", path, err)
	}
	if _, err := fsys.WriteFile(ctx, path, b.Bytes()); err != nil {
		return fmt.Errorf("evaluate: write results: %w", err)
	}
	return nil
}

// writeMetrics writes each iou type's COCO metrics and the inference speed.
// Speed is images per second of one worker's stream: images over the summed
// per-batch time from reading the first record to the converted
// detections (decoding, resizing, the forward pass and post-processing;
// not COCO matching), as the model zoo's inference fps counts it.
func writeMetrics(ctx context.Context, env *stages.Env, j *job, sums []evalSummary) error {
	now := time.Now().UTC()
	row := func(kind, name string, v float64) schemas.Metric {
		return schemas.Metric{Run: env.Run, Pipeline: env.Config.Pipeline, Stage: "evaluate", Checkpoint: j.checkpoint,
			Dataset: Split, IoUType: kind, Metric: name, Value: v, Created: now}
	}
	var rows []schemas.Metric
	for _, s := range sums {
		for _, m := range s.Rows {
			rows = append(rows, row(s.Kind, m.Name, m.Value))
		}
	}
	if len(sums) > 0 && sums[0].Seconds > 0 {
		rows = append(rows, row("", "inference_images_per_s", float64(sums[0].Images)/sums[0].Seconds))
	}
	return schemas.Write(ctx, env.FS, storage.Join(env.Out, MetricsName), schemas.Metrics, rows)
}

// writeSummaryText writes and logs pycocotools' printout per iou type.
func writeSummaryText(ctx context.Context, env *stages.Env, sums []evalSummary) error {
	var b strings.Builder
	for _, s := range sums {
		text := fmt.Sprintf("Evaluate annotation type *%s*\n%s", s.Kind, s.Text)
		b.WriteString(text)
		// People read the block as pycocotools prints it; the log file
		// gets one record per line.
		env.Log.Info("COCO evaluation", "iou_type", s.Kind, "images", s.Images, console.Print(text))
		for _, line := range strings.Split(strings.TrimRight(s.Text, "\n"), "\n") {
			env.Log.Info(line, console.Print(""))
		}
	}
	if _, err := env.FS.WriteFile(ctx, storage.Join(env.Out, SummaryName), []byte(b.String())); err != nil {
		return fmt.Errorf("evaluate: write summary: %w", err)
	}
	return nil
}
