package storage_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/detflow/detflow/storage"
)

// A file written through a Writer appears only on Commit; a deferred Abort
// cleans up after any early return.
func ExampleFS_Create() {
	ctx := context.Background()
	fsys, err := storage.New(ctx, storage.Options{})
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "storage-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	p := filepath.Join(dir, "out", "result.txt")
	w, err := fsys.Create(ctx, p)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Abort()
	fmt.Fprintln(w, "hello")
	exists, _ := fsys.Exists(ctx, p)
	fmt.Println("visible before commit:", exists)
	if err := w.Commit(); err != nil {
		log.Fatal(err)
	}
	exists, _ = fsys.Exists(ctx, p)
	fmt.Println("visible after commit:", exists)
	fmt.Println("size:", w.Digest().Size)
	// Output:
	// visible before commit: false
	// visible after commit: true
	// size: 6
}

func ExampleJoin() {
	fmt.Println(storage.Join("gs://bucket/runs", "r1", "train", "_MANIFEST.json"))
	fmt.Println(storage.Join("runs", "r1", "train"))
	// Output:
	// gs://bucket/runs/r1/train/_MANIFEST.json
	// runs/r1/train
}
