package records

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/stages/dataset"
	"github.com/detflow/detflow/storage"
)

// runRecords runs the dataset stage then the records stage (without
// proposals) on a tiny synthetic set and returns the records folder.
func runRecords(t *testing.T, shardSize string) (*storage.FS, string, string) {
	t.Helper()
	return runStage(t, shardSize, Stage{})
}

// runStage is runRecords with the records stage st.
func runStage(t *testing.T, shardSize string, st Stage) (*storage.FS, string, string) {
	t.Helper()
	ctx := context.Background()
	fsys, err := storage.New(ctx, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := configs.Load(configs.Default, []string{"dataset.synthetic.train=7", "dataset.synthetic.val=3", "records.shard_size=" + shardSize})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dsDir, out := t.TempDir(), t.TempDir()
	if err := (dataset.Stage{}).Run(ctx, &stages.Env{FS: fsys, Config: cfg, Out: dsDir, Log: log}); err != nil {
		t.Fatal(err)
	}
	env := &stages.Env{FS: fsys, Config: cfg, Out: out, Log: log, Inputs: map[string]string{"dataset": dsDir}}
	if err := st.Run(ctx, env); err != nil {
		t.Fatal(err)
	}
	if env.Info["shards"] == nil {
		t.Error("stage recorded no shard info for the manifest")
	}
	return fsys, dsDir, out
}

func TestRecordsHoldEveryImageOnceWithItsGroundTruth(t *testing.T) {
	ctx := context.Background()
	fsys, dsDir, out := runRecords(t, "3")
	desc, err := dataset.ReadDescriptor(ctx, fsys, dsDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, split := range []string{"train", "val"} {
		loc, _ := desc.Split(split)
		ds, err := loadDataset(ctx, fsys, loc.Annotations, false)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Open(ctx, fsys, out, split)
		if err != nil {
			t.Fatal(err)
		}
		if want := (len(ds.Images) + 2) / 3; len(r.Index.Shards) != want {
			t.Errorf("%s: %d shards, want %d", split, len(r.Index.Shards), want)
		}
		var ids []int64
		err = r.ReadAll(ctx, func(rec *schemas.Record) error {
			ids = append(ids, rec.ImageID)
			anns := ds.ImageAnnotations(rec.ImageID)
			if len(rec.GTBoxes) != 4*len(anns) || len(rec.GTLabels) != len(anns) || len(rec.GTCrowd) != len(anns) {
				t.Errorf("image %d: %d box values for %d annotations", rec.ImageID, len(rec.GTBoxes), len(anns))
				return nil
			}
			for i, a := range anns {
				if rec.GTBoxes[4*i+2] != float32(a.BBox[0]+a.BBox[2]) || rec.GTCrowd[i] != a.IsCrowd {
					t.Errorf("image %d box %d: %v vs %v", rec.ImageID, i, rec.GTBoxes[4*i:4*i+4], a.BBox)
				}
			}
			img, _ := ds.Image(rec.ImageID)
			want, _ := os.ReadFile(filepath.Join(loc.ImageRoot, img.FileName))
			if string(rec.Image) != string(want) {
				t.Errorf("image %d: bytes differ from the data set's file", rec.ImageID)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		sorted := slices.Clone(ids)
		slices.Sort(sorted)
		if want := ds.ImageIDs(); !slices.Equal(slices.Compact(sorted), want) || len(ids) != len(want) {
			t.Errorf("%s: read ids %v, want each of %v once", split, ids, want)
		}
		if slices.IsSorted(ids) {
			t.Errorf("%s: records are not shuffled: %v", split, ids)
		}
	}
}

func TestRecordsAreDeterministic(t *testing.T) {
	ctx := context.Background()
	fsys, _, a := runRecords(t, "4")
	_, _, b := runRecords(t, "4")
	ra, _ := Open(ctx, fsys, a, "train")
	rb, _ := Open(ctx, fsys, b, "train")
	if !slices.Equal(ra.Index.Shards, rb.Index.Shards) {
		t.Errorf("two runs gave different shards:\n%v\n%v", ra.Index.Shards, rb.Index.Shards)
	}
}

func TestCorruptShardIsNamed(t *testing.T) {
	ctx := context.Background()
	fsys, _, out := runRecords(t, "4")
	r, err := Open(ctx, fsys, out, "train")
	if err != nil {
		t.Fatal(err)
	}
	shard := filepath.Join(out, "train", r.Index.Shards[1].File)
	data, err := os.ReadFile(shard)
	if err != nil {
		t.Fatal(err)
	}
	flipped := slices.Clone(data)
	flipped[len(flipped)/2] ^= 0xff
	for name, content := range map[string][]byte{"flipped byte": flipped, "truncated": data[:len(data)/2]} {
		if err := os.WriteFile(shard, content, 0o644); err != nil {
			t.Fatal(err)
		}
		err := r.ReadAll(ctx, func(*schemas.Record) error { return nil })
		var ce *CorruptShardError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), r.Index.Shards[1].File) {
			t.Errorf("%s: error %v, want a CorruptShardError naming the shard", name, err)
		}
	}
}

func TestPlanShards(t *testing.T) {
	ids := []int64{5, 3, 9, 1, 7}
	a := planShards("train", ids, 2, 0)
	b := planShards("train", []int64{9, 7, 5, 3, 1}, 2, 0)
	if len(a) != 3 || len(a[2].ImageIDs) != 1 {
		t.Fatalf("shards %v", a)
	}
	for i := range a {
		if !slices.Equal(a[i].ImageIDs, b[i].ImageIDs) {
			t.Errorf("input order changed shard %d: %v vs %v", i, a[i].ImageIDs, b[i].ImageIDs)
		}
	}
	c := planShards("train", ids, 2, 1)
	if slices.Equal(a[0].ImageIDs, c[0].ImageIDs) && slices.Equal(a[1].ImageIDs, c[1].ImageIDs) {
		t.Errorf("another seed gave the same shuffle")
	}
}

func TestRecordsJoinProposals(t *testing.T) {
	ctx := context.Background()
	fsys, dsDir, _ := runRecords(t, "4")
	desc, err := dataset.ReadDescriptor(ctx, fsys, dsDir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := configs.Load(configs.Default, []string{"dataset.synthetic.train=7", "dataset.synthetic.val=3"})
	if err != nil {
		t.Fatal(err)
	}
	propDir := t.TempDir()
	for _, split := range []string{"train", "val"} {
		loc, _ := desc.Split(split)
		ds, err := loadDataset(ctx, fsys, loc.Annotations, false)
		if err != nil {
			t.Fatal(err)
		}
		var rows []schemas.ImageProposals
		for _, img := range ds.Images {
			rows = append(rows, schemas.ImageProposals{ImageID: img.ID, FileName: img.FileName, Split: split,
				Width: int32(img.Width), Height: int32(img.Height), Boxes: []float32{1, 2, 3, float32(img.ID)}, Scores: []float32{0.5}})
		}
		if err := schemas.Write(ctx, fsys, filepath.Join(propDir, split, schemas.ProposalPartName(0)), schemas.Proposals, rows); err != nil {
			t.Fatal(err)
		}
	}
	out := t.TempDir()
	env := &stages.Env{FS: fsys, Config: cfg, Out: out, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Inputs: map[string]string{"dataset": dsDir, "proposals": propDir}}
	if err := (Stage{WithProposals: true}).Run(ctx, env); err != nil {
		t.Fatal(err)
	}
	r, err := Open(ctx, fsys, out, "val")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = r.ReadAll(ctx, func(rec *schemas.Record) error {
		n++
		if len(rec.ProposalBoxes) != 4 || rec.ProposalBoxes[3] != float32(rec.ImageID) || rec.ProposalScores[0] != 0.5 {
			t.Errorf("image %d: proposals %v %v", rec.ImageID, rec.ProposalBoxes, rec.ProposalScores)
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("read %d val records: %v", n, err)
	}
	// An image without proposals fails, naming it.
	os.RemoveAll(filepath.Join(propDir, "val"))
	if err := schemas.Write(ctx, fsys, filepath.Join(propDir, "val", schemas.ProposalPartName(0)), schemas.Proposals, []schemas.ImageProposals{}); err != nil {
		t.Fatal(err)
	}
	err = (Stage{WithProposals: true}).Run(ctx, &stages.Env{FS: fsys, Config: cfg, Out: failedOut(t), Log: env.Log,
		Inputs: env.Inputs})
	if err == nil || !strings.Contains(err.Error(), "has no proposals") {
		t.Fatalf("missing proposals: %v", err)
	}
}

// failedOut is an output folder for a run expected to fail. A failed Beam
// job returns while the in-process worker's other bundles may still be
// writing their shards, so the folder is removed with retries rather than
// by t.TempDir's single RemoveAll, which such a late write makes fail.
func failedOut(t *testing.T) string {
	dir, err := os.MkdirTemp("", "records-failed-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; ; i++ {
			err := os.RemoveAll(dir)
			if err == nil || i == 50 {
				if err != nil {
					t.Errorf("remove %s: %v", dir, err)
				}
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	return dir
}
