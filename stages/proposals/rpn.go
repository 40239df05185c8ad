package proposals

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/storage"
	"github.com/detflow/detflow/tensor"
)

// prepareRPN resolves proposals.rpn.checkpoint and loads the RPN once in
// the driver, so that a missing checkpoint, a config that is not an RPN's or
// weights that do not fit the architecture fail with one clear error before
// any worker starts. The resolved checkpoint is recorded in the stage's
// manifest.
func prepareRPN(ctx context.Context, env *stages.Env, cfg configs.Proposals) (*rpnSource, error) {
	value, err := runByName(ctx, env, cfg.RPN.Checkpoint)
	if err != nil {
		return nil, err
	}
	src, err := resolveRPN(ctx, env.FS, value)
	if err != nil {
		return nil, err
	}
	if _, err := loadRPN(ctx, env.FS, src.Config, src.Checkpoint, tensor.NewEngine(tensor.NewCPU(1))); err != nil {
		return nil, fmt.Errorf("proposals.rpn.checkpoint %q: %w", cfg.RPN.Checkpoint, err)
	}
	if env.Info == nil {
		env.Info = map[string]any{}
	}
	env.Info["rpn_checkpoint"], env.Info["rpn_config"] = src.Checkpoint, src.ConfigPath
	env.Log.Info("rpn proposals", "checkpoint", src.Checkpoint, "config", src.ConfigPath)
	return src, nil
}

// runRPN runs the RPN Beam pipeline over one split's images with the
// runner chosen by --runner (prism, in process, by default).
func runRPN(ctx context.Context, env *stages.Env, cfg configs.Proposals, src *rpnSource, sp split, out string) error {
	if err := env.FS.MkdirAll(ctx, out); err != nil {
		return fmt.Errorf("create %s: %w", out, err)
	}
	parts := planParts(sp, out, topK(cfg, sp.Name))
	if len(parts) == 0 {
		return nil
	}
	if !beam.Initialized() {
		// See runSelectiveSearch.
		beam.Init()
	}
	opts := RPNOptions{Config: *src.Config, Checkpoint: src.Checkpoint, MinSize: cfg.MinSize, StorageEndpoint: emulatorEndpoint()}
	p, s := beam.NewPipelineWithRoot()
	RPNProposals(s, opts, beam.CreateList(s, parts), len(sp.GT.Images))
	bar := env.Progress.New("rpn proposals "+sp.Name, len(sp.GT.Images))
	stop := watchParts(ctx, env.FS, out, parts, bar.Set)
	err := beamx.Run(ctx, p)
	stop()
	bar.Done()
	if err != nil {
		return fmt.Errorf("rpn proposals on split %q: %w", sp.Name, err)
	}
	return nil
}

// runByName lets proposals.rpn.checkpoint be a bare run name: a value with
// no path separator that names nothing in the working directory but a run
// beside this one (in the same --workdir) means that run's directory.
// Anything else is returned as given.
func runByName(ctx context.Context, env *stages.Env, value string) (string, error) {
	if value == "" || strings.ContainsAny(value, "/\\") || env.RunDir == "" {
		return value, nil
	}
	if ok, err := env.FS.Exists(ctx, value); err != nil || ok {
		return value, err
	}
	sibling := storage.Join(storage.Dir(env.RunDir), value)
	if ok, err := env.FS.Exists(ctx, sibling); err != nil || !ok {
		return value, err
	}
	return sibling, nil
}
