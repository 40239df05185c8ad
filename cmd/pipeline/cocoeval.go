package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

func cmdCocoEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("coco-eval", "pipeline coco-eval --gt GT.json --results RES.json [--type bbox|segm|proposal] [--out metrics.parquet]\n\n"+
		"Evaluates an existing COCO results file against ground truth, as pycocotools' COCOeval does,\n"+
		"and prints the summary in its layout. No model is involved.", stderr)
	gt := fs.String("gt", "", "ground-truth instances JSON (local path or gs://)")
	res := fs.String("results", "", "results JSON: a list of {image_id, category_id, bbox [x,y,w,h], score}, with segmentation {size, counts} for segm")
	kind := fs.String("type", string(coco.BBox), "evaluation type: bbox, segm (RLE masks), or proposal (class-agnostic recall, AR@100/300/1000)")
	out := fs.String("out", "", "also write the metrics table to this Parquet file")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *gt == "" || *res == "" || fs.NArg() != 0 {
		return fmt.Errorf("%w: want --gt GT.json --results RES.json", errUsage)
	}
	fsys, err := storage.New(ctx, storage.Options{})
	if err != nil {
		return err
	}
	defer fsys.Close()
	gtR, err := fsys.Open(ctx, *gt)
	if err != nil {
		return fmt.Errorf("open ground truth: %w", err)
	}
	defer gtR.Close()
	resR, err := fsys.Open(ctx, *res)
	if err != nil {
		return fmt.Errorf("open results: %w", err)
	}
	defer resR.Close()
	result, err := coco.EvaluateFiles(ctx, gtR, resR, coco.IoUType(*kind))
	if err != nil {
		return fmt.Errorf("%s: %w", *res, err)
	}
	if err := result.Summary(stdout); err != nil {
		return err
	}
	if *out == "" {
		return nil
	}
	rows := metricRows(result, *gt, *kind, time.Now().UTC())
	if err := schemas.Write(ctx, fsys, *out, schemas.Metrics, rows); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %d metrics to %s\n", len(rows), *out)
	return nil
}

func metricRows(r *coco.Result, dataset, kind string, created time.Time) []schemas.Metric {
	var rows []schemas.Metric
	for _, m := range r.Rows() {
		rows = append(rows, schemas.Metric{
			Stage: "coco-eval", Dataset: dataset, IoUType: kind,
			Metric: m.Name, Value: m.Value, Created: created,
		})
	}
	return rows
}
