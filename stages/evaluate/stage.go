package evaluate

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/hub"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/stages/dataset"
	"github.com/detflow/detflow/stages/records"
	"github.com/detflow/detflow/storage"
)

// Split is the data set split the stage evaluates.
const Split = "val"

// Output files of the stage folder.
const (
	DetectionsName = "detections.parquet"
	MetricsName    = "metrics.parquet"
	SummaryName    = "summary.txt"
	partsDir       = "_parts" // worker outputs, removed before Run returns
)

// ResultsName is the COCO results file of an iou type, as MMDetection names
// it: results.bbox.json, results.segm.json, results.proposal.json.
func ResultsName(kind string) string { return "results." + kind + ".json" }

// latestName is the train stage's pointer to its newest checkpoint.
const latestName = "latest"

// Stage is the evaluate stage. Load builds the model from a checkpoint; it
// must also be registered with RegisterLoader so that workers in other
// processes find it. ModelStage names the stage whose latest checkpoint is
// evaluated ("" means "train").
type Stage struct {
	Load       Loader
	ModelStage string
}

func (Stage) Name() string { return "evaluate" }
func (Stage) Version() int { return 1 }

// Inputs: the data set (the split's COCO ground truth, which carries the
// annotation areas and ids COCOeval needs), the records to run over, and
// the stage holding the checkpoint.
func (s Stage) Inputs() []string { return []string{"dataset", "records", s.modelStage()} }

// ConfigKeys: what inference and evaluation read, and the pipeline name the
// metrics rows carry. train.precision: inference computes in it too.
func (Stage) ConfigKeys() []string {
	return []string{"evaluate", "test_cfg", "data", "model", "pipeline", "train.precision"}
}

func (s Stage) modelStage() string {
	if s.ModelStage == "" {
		return "train"
	}
	return s.ModelStage
}

// Run evaluates the latest checkpoint on the val split as a Beam pipeline,
// then writes the results files, the detections and metrics tables and the
// COCO summary.
func (s Stage) Run(ctx context.Context, env *stages.Env) error {
	defer stages.TightHeap()() // memory is mostly the engine's pooled buffers
	job, err := s.plan(ctx, env)
	if err != nil {
		return err
	}
	env.Log.Info("evaluating", "checkpoint", job.checkpoint, "images", job.images, "shards", len(job.shards), "iou_types", strings.Join(job.infer.Kinds, ","))
	p, root := beam.NewPipelineWithRoot()
	evaluateSteps(root, job.infer, job.accumulate, job.parts, beam.CreateList(root, job.shards))
	bar := env.Progress.New("evaluate "+Split, job.images)
	stop := watchParts(ctx, env.FS, job.parts, job.shards, bar.Set)
	err = beamx.Run(ctx, p)
	stop()
	bar.Done()
	if err != nil {
		return fmt.Errorf("evaluate pipeline: %w", err)
	}
	return publish(ctx, env, job)
}

// evaluateSteps adds the evaluation steps to a pipeline. It consumes a
// PCollection<shardRef>, spreads it over workers, runs inferShardFn
// (writing one schemas.Detection part file per shard into partsDir and
// emitting KV<iou type, imageEval>), merges each iou type's evaluations in
// one global combine and writes the small summaries into partsDir.
func evaluateSteps(s beam.Scope, infer *inferShardFn, acc *accumulateFn, partsDir string, shards beam.PCollection) {
	s = s.Scope("evaluate")
	shards = beam.Reshuffle(s, shards)
	evals := beam.ParDo(s, infer, shards)
	summaries := beam.CombinePerKey(s, acc, evals)
	beam.ParDo0(s, &writeSummaryFn{Dir: partsDir, Storage: infer.Storage}, summaries)
}

// job is a planned evaluation.
type job struct {
	checkpoint string // file name, e.g. epoch_12.safetensors, or model.load_from as set
	images     int
	shards     []shardRef
	parts      string
	infer      *inferShardFn
	accumulate *accumulateFn
}

