package report

import (
	"context"
	"fmt"

	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

// ReadMetrics reads every metrics table of run ("" for every run), in the
// catalog's file order. A file of another schema version is an error.
func ReadMetrics(ctx context.Context, fsys *storage.FS, c *Catalog, run string) ([]schemas.Metric, error) {
	return readAll[schemas.Metric](ctx, fsys, c, run, schemas.Metrics)
}

// ReadTrainLog reads every train_log table of run, in the catalog's file
// order.
func ReadTrainLog(ctx context.Context, fsys *storage.FS, c *Catalog, run string) ([]schemas.TrainLogRow, error) {
	return readAll[schemas.TrainLogRow](ctx, fsys, c, run, schemas.TrainLog)
}

func readAll[T any](ctx context.Context, fsys *storage.FS, c *Catalog, run string, t schemas.Table) ([]T, error) {
	var rows []T
	for _, f := range c.TableFiles(t.Name, run) {
		if err := f.CheckVersion(t); err != nil {
			return nil, err
		}
		rs, err := readTable[T](ctx, fsys, f.Path, t)
		if err != nil {
			return nil, fmt.Errorf("run %s: %w", f.Run, err)
		}
		rows = append(rows, rs...)
	}
	return rows, nil
}

// readTable is schemas.Read turning a panic of the Parquet decoder on a
// corrupt file into an error naming the file.
func readTable[T any](ctx context.Context, fsys *storage.FS, path string, t schemas.Table) (rows []T, err error) {
	defer func() {
		if r := recover(); r != nil {
			rows, err = nil, fmt.Errorf("read %s table %s: corrupt parquet file: %v", t.Name, path, r)
		}
	}()
	return schemas.Read[T](ctx, fsys, path, t)
}
