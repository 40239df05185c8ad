package evaluate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/stages/records"
	"github.com/detflow/detflow/storage"
	"github.com/detflow/detflow/tensor"
	"github.com/detflow/detflow/zoo"
)

func init() {
	register.DoFn3x1[context.Context, shardRef, func(string, imageEval), error](&inferShardFn{})
	register.Emitter2[string, imageEval]()
}

// inferShardFn runs the model over one records shard per element. It writes
// the shard's detections as a part file (a deterministic name, so a retried
// bundle overwrites rather than duplicates) and emits each image's COCO
// evaluation per iou type, keyed by the iou type.
//
// Exported fields are its serialised configuration; the model, the ground
// truth and the records index load once per DoFn instance in Setup.
type inferShardFn struct {
	Records     string // records stage folder
	Split       string
	Annotations string // the split's COCO instances JSON
	Checkpoint  string // checkpoint file (local or gs://)
	Loader      string // registry key of the model loader
	Config      configs.Config
	Kinds       []string // iou types to evaluate
	PartsDir    string   // where detection part files go
	Storage     string   // GCS endpoint for workers ("" for the default); see workerStorage
	Device      string   // "cuda:N" to infer on that GPU; "" for the worker's CPU cores

	fsys     *storage.FS
	rd       *records.Reader
	cats     map[int32]int64 // label -> COCO category id
	evals    map[string]*coco.Evaluator
	data     batch.Options
	engine   *tensor.Engine
	model    Model
	cleanCkp func() error // removes a downloaded copy of a remote checkpoint
	closeDev func() error
}

func (f *inferShardFn) Setup(ctx context.Context) error {
	fsys, err := workerStorage(ctx, f.Storage)
	if err != nil {
		return fmt.Errorf("evaluate worker: %w", err)
	}
	f.fsys = fsys
	if f.rd, err = records.Open(ctx, fsys, f.Records, f.Split); err != nil {
		return fmt.Errorf("evaluate worker: %w", err)
	}
	f.cats = labelCategories(f.rd.Index)
	gt, err := loadGroundTruth(ctx, fsys, f.Annotations, needsMasks(f.Kinds))
	if err != nil {
		return fmt.Errorf("evaluate worker: %w", err)
	}
	if f.evals, err = evaluators(gt, f.Kinds, f.Config.Evaluate.ProposalMaxDets); err != nil {
		return fmt.Errorf("evaluate worker: %w", err)
	}
	if f.data, err = batch.FromConfig(&f.Config); err != nil {
		return fmt.Errorf("evaluate worker: %w", err)
	}
	return f.loadModel(ctx)
}

// loadModel resolves the registered loader and builds the model on the
// GPU named by f.Device or on a CPU engine using every core of this worker.
func (f *inferShardFn) loadModel(ctx context.Context) error {
	load, err := resolveLoader(f.Loader)
	if err != nil {
		return err
	}
	path, cleanup, err := f.fsys.Localize(ctx, f.Checkpoint)
	if err != nil {
		return fmt.Errorf("evaluate worker: %w", err)
	}
	f.cleanCkp = cleanup
	if f.engine, f.closeDev, err = openEngine(f.Device); err != nil {
		return fmt.Errorf("evaluate worker: %w", err)
	}
	cfg := f.Config
	prec, err := stages.ParsePrecision(cfg.Train.Precision)
	if err == nil {
		err = prec.Apply(f.engine)
	}
	if err != nil {
		return fmt.Errorf("evaluate worker: %w", err)
	}
	if f.model, err = load(ctx, &cfg, f.engine, path); err != nil {
		return fmt.Errorf("evaluate worker: load model from %s: %w", f.Checkpoint, err)
	}
	return nil
}

func (f *inferShardFn) Teardown() error {
	var errs []error
	if f.cleanCkp != nil {
		errs = append(errs, f.cleanCkp())
	}
	if f.closeDev != nil {
		errs = append(errs, f.closeDev())
	}
	if f.fsys != nil {
		errs = append(errs, f.fsys.Close())
	}
	return errors.Join(errs...)
}

// cpuShards lets one shard at a time run on a CPU engine in this process.
// Each engine already uses every core, and an in-process runner (prism)
// runs bundles in parallel: two shards at once held two engines' working
// sets while sharing the same cores.
var cpuShards sync.Mutex