// plan checks everything the workers will need before any of them starts:
// the loader is registered, the checkpoint, ground truth and records exist.
func (s Stage) plan(ctx context.Context, env *stages.Env) (*job, error) {
	key, err := loaderKey(s.Load)
	if err != nil {
		return nil, err
	}
	if _, err := resolveLoader(key); err != nil {
		return nil, err
	}
	dsDir, err := env.Input("dataset")
	if err != nil {
		return nil, err
	}
	recDir, err := env.Input("records")
	if err != nil {
		return nil, err
	}
	desc, err := dataset.ReadDescriptor(ctx, env.FS, dsDir)
	if err != nil {
		return nil, err
	}
	loc, err := desc.Split(Split)
	if err != nil {
		return nil, err
	}
	rd, err := records.Open(ctx, env.FS, recDir, Split)
	if err != nil {
		return nil, err
	}
	if len(rd.Index.Shards) == 0 {
		return nil, fmt.Errorf("evaluate: the records of split %q have no shards", Split)
	}
	cfg := env.Config
	if key, k := cfg.NumClasses(); key != "" && k != len(rd.Index.Categories) {
		return nil, fmt.Errorf("evaluate: %s is %d but the %s split has %d categories: a detector is evaluated on the categories it classifies (set %s=%d and fine-tune, or evaluate on data with its categories)",
			key, k, Split, len(rd.Index.Categories), key, len(rd.Index.Categories))
	}
	name, ckpt, err := s.checkpoint(ctx, env)
	if err != nil {
		return nil, err
	}
	j := &job{checkpoint: name, images: rd.Index.Images, parts: storage.Join(env.Out, partsDir)}
	for i, sh := range rd.Index.Shards {
		j.shards = append(j.shards, shardRef{Index: i, File: sh.File, Rows: sh.Rows})
	}
	prec, err := stages.ParsePrecision(cfg.Train.Precision)
	if err != nil {
		return nil, err
	}
	dev := inferDevice(env.Devices)
	env.Log.Info("evaluate precision", "precision", prec.Name, "computes", prec.Describe(cmp.Or(dev, "cpu")))
	kinds := append([]string(nil), cfg.Evaluate.IoUTypes...)
	j.infer = &inferShardFn{Records: recDir, Split: Split, Annotations: loc.Annotations,
		Checkpoint: ckpt, Loader: key, Config: *cfg, Kinds: kinds, PartsDir: j.parts, Storage: emulatorEndpoint(),
		Device: dev}
	j.accumulate = &accumulateFn{Annotations: loc.Annotations, Kinds: kinds, ProposalMaxDets: cfg.Evaluate.ProposalMaxDets, Storage: j.infer.Storage}
	return j, nil
}

// OptionalInputs: with model.load_from set, evaluate runs that checkpoint
// when the model stage has not run (a released detector, no training).
func (s Stage) OptionalInputs(cfg *configs.Config) []string {
	if cfg.WeightsFrom() == "" {
		return nil
	}
	return []string{s.modelStage()}
}

// External: model.load_from, which is evaluated when the model stage has
// not run. torchvision:// names and URLs are kept by name in hub's cache.
func (Stage) External(_ context.Context, _ *storage.FS, cfg *configs.Config) (map[string]string, error) {
	p := cfg.WeightsFrom()
	if p == "" || (strings.Contains(p, "://") && !storage.IsGCS(p)) {
		return map[string]string{}, nil
	}
	return map[string]string{"model.load_from": p}, nil
}

// checkpoint returns the name and location (local or gs://) of the
// checkpoint to evaluate: the model stage's latest, or model.load_from
// when the orchestrator left the model stage out (see OptionalInputs).
func (s Stage) checkpoint(ctx context.Context, env *stages.Env) (name, location string, err error) {
	if modelDir, ok := env.Inputs[s.modelStage()]; ok {
		name, err := latestCheckpoint(ctx, env.FS, modelDir)
		return name, storage.Join(modelDir, name), err
	}
	ref := env.Config.WeightsFrom()
	if ref == "" {
		return "", "", fmt.Errorf("evaluate: stage %q has not run and model.load_from is empty: nothing to evaluate", s.modelStage())
	}
	local, err := hub.Resolve(ctx, ref, hub.Options{Progress: env.Progress})
	if err != nil {
		return "", "", fmt.Errorf("evaluate: model.load_from: %w", err)
	}
	env.Log.Info("evaluating model.load_from (stage " + s.modelStage() + " has not run)")
	return ref, local, nil
}

// latestCheckpoint reads the model stage's pointer to its newest
// checkpoint and checks the file is there.
func latestCheckpoint(ctx context.Context, fsys *storage.FS, dir string) (string, error) {
	b, err := fsys.ReadFile(ctx, storage.Join(dir, latestName))
	if err != nil {
		return "", fmt.Errorf("evaluate: find the latest checkpoint: %w", err)
	}
	name := strings.TrimSpace(string(b))
	if name == "" || strings.ContainsAny(name, "/\\") {
		return "", fmt.Errorf("evaluate: %s names checkpoint %q, want a file name in that folder", storage.Join(dir, latestName), name)
	}
	ok, err := fsys.Exists(ctx, storage.Join(dir, name))
	if err != nil {
		return "", fmt.Errorf("evaluate: find the latest checkpoint: %w", err)
	}
	if !ok {
		return "", fmt.Errorf("evaluate: %s names %q, which is not in %s", storage.Join(dir, latestName), name, dir)
	}
	return name, nil
}
