//go:build !cgo

package query

import (
	"context"

	"github.com/detflow/detflow/report"
	"github.com/detflow/detflow/storage"
)

// Run needs DuckDB, which needs cgo; this build has none.
func Run(ctx context.Context, fsys *storage.FS, workdir, sql string) (*report.Table, error) {
	return nil, ErrNeedsCGO
}
