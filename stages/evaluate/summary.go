package evaluate

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/detflow/detflow/storage"
)

func init() {
	register.DoFn3x1[context.Context, string, evalSummary, error](&writeSummaryFn{})
}

// writeSummaryFn hands each iou type's summary back to the driver as a
// small JSON file in the stage's parts folder: the driver and the workers
// may be different processes, and files are what both reach.
type writeSummaryFn struct {
	Dir     string
	Storage string
}

func (f *writeSummaryFn) ProcessElement(ctx context.Context, kind string, s evalSummary) error {
	fsys, err := workerStorage(ctx, f.Storage)
	if err != nil {
		return fmt.Errorf("evaluate: write summary: %w", err)
	}
	defer fsys.Close()
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("evaluate: write summary %s: %w", kind, err)
	}
	if _, err := fsys.WriteFile(ctx, storage.Join(f.Dir, summaryName(kind)), b); err != nil {
		return fmt.Errorf("evaluate: write summary %s: %w", kind, err)
	}
	return nil
}

// summaryName is the parts-folder file of an iou type's summary.
func summaryName(kind string) string { return "summary-" + kind + ".json" }

// readSummary reads what writeSummaryFn wrote.
func readSummary(ctx context.Context, fsys *storage.FS, dir, kind string) (evalSummary, error) {
	b, err := fsys.ReadFile(ctx, storage.Join(dir, summaryName(kind)))
	if err != nil {
		return evalSummary{}, fmt.Errorf("evaluate: read %s summary of the workers: %w", kind, err)
	}
	var s evalSummary
	if err := json.Unmarshal(b, &s); err != nil {
		return evalSummary{}, fmt.Errorf("evaluate: read %s summary: %w", kind, err)
	}
	return s, nil
}
