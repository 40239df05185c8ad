package report_test

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/detflow/detflow/report"
	"github.com/detflow/detflow/report/reporttest"
	"github.com/detflow/detflow/rundir"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

// FuzzScan feeds arbitrary run.json, manifest, config.yaml and table bytes
// through everything the commands do with a work directory: errors are
// fine, panics are not.
func FuzzScan(f *testing.F) {
	table, err := reporttest.EncodeTable(schemas.Metrics, reporttest.SpeedRows("r", 1000, 0.5, 2))
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"run":"r","pipeline":"rpn"}`), []byte(`{"stage":"train","outputs":[{"path":"metrics.parquet"}]}`),
		[]byte("model: {type: RPN, backbone: {type: ResNet, depth: 50}}\ntrain: {epochs: 12}\n"), table)
	f.Add([]byte(`{}`), []byte(`{"outputs":[{"path":"../x.parquet"}]}`), []byte("model: [1, 2]"), table[:len(table)/2])
	f.Add([]byte(`[]`), []byte(`null`), []byte(":"), reporttest.OldMetrics("r"))
	f.Fuzz(func(t *testing.T, runJSON, manifest, config, parquet []byte) {
		ctx := context.Background()
		work := t.TempDir()
		dir := filepath.Join(work, "r")
		write := func(p string, b []byte) {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write(filepath.Join(dir, "run.json"), runJSON)
		write(filepath.Join(dir, "config.yaml"), config)
		write(filepath.Join(dir, "train", rundir.ManifestName), manifest)
		write(filepath.Join(dir, "train", "metrics.parquet"), parquet)
		write(filepath.Join(dir, "train", "train_log.parquet"), parquet)
		fsys, _ := storage.New(ctx, storage.Options{})
		c, err := report.Scan(ctx, fsys, work)
		if err != nil {
			return
		}
		if entries, err := report.ZooEntries(ctx, fsys, c); err == nil {
			_ = report.WriteZoo(io.Discard, entries)
		}
		for _, r := range c.Runs {
			if rows, err := report.ReadMetrics(ctx, fsys, c, r.Name); err == nil {
				_ = report.WriteSummary(io.Discard, &r, rows)
				b, _ := json.Marshal(rows)
				_ = b
			}
			_, _ = report.ReadTrainLog(ctx, fsys, c, r.Name)
		}
	})
}
