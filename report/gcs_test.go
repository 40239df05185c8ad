package report_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/detflow/detflow/report"
	"github.com/detflow/detflow/report/reporttest"
	"github.com/detflow/detflow/storage"
)

// TestZooOnGCS reads a gs:// work directory on an in-process fake GCS
// server: the same zoo table as from local files.
func TestZooOnGCS(t *testing.T) {
	ctx := context.Background()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "exp"})
	fsys, err := storage.New(ctx, storage.Options{Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
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
