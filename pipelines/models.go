package pipelines

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/detection/detector"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/stages/evaluate"
	"github.com/detflow/detflow/stages/train"
	"github.com/detflow/detflow/tensor"
)

// detectorModels is the train stage's model factory: the detector the
// config's model section names, with its pretrained backbone loaded when
// model.backbone.pretrained is set.
func detectorModels(cfg *configs.Config) (train.Builder, error) {
	return func(e *tensor.Engine, rng *rand.Rand) (train.Model, error) {
		d, err := detector.Build(e, cfg, rng)
		if err != nil {
			return nil, err
		}
		if p := cfg.Model.Backbone.Pretrained; p != "" {
			rep, err := detector.LoadBackboneWeights(context.Background(), d, p)
			if err != nil {
				return nil, fmt.Errorf("model.backbone.pretrained: %w", err)
			}
			if len(rep.Missing) > 0 {
				return nil, fmt.Errorf("model.backbone.pretrained %q: backbone weights missing: %s", p, rep)
			}
		}
		return d, nil
	}, nil
}

func init() {
	// Beam workers run every init but not main: the loader must be
	// registered here to be found by name in off-process workers.
	evaluate.RegisterLoader(loadDetector)
}

// loadDetector is the evaluate stage's loader: the config's detector with a
// checkpoint's weights (the train stage's, or model.load_from in any layout
// detector.LoadFrom reads), which must match it exactly.
func loadDetector(ctx context.Context, cfg *configs.Config, e *tensor.Engine, checkpoint string) (evaluate.Model, error) {
	d, err := detector.Build(e, cfg, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return nil, err
	}
	if _, err := detector.LoadFrom(ctx, d, checkpoint, detector.LoadFromOptions{Strict: true}); err != nil {
		return nil, fmt.Errorf("%s model: %w", cfg.Model.Type, err)
	}
	nn.SetTraining(d, false)
	return d, nil
}

// loadWeights is the train stage's model.load_from loader: a checkpoint of
// any layout, whose class-dependent layers may differ (fine-tuning).
func loadWeights(ctx context.Context, m nn.Module, path string, log *slog.Logger) error {
	_, err := detector.LoadFrom(ctx, m, path, detector.LoadFromOptions{Log: log})
	return err
}
