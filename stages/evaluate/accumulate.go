package evaluate

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/detflow/detflow/coco"
)

func init() {
	register.Combiner3[evalBatch, imageEval, evalSummary](&accumulateFn{})
}

// accumulateFn is the global combine of one iou type's image evaluations:
// partial accumulators are plain lists of ImageEvals merged in any order,
// and ExtractOutput runs COCOeval's accumulate and summarize once over all
// of them. Ground truth loads once per instance in Setup.
type accumulateFn struct {
	Annotations     string
	Kinds           []string
	ProposalMaxDets []int
	Storage         string

	images int
	evals  map[string]*coco.Evaluator
}

func (f *accumulateFn) Setup(ctx context.Context) error {
	fsys, err := workerStorage(ctx, f.Storage)
	if err != nil {
		return fmt.Errorf("evaluate accumulate: %w", err)
	}
	defer fsys.Close()
	gt, err := loadGroundTruth(ctx, fsys, f.Annotations, needsMasks(f.Kinds))
	if err != nil {
		return fmt.Errorf("evaluate accumulate: %w", err)
	}
	f.images = len(gt.Images)
	f.evals, err = evaluators(gt, f.Kinds, f.ProposalMaxDets)
	return err
}

func (f *accumulateFn) CreateAccumulator() evalBatch { return evalBatch{} }

func (f *accumulateFn) AddInput(a evalBatch, in imageEval) evalBatch {
	a.Kind = in.Kind
	a.Seconds += in.Seconds
	a.Evals = append(a.Evals, in.Eval)
	return a
}

func (f *accumulateFn) MergeAccumulators(a, b evalBatch) evalBatch {
	if a.Kind == "" {
		a.Kind = b.Kind
	}
	a.Seconds += b.Seconds
	a.Evals = append(a.Evals, b.Evals...)
	return a
}

// ExtractOutput accumulates every image of the split. A missing image
// (a shard that produced nothing) is an error, not a silently lower score.
// register.Combiner3 takes no context here; the runner cancels by
// tearing the worker down.
func (f *accumulateFn) ExtractOutput(a evalBatch) (evalSummary, error) {
	ctx := context.Background()
	ev, ok := f.evals[a.Kind]
	if !ok {
		return evalSummary{}, fmt.Errorf("evaluate accumulate: iou type %q was not configured", a.Kind)
	}
	acc := ev.NewAccumulator()
	for _, ie := range a.Evals {
		if err := acc.Add(ie); err != nil {
			return evalSummary{}, fmt.Errorf("evaluate accumulate %s: %w", a.Kind, err)
		}
	}
	if acc.Len() != f.images {
		return evalSummary{}, fmt.Errorf("evaluate accumulate %s: %d images evaluated, the ground truth has %d", a.Kind, acc.Len(), f.images)
	}
	res, err := acc.Accumulate(ctx)
	if err != nil {
		return evalSummary{}, err
	}
	var text strings.Builder
	if err := res.Summary(&text); err != nil {
		return evalSummary{}, err
	}
	return evalSummary{Kind: a.Kind, Images: acc.Len(), Seconds: a.Seconds, Stats: res.Stats, Rows: res.Rows(), Text: text.String()}, nil
}
