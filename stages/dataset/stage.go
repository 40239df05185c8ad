package dataset

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/console"
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
// RequireMasks (models with a mask head, zoo.HasMasks) makes validation
// require a segmentation on every non-crowd object
// (ValidateOptions.RequireMasks).
type Stage struct {
	RequireMasks bool
}

func (Stage) Name() string { return "dataset" }

// Version folds in the generator's version, so a change to the synthetic
// images reruns the stage.
func (Stage) Version() int         { return 1000*1 + SynthVersion }
func (Stage) Inputs() []string     { return nil }
func (Stage) ConfigKeys() []string { return []string{"dataset"} }

// Run writes the data set (synthetic) or its validation report (coco), and
// dataset.json.
func (s Stage) Run(ctx context.Context, env *stages.Env) error {
	cfg := env.Config.Dataset
	switch cfg.Source {
	case "synthetic":
		return runSynthetic(ctx, env, cfg.Synthetic)
	case "coco":
		return runCOCO(ctx, env, cfg, s.RequireMasks)
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

// runCOCO validates each split of a user's COCO data set in place (images
// are not copied) and writes the validation reports. Any broken rule fails
// the stage with the report, naming the file, the rule and the first cases.
func runCOCO(ctx context.Context, env *stages.Env, cfg configs.Dataset, requireMasks bool) error {
	d := Descriptor{Source: "coco"}
	var reports []*ValidationReport
	for _, sp := range []struct{ name, ann, images string }{
		{"train", cfg.TrainAnn, cfg.TrainImages},
		{"val", cfg.ValAnn, cfg.ValImages},
	} {
		ann, root := underRoot(cfg.Root, sp.ann), underRoot(cfg.Root, sp.images)
		bar := env.Progress.New("check "+sp.name+" images", 0)
		rep, err := Validate(ctx, env.FS, ValidateOptions{
			Annotations: ann, ImageRoot: root, CheckImages: true, MaxPixels: cfg.MaxPixels, RequireMasks: requireMasks,
			Progress: func(done, total int) { bar.Set(done) },
		})
		bar.Done()
		if err != nil {
			return fmt.Errorf("validate %s split: %w", sp.name, err)
		}
		env.Log.Info("validated split", "split", sp.name, "report", rep.String(),
			console.Say("validated "+sp.name+" split "+rep.String())) // multi-line when rules are broken
		if err := rep.Err(); err != nil {
			return fmt.Errorf("dataset %s split: %w", sp.name, err)
		}
		reports = append(reports, rep)
		d.Splits = append(d.Splits, SplitLocation{Name: sp.name, Annotations: ann, ImageRoot: root, Images: rep.Images})
	}
	b, err := json.MarshalIndent(reports, "", "  ")
	if err != nil {
		return err
	}
	if _, err := env.FS.WriteFile(ctx, storage.Join(env.Out, "validation.json"), append(b, '\n')); err != nil {
		return fmt.Errorf("write validation report: %w", err)
	}
	return writeDescriptor(ctx, env.FS, env.Out, d)
}

// underRoot resolves a configured path against dataset.root unless it is
// absolute or a gs:// URL.
func underRoot(root, p string) string {
	if storage.IsGCS(p) || filepath.IsAbs(p) || root == "" {
		return p
	}
	return storage.Join(root, p)
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

// ReadDescriptor reads the dataset stage's dataset.json from its published
// folder, with every path resolved so callers can open it directly.
func ReadDescriptor(ctx context.Context, fsys *storage.FS, stageDir string) (*Descriptor, error) {
	p := storage.Join(stageDir, DescriptorName)
	b, err := fsys.ReadFile(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("read data set descriptor: %w", err)
	}
	var d Descriptor
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("read data set descriptor %s: %w", p, err)
	}
	if d.Source == "synthetic" {
		for i := range d.Splits {
			d.Splits[i].Annotations = storage.Join(stageDir, d.Splits[i].Annotations)
			d.Splits[i].ImageRoot = storage.Join(stageDir, d.Splits[i].ImageRoot)
		}
	}
	return &d, nil
}

// Split returns the named split's location.
func (d *Descriptor) Split(name string) (SplitLocation, error) {
	for _, s := range d.Splits {
		if s.Name == name {
			return s, nil
		}
	}
	return SplitLocation{}, fmt.Errorf("data set has no %q split", name)
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

// External names a user's COCO annotation files and image folders: an edit
// in place must rerun validation and everything downstream.
func (Stage) External(_ context.Context, _ *storage.FS, cfg *configs.Config) (map[string]string, error) {
	d := cfg.Dataset
	if d.Source != "coco" {
		return nil, nil
	}
	out := map[string]string{}
	for key, p := range map[string]string{
		"dataset.train_ann": d.TrainAnn, "dataset.train_images": d.TrainImages,
		"dataset.val_ann": d.ValAnn, "dataset.val_images": d.ValImages,
	} {
		if p != "" {
			out[key] = underRoot(d.Root, p)
		}
	}
	return out, nil
}
