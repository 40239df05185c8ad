package report_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/detflow/detflow/report"
	"github.com/detflow/detflow/report/reporttest"
	"github.com/detflow/detflow/storage/storagetest"
)

// TestZooOnGCS reads a gs:// work directory on an in-process fake GCS
// server: the same zoo table as from local files.
func TestZooOnGCS(t *testing.T) {
	ctx := context.Background()
	fsys := storagetest.FakeGCS(t, "exp")
	reporttest.WriteZoo(t, fsys, "gs://exp/runs")
	c, err := report.Scan(ctx, fsys, "gs://exp/runs")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := report.ZooEntries(ctx, fsys, c)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := report.WriteZoo(&b, entries); err != nil {
		t.Fatal(err)
	}
	golden(t, "zoo.md.golden", b.Bytes())
}
