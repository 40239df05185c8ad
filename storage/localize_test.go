package storage_test

import (
	"context"
	"os"
	"testing"

	"github.com/detflow/detflow/storage/storagetest"
)

func TestLocalize(t *testing.T) {
	ctx := context.Background()
	fsys := storagetest.FakeGCS(t, "bucket")
	if _, err := fsys.WriteFile(ctx, "gs://bucket/ckpt/epoch_1.safetensors", []byte("weights")); err != nil {
		t.Fatal(err)
	}
	local, cleanup, err := fsys.Localize(ctx, "gs://bucket/ckpt/epoch_1.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(local); err != nil || string(b) != "weights" {
		t.Fatalf("local copy %s: %q, %v", local, b, err)
	}
	if err := cleanup(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(local); !os.IsNotExist(err) {
		t.Errorf("cleanup left %s: %v", local, err)
	}
	if p, cleanup, err := fsys.Localize(ctx, "/some/local/file"); err != nil || p != "/some/local/file" || cleanup() != nil {
		t.Errorf("local path: %q, %v", p, err)
	}
	if _, _, err := fsys.Localize(ctx, "gs://bucket/missing"); err == nil {
		t.Error("missing object: no error")
	}
}
