package pipelines

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/detection/detector"
	"github.com/detflow/detflow/hub"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/nn/pth"
	"github.com/detflow/detflow/rundir"
	"github.com/detflow/detflow/storage"
	"github.com/detflow/detflow/tensor"
)

// Export formats (pipeline export --format).
const (
	ExportTorchvision = "torchvision" // torch.save state dict, torchvision's names
	ExportSafetensors = "safetensors" // detflow's (MMDetection v2's) names, model only
)

// Export writes the weights of run in workdir to out: the train stage's
// latest checkpoint, or model.load_from when the run trained nothing. The
// torchvision format is a torch.save'd state dict that torchvision's
// detector of the same architecture loads with load_state_dict(strict=True);
// safetensors keeps detflow's names.
func Export(ctx context.Context, fsys *storage.FS, workdir, run, format, out string) error {
	layout, ok := map[string]detector.Layout{ExportTorchvision: detector.LayoutTorchvision, ExportSafetensors: detector.LayoutDetflow}[format]
	if !ok {
		return fmt.Errorf("export: format %q: want %s or %s", format, ExportTorchvision, ExportSafetensors)
	}
	runDir := storage.Join(workdir, run)
	cfg, err := runConfig(ctx, fsys, runDir)
	if err != nil {
		return err
	}
	sd, err := runWeights(ctx, fsys, runDir, cfg)
	if err != nil {
		return err
	}
	sd, err = detector.FromDetflow(sd, layout)
	if err != nil {
		return fmt.Errorf("export run %s: %w", run, err)
	}
	var buf bytes.Buffer
	if err := encodeWeights(&buf, format, sd); err != nil {
		return fmt.Errorf("export run %s: %w", run, err)
	}
	if _, err := fsys.WriteFile(ctx, out, buf.Bytes()); err != nil {
		return fmt.Errorf("export run %s: %w", run, err)
	}
	return nil
}

// runConfig loads a run's resolved config.
func runConfig(ctx context.Context, fsys *storage.FS, runDir string) (*configs.Config, error) {
	local, cleanup, err := fsys.Localize(ctx, storage.Join(runDir, rundir.ConfigName))
	if err != nil {
		return nil, fmt.Errorf("export: read the run's config: %w", err)
	}
	cfg, err := configs.Load(local, nil)
	return cfg, errors.Join(err, cleanup())
}

// runWeights loads the run's checkpoint into its detector and returns the
// detector's state dict: loading checks the checkpoint fits the model.
func runWeights(ctx context.Context, fsys *storage.FS, runDir string, cfg *configs.Config) (map[string]nn.HostTensor, error) {
	ref, err := checkpointOf(ctx, fsys, runDir, cfg)
	if err != nil {
		return nil, err
	}
	local, err := hub.Resolve(ctx, ref, hub.Options{})
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	local, cleanup, err := fsys.Localize(ctx, local)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	d, err := detector.Build(tensor.NewEngine(tensor.NewCPU(0)), cfg, rand.New(rand.NewPCG(0, 0)))
	if err == nil {
		_, err = detector.LoadFrom(ctx, d, local, detector.LoadFromOptions{Strict: true})
	}
	if err = errors.Join(err, cleanup()); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return nn.HostStateDict(d), nil
}

// checkpointOf names the run's train/latest checkpoint, else model.load_from.
func checkpointOf(ctx context.Context, fsys *storage.FS, runDir string, cfg *configs.Config) (string, error) {
	trainDir := storage.Join(runDir, "train")
	b, err := fsys.ReadFile(ctx, storage.Join(trainDir, "latest"))
	switch {
	case err == nil:
		return storage.Join(trainDir, strings.TrimSpace(string(b))), nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("export: %w", err)
	case cfg.WeightsFrom() != "":
		return cfg.WeightsFrom(), nil
	}
	return "", fmt.Errorf("export: run %s has no trained checkpoint (train/latest) and no model.load_from", runDir)
}

func encodeWeights(buf *bytes.Buffer, format string, sd map[string]nn.HostTensor) error {
	names := slices.Sorted(maps.Keys(sd))
	if format == ExportTorchvision {
		ts := make([]pth.WriteTensor, 0, len(names))
		for _, k := range names {
			ts = append(ts, pth.WriteTensor{Name: k, Shape: sd[k].Shape, Data: sd[k].Data})
		}
		return pth.Write(buf, "archive", ts)
	}
	return nn.WriteSafetensors(buf, sd, map[string]string{"format": "pt"})
}
