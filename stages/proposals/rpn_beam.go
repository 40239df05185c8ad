package proposals

import (
	"context"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/detection/detector"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
	"github.com/detflow/detflow/tensor"
)

func init() {
	register.DoFn3x1[context.Context, partSpec, func(partResult), error](&rpnPartFn{})
}

// RPNProposals adds the RPN inference step to a Beam pipeline: the same
// shape as SelectiveSearch (reshuffled parts, one part file per element, a
// check that every image was covered), with the model loaded once per
// worker.
func RPNProposals(s beam.Scope, opts RPNOptions, parts beam.PCollection, wantImages int) {
	s = s.Scope("proposals.RPN")
	parts = beam.Reshuffle(s, parts)
	results := beam.ParDo(s, &rpnPartFn{Options: opts}, parts)
	total := beam.Combine(s, addResults, results)
	beam.ParDo0(s, &checkTotalFn{Step: "rpn", Images: wantImages}, total)
}

// RPNOptions is the serialisable configuration of the RPN workers.
type RPNOptions struct {
	// Config is the RPN run's config: model, test_cfg (the proposal
	// count, NMS), data (the test-time image scale and normalisation) and
	// evaluate.batch (images per forward pass).
	Config     configs.Config
	Checkpoint string  // checkpoint file, local or gs://
	MinSize    float64 // proposals.min_size
	// StorageEndpoint, when set, points the workers' gs:// client at a GCS
	// emulator (see storage.Options.Endpoint).
	StorageEndpoint string
}

// rpnPartFn runs the RPN over the images of a part and writes the part
// file. Storage, the image pipeline and the model are set up once per
// DoFn instance in Setup.
type rpnPartFn struct {
	Options RPNOptions

	fsys   *storage.FS
	data   batch.Options
	engine *tensor.Engine
	model  detector.Detector
}

func (f *rpnPartFn) Setup(ctx context.Context) error {
	fsys, err := storage.New(ctx, storage.Options{Endpoint: f.Options.StorageEndpoint})
	if err != nil {
		return fmt.Errorf("rpn proposals worker: %w", err)
	}
	f.fsys = fsys
	cfg := f.Options.Config
	if f.data, err = batch.FromConfig(&cfg); err != nil {
		return fmt.Errorf("rpn proposals worker: %w", err)
	}
	// One engine using every core of this worker; images of a part run
	// one batch at a time on it.
	f.engine = tensor.NewEngine(tensor.NewCPU(0))
	if f.model, err = loadRPN(ctx, fsys, &cfg, f.Options.Checkpoint, f.engine); err != nil {
		return fmt.Errorf("rpn proposals worker: %w", err)
	}
	return nil
}

func (f *rpnPartFn) Teardown() error {
	if f.fsys == nil {
		return nil
	}
	return f.fsys.Close()
}

func (f *rpnPartFn) ProcessElement(ctx context.Context, part partSpec, emit func(partResult)) error {
	n := max(f.Options.Config.Evaluate.Batch, 1)
	rows := make([]schemas.ImageProposals, 0, len(part.Images))
	for i := 0; i < len(part.Images); i += n {
		if err := ctx.Err(); err != nil {
			return err
		}
		out, err := f.runBatch(ctx, part, part.Images[i:min(i+n, len(part.Images))])
		if err != nil {
			return fmt.Errorf("split %q part %d: %w", part.Split, part.Index, err)
		}
		rows = append(rows, out...)
	}
	if err := writePart(ctx, f.fsys, part.OutDir, part.Index, rows); err != nil {
		return err
	}
	res := partResult{Parts: 1, Images: len(rows)}
	for _, r := range rows {
		res.Boxes += r.Len()
	}
	emit(res)
	return nil
}

// runBatch reads, prepares and predicts one batch of images and returns
// their finished proposals. The batch's tensors are released afterwards;
// predictions are host slices.
func (f *rpnPartFn) runBatch(ctx context.Context, part partSpec, imgs []imageRef) ([]schemas.ImageProposals, error) {
	items := make([]*batch.Item, len(imgs))
	for i, im := range imgs {
		p := storage.Join(part.ImageRoot, im.FileName)
		data, err := f.fsys.ReadFile(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("image %d: %w", im.ID, err)
		}
		rec := &schemas.Record{ImageID: im.ID, FileName: im.FileName, Width: int32(im.Width), Height: int32(im.Height), Image: data}
		if items[i], err = batch.Prepare(rec, f.data, false, nil); err != nil {
			return nil, err
		}
	}
	dets, err := f.predict(items)
	if err != nil {
		return nil, err
	}
	rows := make([]schemas.ImageProposals, len(imgs))
	for i, im := range imgs {
		d := dets[i]
		if len(d.Boxes) != 4*len(d.Scores) {
			return nil, fmt.Errorf("image %d: the RPN returned %d box values for %d scores", im.ID, len(d.Boxes), len(d.Scores))
		}
		boxes, scores := finish(d.Boxes, d.Scores, im.Width, im.Height, f.Options.MinSize, part.TopK)
		rows[i] = schemas.ImageProposals{ImageID: im.ID, FileName: im.FileName, Split: part.Split,
			Width: int32(im.Width), Height: int32(im.Height), Boxes: boxes, Scores: scores}
	}
	return rows, nil
}

func (f *rpnPartFn) predict(items []*batch.Item) ([]detection.Detections, error) {
	mark := f.engine.Mark()
	defer f.engine.Release(mark)
	prev := f.engine.SetGradEnabled(false)
	defer f.engine.SetGradEnabled(prev)
	b := batch.Collate(f.engine, items, f.data.SizeDivisor)
	dets, err := f.model.Predict(b)
	if err != nil {
		return nil, err
	}
	if len(dets) != len(items) {
		return nil, fmt.Errorf("the RPN returned %d predictions for %d images", len(dets), len(items))
	}
	return dets, nil
}
