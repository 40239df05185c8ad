package train

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/stages/records"
	"github.com/detflow/detflow/storage"
	"github.com/detflow/detflow/tensor"
)

// Stage is the training stage. Models picks the detector for a config;
// Weights loads model.load_from into it (nil: detflow checkpoints only).
type Stage struct {
	Models  Factory
	Weights WeightLoader
}

// WeightLoader loads a whole-detector checkpoint file into a freshly built
// model, logging what it re-initialised.
type WeightLoader func(ctx context.Context, m nn.Module, path string, log *slog.Logger) error

func (Stage) Name() string     { return "train" }
func (Stage) Version() int     { return 1 }
func (Stage) Inputs() []string { return []string{"records"} }

// ConfigKeys are what training reads; evaluation-only keys (test_cfg,
// evaluate) are left out so changing them does not retrain.
func (Stage) ConfigKeys() []string { return []string{"model", "train_cfg", "data", "train"} }

// Run trains, resuming from the work folder's latest checkpoint when a
// previous attempt with the same fingerprint was interrupted.
func (s Stage) Run(ctx context.Context, env *stages.Env) (err error) {
	cfg := env.Config
	// Tensors live in pooled buffers, so the collector mostly sees per-step
	// host data: the tight heap goal cut the stage's peak RSS by a third at
	// no measured cost (BENCHMARKS.md).
	defer stages.TightHeap()()
	devs, closeDevs, err := openDevices(env.Devices)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeDevs()) }()
	logDevices(env.Log, devs)
	recDir, err := env.Input("records")
	if err != nil {
		return err
	}
	rd, err := records.Open(ctx, env.FS, recDir, "train")
	if err != nil {
		return err
	}
	if err := checkNumClasses(cfg, rd.Index); err != nil {
		return err
	}
	cfg, dropPretrained, err := localPretrained(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, dropPretrained()) }()
	build, err := s.Models(cfg)
	if err != nil {
		return err
	}
	opts, err := trainerOptions(cfg, max(env.Devices.Replicas(), 1))
	if err != nil {
		return err
	}
	data, err := batch.FromConfig(cfg)
	if err != nil {
		return err
	}
	if err := setPrecision(env, cfg, &opts, devs); err != nil {
		return err
	}
	opts.Devices = devs
	tr, err := NewTrainer(build, opts)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, tr.Close()) }()
	if opts.Replicas > 1 {
		env.Log.Info("replicas exchange gradients", "replicas", opts.Replicas, "by", tr.Exchange())
	}
	work, err := localWork(env.Work)
	if err != nil {
		return err
	}
	l := &loop{env: env, work: work, cfg: cfg.Train, loadFrom: cfg.WeightsFrom(), weights: s.Weights, tr: tr, rd: rd, data: data, opts: opts}
	if err := l.run(ctx); err != nil {
		return err
	}
	return removeLocalMirror(env.Work, work)
}

// trainerOptions maps the config, scaling the LR linearly with the total
// batch as MMDetection's linear scaling rule does.
func trainerOptions(cfg *configs.Config, replicas int) (Options, error) {
	t := cfg.Train
	warm := t.Warmup
	if warm == "none" {
		warm = nn.WarmupNone
	}
	total := replicas * cfg.Data.ImgsPerGPU
	sched := nn.StepSchedule{BaseLR: t.ScaledLR(total), Steps: t.LRSteps, Gamma: t.Gamma,
		Warmup: warm, WarmupIters: t.WarmupIters, WarmupRatio: t.WarmupRatio}
	if err := sched.Validate(); err != nil {
		return Options{}, err
	}
	return Options{
		Replicas: replicas, ImagesPerReplica: cfg.Data.ImgsPerGPU, Schedule: sched,
		Momentum: t.Momentum, WeightDecay: t.WeightDecay, GradClip: t.GradClip.MaxNorm,
		SizeDivisor: cfg.Data.SizeDivisor, Seed: int64(t.Seed), MaxLoss: 1e4,
	}, nil
}

// setPrecision maps train.precision and train.loss_scale onto the trainer
// and the GPUs' convolution math, and logs what they mean on these devices.
func setPrecision(env *stages.Env, cfg *configs.Config, opts *Options, devs []tensor.Device) error {
	prec, err := stages.ParsePrecision(cfg.Train.Precision)
	if err != nil {
		return err
	}
	for _, d := range devs {
		if err := prec.SetDevice(d); err != nil {
			return err
		}
	}
	opts.Autocast = prec.Autocast
	device := "cpu"
	if len(devs) > 0 {
		device = devs[0].Name()
	}
	args := []any{"precision", prec.Name, "computes", prec.Describe(device)}
	if prec.Autocast == tensor.AutocastFP16 {
		sc, err := lossScaler(cfg.Train.LossScale)
		if err != nil {
			return err
		}
		opts.LossScaler = sc
		args = append(args, "loss_scale", cfg.Train.LossScale, "initial_scale", sc.Scale)
	}
	env.Log.Info("train precision", args...)
	return nil
}

// lossScaler is fp16's scaler for train.loss_scale: GradScaler's dynamic
// defaults, or a static scale.
func lossScaler(v configs.NumberOrWord) (*nn.LossScaler, error) {
	if v == configs.LossScaleDynamic {
		return nn.NewDynamicLossScaler(), nil
	}
	if s, ok := v.Number(); ok && s > 0 {
		return nn.NewStaticLossScaler(s), nil
	}
	return nil, fmt.Errorf("train.loss_scale %q: want %s or a number > 0", string(v), configs.LossScaleDynamic)
}

// elapsed is a tiny stopwatch.
type elapsed struct{ t time.Time }

func (e *elapsed) lap() time.Duration {
	now := time.Now()
	d := now.Sub(e.t)
	e.t = now
	return d
}

// localPretrained returns cfg with model.backbone.pretrained made a local
// file the model builders can read: torchvision:// names and URLs are
// downloaded into torch.hub's cache (package hub), a gs:// object is copied
// to a temporary file, removed by the returned function.
func localPretrained(ctx context.Context, env *stages.Env, cfg *configs.Config) (*configs.Config, func() error, error) {
	p := cfg.Model.Backbone.Pretrained
	if p == "" {
		return cfg, func() error { return nil }, nil
	}
	local, cleanup, err := stages.LocalWeights(ctx, env, "train: model.backbone.pretrained", p)
	if err != nil {
		return nil, nil, err
	}
	c := *cfg
	c.Model.Backbone.Pretrained = local
	return &c, cleanup, nil
}

// External names the weight files training starts from. torchvision:// names
// and URLs are left out: hub's cache keeps them by name, and their files
// are published once.
func (Stage) External(_ context.Context, _ *storage.FS, cfg *configs.Config) (map[string]string, error) {
	out := map[string]string{}
	if p := cfg.Model.Backbone.Pretrained; p != "" && (storage.IsGCS(p) || !strings.Contains(p, "://")) {
		out["model.backbone.pretrained"] = p
	}
	if p := cfg.Model.LoadFrom; p != "" && (storage.IsGCS(p) || !strings.Contains(p, "://")) {
		out["model.load_from"] = p
	}
	if p := cfg.Train.LoadFrom; p != "" && (storage.IsGCS(p) || !strings.Contains(p, "://")) {
		out["train.load_from"] = p
	}
	if p := cfg.Train.ResumeFrom; p != "" {
		out["train.resume_from"] = p
	}
	return out, nil
}
