package proposals

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/stages/dataset"
	"github.com/detflow/detflow/storage"
)

// split is one split of the data set with its ground truth loaded.
type split struct {
	Name        string
	Annotations string // resolved path of the instances JSON
	ImageRoot   string // resolved image folder
	GT          *coco.Dataset
}

// readSplits reads the dataset stage's descriptor in dir and loads the
// ground truth of every split.
func readSplits(ctx context.Context, fsys *storage.FS, dir string) ([]split, error) {
	p := storage.Join(dir, dataset.DescriptorName)
	b, err := fsys.ReadFile(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("read dataset descriptor: %w", err)
	}
	var d dataset.Descriptor
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("read dataset descriptor %s: %w", p, err)
	}
	if len(d.Splits) == 0 {
		return nil, fmt.Errorf("dataset descriptor %s lists no splits", p)
	}
	var out []split
	for _, loc := range d.Splits {
		sp := split{Name: loc.Name, Annotations: resolve(dir, d.Source, loc.Annotations), ImageRoot: resolve(dir, d.Source, loc.ImageRoot)}
		gt, err := loadGT(ctx, fsys, sp.Annotations)
		if err != nil {
			return nil, fmt.Errorf("split %q: %w", loc.Name, err)
		}
		sp.GT = gt
		out = append(out, sp)
	}
	return out, nil
}

// resolve makes a descriptor path usable. The synthetic set's paths are
// relative to the dataset stage folder; a user's COCO set is described as
// configured (absolute, gs://, or relative to the working directory).
func resolve(dir, source, p string) string {
	if source != "synthetic" || storage.IsGCS(p) || filepath.IsAbs(p) {
		return p
	}
	return storage.Join(dir, p)
}

func loadGT(ctx context.Context, fsys *storage.FS, path string) (*coco.Dataset, error) {
	b, err := fsys.ReadFile(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("read annotations: %w", err)
	}
	ds, err := coco.LoadDataset(ctx, bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("load annotations %s: %w", path, err)
	}
	return ds, nil
}
