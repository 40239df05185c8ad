// Package storagetest gives tests a storage.FS over an in-process fake GCS
// server, so gs:// paths are tested without a network.
package storagetest

import (
	"context"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/detflow/detflow/storage"
)

// FakeGCS starts a fake GCS server (no listener) holding the named empty
// buckets and returns an FS that serves gs:// paths from it. Both are
// stopped when the test ends.
func FakeGCS(t testing.TB, buckets ...string) *storage.FS {
	t.Helper()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true})
	if err != nil {
		t.Fatalf("start fake gcs: %v", err)
	}
	t.Cleanup(srv.Stop)
	for _, b := range buckets {
		srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: b})
	}
	fsys, err := storage.New(context.Background(), storage.Options{Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fsys.Close() })
	return fsys
}
