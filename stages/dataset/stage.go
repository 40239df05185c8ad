package dataset

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/storage"
)

// DescriptorName is the file in the stage's outputs that tells later stages
// where each split's annotations and images are.
const DescriptorName = "dataset.json"

// Descriptor is the content of dataset.json. Paths of the synthetic set are
// relative to the stage folder; those of a user's COCO set are as configured.
type Descriptor struct {
	Source string          `json:"source"`
	Splits []SplitLocation `json:"splits"`
}

// SplitLocation locates one split.
type SplitLocation struct {
	Name        string `json:"name"` // "train" or "val"
	Annotations string `json:"annotations"`
	ImageRoot   string `json:"image_root"`
	Images      int    `json:"images"`
}

// Stage is the dataset stage: it materialises the synthetic set, or
// validates a user's COCO-format set, and describes where each split is.
type Stage struct{}

func (Stage) Name() string         { return "dataset" }
func (Stage) Version() int         { return 1 }
func (Stage) Inputs() []string     { return nil }
func (Stage) ConfigKeys() []string { return []string{"dataset"} }

// Run writes the data set (synthetic) or its validation report (coco), and
// dataset.json.
func (Stage) Run(ctx context.Context, env *stages.Env) error {
	cfg := env.Config.Dataset
	switch cfg.Source {
	case "synthetic":
		return runSynthetic(ctx, env, cfg.Synthetic)
	case "coco":
		return fmt.Errorf("dataset.source %q: validating a user's COCO data set is not wired into the stage yet; use `pipeline data validate` once available", cfg.Source)
	}
	return fmt.Errorf("dataset.source %q: want synthetic or coco", cfg.Source)
}

func runSynthetic(ctx context.Context, env *stages.Env, s configs.Synthetic) error {
	bar := env.Progress.New("synthesise images", s.Train+s.Val)
	defer bar.Done()
	rep, err := Synthesize(ctx, env.FS, SynthOptions{
		Out: env.Out, Train: s.Train, Val: s.Val, Seed: int64(s.Seed), Width: s.Width, Height: s.Height,
		Progress: func(done, total int) { bar.Set(done) },
	})
	if err != nil {
		return err
	}
	d := Descriptor{Source: "synthetic"}
	for _, sp := range rep.Splits {
		ann, err := relativeTo(env.Out, sp.Annotations)
		if err != nil {
			return err
		}
		root, err := relativeTo(env.Out, sp.ImageRoot)
		if err != nil {
			return err
		}
		d.Splits = append(d.Splits, SplitLocation{Name: sp.Name, Annotations: ann, ImageRoot: root, Images: sp.Images})
		env.Log.Info("synthetic split", "split", sp.Name, "images", sp.Images, "objects", sp.Objects, "crowds", sp.Crowds,
			"small", sp.Small, "medium", sp.Medium, "large", sp.Large)
	}
	return writeDescriptor(ctx, env.FS, env.Out, d)
}

func writeDescriptor(ctx context.Context, fsys *storage.FS, out string, d Descriptor) error {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	if _, err := fsys.WriteFile(ctx, storage.Join(out, DescriptorName), append(b, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", DescriptorName, err)
	}
	return nil
}

// relativeTo returns p relative to dir; p must be dir or below it.
func relativeTo(dir, p string) (string, error) {
	d, q := storage.Join(dir), storage.Join(p)
	if q == d {
		return ".", nil
	}
	if len(q) > len(d) && q[:len(d)] == d && (q[len(d)] == '/' || q[len(d)] == '\\') {
		return q[len(d)+1:], nil
	}
	return "", fmt.Errorf("dataset: %s is not below %s", p, dir)
}
