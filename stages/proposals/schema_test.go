package proposals

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

// These tests cover schemas/proposals.go (the proposals table), which this
// stage writes and the records stage reads.

func TestProposalsTableRoundTrip(t *testing.T) {
	ctx := context.Background()
	fsys, _ := storage.New(ctx, storage.Options{})
	dir := t.TempDir()
	rows := []schemas.ImageProposals{
		{ImageID: 3, FileName: "a.jpg", Split: "val", Width: 10, Height: 8, Boxes: []float32{0, 0, 5, 5, 1, 1, 9, 7}, Scores: []float32{0.9, 0.5}},
		{ImageID: 7, FileName: "b.jpg", Split: "val", Width: 4, Height: 4, Boxes: []float32{}, Scores: []float32{}},
	}
	if err := writePart(ctx, fsys, dir, 0, rows[:1]); err != nil {
		t.Fatal(err)
	}
	if err := writePart(ctx, fsys, dir, 1, rows[1:]); err != nil {
		t.Fatal(err)
	}
	set, err := schemas.OpenProposals(ctx, fsys, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	if ids := set.ImageIDs(); !reflect.DeepEqual(ids, []int64{3, 7}) {
		t.Fatalf("ids %v", ids)
	}
	for _, want := range rows {
		got, ok, err := set.Get(ctx, want.ImageID)
		if err != nil || !ok {
			t.Fatalf("get %d: %v %v", want.ImageID, ok, err)
		}
		if got.ImageID != want.ImageID || got.FileName != want.FileName || !near(got.Boxes, want.Boxes, 0) || !near(got.Scores, want.Scores, 0) {
			t.Errorf("image %d: got %+v, want %+v", want.ImageID, got, want)
		}
	}
	if _, ok, _ := set.Get(ctx, 99); ok {
		t.Error("image 99 found")
	}
	if b := rows[0]; b.Box(1) != [4]float32{1, 1, 9, 7} || b.Len() != 2 {
		t.Errorf("Box(1) = %v, Len = %d", b.Box(1), b.Len())
	}
	// A second part listing image 3 again is refused.
	if err := writePart(ctx, fsys, dir, 2, rows[:1]); err != nil {
		t.Fatal(err)
	}
	if _, err := schemas.OpenProposals(ctx, fsys, dir); err == nil || !strings.Contains(err.Error(), "image 3 is in") {
		t.Errorf("duplicate image: error %v", err)
	}
}

func TestProposalsTableSchemaIsPlainParquet(t *testing.T) {
	var buf bytes.Buffer
	rows := []schemas.ImageProposals{{ImageID: 1, Boxes: []float32{0, 0, 1, 1}, Scores: []float32{1}}}
	if err := schemas.Encode(&buf, schemas.Proposals, rows); err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	// Standard 3-level LIST columns, which DuckDB, pyarrow and pandas read
	// as list<float>.
	s := f.Schema().String()
	for _, want := range []string{"required int64 image_id", "(LIST)", "repeated group list", "float element"} {
		if !strings.Contains(s, want) {
			t.Errorf("schema lacks %q:\n%s", want, s)
		}
	}
	if v, _ := f.Lookup(schemas.TableKey); v != "proposals" {
		t.Errorf("table key %q", v)
	}
}