func (f *inferShardFn) ProcessElement(ctx context.Context, ref shardRef, emit func(string, imageEval)) error {
	if f.Device == "" {
		cpuShards.Lock()
		defer cpuShards.Unlock()
		// Hand the pool back before another shard's engine takes the cores.
		defer f.engine.Trim()
	}
	var rows []schemas.Detection
	var pending []*batch.Item
	start := time.Now()
	run := func() error {
		out, err := f.runBatch(ctx, pending, start, emit)
		rows = append(rows, out...)
		pending, start = pending[:0], time.Now()
		return err
	}
	err := f.rd.ReadShard(ctx, ref.Index, func(rec *schemas.Record) error {
		it, err := batch.Prepare(rec, f.data, false, nil)
		if err != nil {
			return err
		}
		// The reader reuses a record's slices once fn returns.
		it.GTLabels, it.GTCrowd = slices.Clone(it.GTLabels), slices.Clone(it.GTCrowd)
		it.ProposalScores = slices.Clone(it.ProposalScores)
		if pending = append(pending, it); len(pending) == f.Config.Evaluate.Batch {
			return run()
		}
		return nil
	})
	if err == nil && len(pending) > 0 {
		err = run()
	}
	if err != nil {
		return fmt.Errorf("evaluate: %s shard %d (%s): %w", f.Split, ref.Index, ref.File, err)
	}
	return schemas.Write(ctx, f.fsys, storage.Join(f.PartsDir, partName(ref.Index)), schemas.Detections, rows)
}

// runBatch predicts one batch, converts each image's predictions for every
// iou type, evaluates them against the ground truth and emits the
// evaluations. The batch's time, from the first record read to the
// converted detections, is shared equally by its images.
func (f *inferShardFn) runBatch(ctx context.Context, items []*batch.Item, start time.Time, emit func(string, imageEval)) ([]schemas.Detection, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	perKind, err := f.predictAll(items)
	if err != nil {
		return nil, err
	}
	var rows []schemas.Detection
	dets := make([][]coco.Detection, len(items)*len(f.Kinds))
	for i, it := range items {
		for k, kind := range f.Kinds {
			d, r, err := convert(it, &perKind[kind][i], kind, f.cats)
			if err != nil {
				return nil, fmt.Errorf("image %d: %w", it.ImageID, err)
			}
			dets[i*len(f.Kinds)+k] = d
			rows = append(rows, r...)
		}
	}
	perImage := time.Since(start).Seconds() / float64(len(items))
	for i, it := range items {
		for k, kind := range f.Kinds {
			ie, err := f.evals[kind].EvaluateImage(it.ImageID, dets[i*len(f.Kinds)+k])
			if err != nil {
				return nil, err
			}
			emit(kind, imageEval{Kind: kind, Seconds: perImage, Eval: ie})
		}
	}
	return rows, nil
}

// predictAll runs the model for every iou type under no-grad and frees
// the batch's tensors afterwards; predictions are host slices.
func (f *inferShardFn) predictAll(items []*batch.Item) (map[string][]detection.Detections, error) {
	mark := f.engine.Mark()
	defer func() {
		f.engine.Release(mark)
		f.engine.TrimIdle() // the pool keeps what this batch reused
	}()
	prev := f.engine.SetGradEnabled(false)
	defer f.engine.SetGradEnabled(prev)
	b := batch.Collate(f.engine, items, f.data.SizeDivisor)
	perKind := map[string][]detection.Detections{}
	byCall := map[bool][]detection.Detections{} // bbox and segm share one Predict
	for _, kind := range f.Kinds {
		proposals := wantsProposals(f.Config.Model.Type, kind)
		preds, done := byCall[proposals]
		if !done {
			var err error
			if preds, err = Predict(f.model, f.Config.Model.Type, kind, b); err != nil {
				return nil, err
			}
			if len(preds) != len(items) {
				return nil, fmt.Errorf("model returned %d predictions for %d images", len(preds), len(items))
			}
			byCall[proposals] = preds
		}
		perKind[kind] = preds
	}
	return perKind, nil
}

// wantsProposals reports whether iou type kind evaluates a two-stage
// model's proposals (PredictProposals) rather than its detections.
func wantsProposals(modelType, kind string) bool {
	return coco.IoUType(kind) == coco.Proposal && modelType != zoo.ModelRPN
}

// Predict runs m, a model of type modelType, for an iou type: its
// detections (bbox and segm: a mask model's carry masks), or for
// "proposal" the proposals of a two-stage model (an RPN's detections are
// its proposals).
func Predict(m Model, modelType, kind string, b *batch.Batch) ([]detection.Detections, error) {
	if wantsProposals(modelType, kind) {
		pm, ok := m.(ProposalModel)
		if !ok {
			return nil, fmt.Errorf("iou type %q: the %s model does not return proposals (no PredictProposals)", kind, modelType)
		}
		return pm.PredictProposals(b)
	}
	return m.Predict(b)
}

// partName is the detections part file of shard i.
func partName(i int) string { return fmt.Sprintf("detections-%05d.parquet", i) }
