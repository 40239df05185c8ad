package records

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/stages/dataset"
	"github.com/detflow/detflow/storage"
)

// TestRecordsOnGCS reads the data set from and writes the shards to a
// fake GCS bucket; the Beam workers open storage themselves and reach the
// emulator through STORAGE_EMULATOR_HOST, as they would on a cluster.
func TestRecordsOnGCS(t *testing.T) {
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "exp"})
	t.Setenv("STORAGE_EMULATOR_HOST", strings.TrimPrefix(srv.URL(), "http://"))
	ctx := context.Background()
	fsys, err := storage.New(ctx, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := configs.Load(configs.Default, []string{"dataset.synthetic.train=5", "dataset.synthetic.val=2", "records.shard_size=2"})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dsDir, out := "gs://exp/run/dataset", "gs://exp/run/records"
	if err := (dataset.Stage{}).Run(ctx, &stages.Env{FS: fsys, Config: cfg, Out: dsDir, Log: log}); err != nil {
		t.Fatal(err)
	}
	env := &stages.Env{FS: fsys, Config: cfg, Out: out, Log: log, Inputs: map[string]string{"dataset": dsDir}}
	if err := (Stage{}).Run(ctx, env); err != nil {
		t.Fatal(err)
	}
	r, err := Open(ctx, fsys, out, "train")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := r.ReadAll(ctx, func(*schemas.Record) error { n++; return nil }); err != nil || n != 5 || len(r.Index.Shards) != 3 {
		t.Fatalf("read %d records in %d shards from gs://: %v", n, len(r.Index.Shards), err)
	}
}
