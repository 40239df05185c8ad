//go:build ignore

// Command export_proposals writes a run's proposals table (Parquet) as JSON
// for train_torchvision.py, whose Python has no Parquet reader:
//
//	go run scripts/tvcompare/export_proposals.go -run RUNDIR -out OUT.json
//
// OUT.json maps split ("train", "val") to image id to {"boxes": flat xyxy in
// original pixels, "scores": [...]}, keeping the first top-k proposals per
// split (the table is sorted by descending score, as detflow's Fast R-CNN
// takes the first top_k_train / top_k_test).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

type imageProposals struct {
	Boxes  []float32 `json:"boxes"`
	Scores []float32 `json:"scores"`
}

func main() {
	run := flag.String("run", "", "run directory (runs/NAME)")
	out := flag.String("out", "", "output JSON file")
	topTrain := flag.Int("top-train", 2000, "proposals kept per train image")
	topVal := flag.Int("top-val", 1000, "proposals kept per val image")
	flag.Parse()
	if err := export(context.Background(), *run, *out, map[string]int{"train": *topTrain, "val": *topVal}); err != nil {
		slog.Error("export proposals", "err", err)
		os.Exit(1)
	}
}

func export(ctx context.Context, run, out string, top map[string]int) error {
	if run == "" || out == "" {
		return fmt.Errorf("export proposals: -run and -out are required")
	}
	fsys, err := storage.New(ctx, storage.Options{})
	if err != nil {
		return fmt.Errorf("open storage: %w", err)
	}
	defer fsys.Close()
	all := map[string]map[string]imageProposals{}
	for split, k := range top {
		m := map[string]imageProposals{}
		dir := storage.Join(run, "proposals", split)
		err := schemas.ForEachProposal(ctx, fsys, dir, func(p schemas.ImageProposals) error {
			n := min(p.Len(), k)
			m[strconv.FormatInt(p.ImageID, 10)] = imageProposals{Boxes: p.Boxes[:4*n], Scores: p.Scores[:n]}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read proposals %q: %w", dir, err)
		}
		all[split] = m
	}
	b, err := json.Marshal(all)
	if err != nil {
		return fmt.Errorf("encode proposals: %w", err)
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return fmt.Errorf("write %q: %w", out, err)
	}
	return nil
}
