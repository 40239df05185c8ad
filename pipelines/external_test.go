package pipelines

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/detflow/detflow/stages/dataset"
	"github.com/detflow/detflow/stages/proposals"
	"github.com/detflow/detflow/stages/train"
)

// userFiles writes a user's inputs outside the run folder, dated an hour
// back so the stat cache trusts them.
func userFiles(t *testing.T, root string) {
	t.Helper()
	files := map[string]string{
		"annotations/instances_train.json": `{"images": []}`,
		"annotations/instances_val.json":   `{"images": []}`,
		"train2017/a.jpg":                  "aaaa",
		"train2017/b.jpg":                  "bbbb",
		"train2017/sub/c.jpg":              "cccc",
		"val2017/d.jpg":                    "dddd",
		"props_train.pkl":                  "train proposals",
		"props_val.pkl":                    "val proposals",
		"weights.pth":                      "weights",
	}
	old := time.Now().Add(-time.Hour)
	for rel, data := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
}

// editInPlace rewrites a file with content of the same size, as an editor
// saving over it would.
func editInPlace(t *testing.T, p string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x20
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestEditedExternalInputRerunsTheStagesThatReadIt(t *testing.T) {
	ctx := context.Background()
	work, data, counter := t.TempDir(), t.TempDir(), filepath.Join(t.TempDir(), "count")
	userFiles(t, data)
	fsys := newFS(t)
	p := testPipeline(t, counter, func(s *testStage) {
		switch s.name {
		case "dataset":
			s.external = dataset.Stage{}.External
		case "proposals":
			s.external = proposals.Stage{}.External
		case "train":
			s.external = train.Stage{}.External
		}
	})
	cfg := loadConfig(t, "dataset.source=coco", "dataset.root="+data,
		"dataset.train_ann=annotations/instances_train.json", "dataset.val_ann=annotations/instances_val.json",
		"dataset.train_images=train2017", "dataset.val_images=val2017",
		"proposals.method=file", "proposals.file.train="+filepath.Join(data, "props_train.pkl"),
		"proposals.file.val="+filepath.Join(data, "props_val.pkl"),
		"train.load_from="+filepath.Join(data, "weights.pth"))
	if _, err := Execute(ctx, fsys, p, cfg, testOptions(work)); err != nil {
		t.Fatal(err)
	}
	runsOf(t, counter)
	all := p.StageNames()
	for _, tc := range []struct {
		edit   string
		reason string
		reruns []string
	}{
		{"", "", nil},
		// Test stages' outputs depend on config and inputs only, so records
		// republishes identical files and train is spared (the real records
		// hold the images and proposals); a stage reading an edited file
		// publishes a new digest however, so its readers rerun.
		{"annotations/instances_val.json", "dataset.val_ann: instances_val.json changed", all[:3]},
		{"train2017/sub/c.jpg", "dataset.train_images: 1 image changed in train2017/", all[:3]},
		{"props_val.pkl", "proposals.file.val: props_val.pkl changed", all[1:3]},
		{"weights.pth", "train.load_from: weights.pth changed", all[3:]},
	} {
		if tc.edit != "" {
			editInPlace(t, filepath.Join(data, tc.edit))
		}
		opts := testOptions(work)
		opts.DryRun = true
		res, err := Execute(ctx, fsys, p, cfg, opts)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		PrintPlan(&b, res.Plan)
		if tc.reason != "" && !strings.Contains(b.String(), tc.reason) {
			t.Errorf("edit %s: plan lacks %q:\n%s", tc.edit, tc.reason, b.String())
		}
		if _, err := Execute(ctx, fsys, p, cfg, testOptions(work)); err != nil {
			t.Fatal(err)
		}
		if got := runsOf(t, counter); !slices.Equal(got, tc.reruns) {
			t.Errorf("edit %q: ran %v, want %v", tc.edit, got, tc.reruns)
		}
	}
	publishedOK(t, fsys, filepath.Join(work, "r1"), all)
}

func TestUnchangedExternalFolderIsNotRead(t *testing.T) {
	ctx := context.Background()
	data, cacheAt := t.TempDir(), t.TempDir()
	userFiles(t, data)
	fsys := newFS(t)
	first := openFileCache(cacheAt, false)
	e1, err := digestExternal(ctx, fsys, first, data)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.save(); err != nil {
		t.Fatal(err)
	}
	// Unreadable files: only a cache hit can digest them.
	for _, rel := range []string{"train2017/a.jpg", "weights.pth"} {
		if err := os.Chmod(filepath.Join(data, rel), 0); err != nil {
			t.Fatal(err)
		}
	}
	e2, err := digestExternal(ctx, fsys, openFileCache(cacheAt, false), data)
	if err != nil {
		t.Fatalf("second digest read files: %v", err)
	}
	if e1 != e2 || e1.Files != 9 {
		t.Fatalf("digests differ or wrong count: %+v vs %+v", e1, e2)
	}
}

func TestFolderChangeCountsAddedAndRemovedImages(t *testing.T) {
	ctx := context.Background()
	data, cacheAt := t.TempDir(), t.TempDir()
	userFiles(t, data)
	fsys, cache := newFS(t), openFileCache(cacheAt, false)
	dir := filepath.Join(data, "train2017")
	before, err := digestExternal(ctx, fsys, cache, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "new.jpg"), []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "a.jpg")); err != nil {
		t.Fatal(err)
	}
	editInPlace(t, filepath.Join(dir, "b.jpg"))
	after, err := digestExternal(ctx, fsys, cache, dir)
	if err != nil {
		t.Fatal(err)
	}
	got := describeChange(cache, "dataset.train_images", before, after)
	if want := "1 image changed, 1 image added, 1 image removed in train2017/"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
