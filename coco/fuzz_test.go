package coco

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func addFileSeed(f *testing.F, name string) {
	b, err := os.ReadFile(filepath.Join("testdata", "parity", name))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
}

// FuzzLoadDataset: any input either loads or fails with an error; what
// loads survives a write and reload unchanged.
func FuzzLoadDataset(f *testing.F) {
	f.Add([]byte(goodInstances))
	f.Add([]byte(`{"images":[],"annotations":[],"categories":[]}`))
	f.Add([]byte(`{"images":[{"id":1}],"annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,-1,1]}],"categories":[{"id":1}]}`))
	addFileSeed(f, "edge.gt.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		d, err := LoadDataset(ctx, bytes.NewReader(data))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := WriteDataset(ctx, &buf, d); err != nil {
			t.Fatalf("write loaded data set: %v", err)
		}
		d2, err := LoadDataset(ctx, &buf)
		if err != nil {
			t.Fatalf("reload written data set: %v\n%s", err, buf.String())
		}
		if len(d2.Annotations) != len(d.Annotations) || len(d2.Images) != len(d.Images) {
			t.Fatalf("reload changed sizes")
		}
		for i := range d.Annotations {
			if d.Annotations[i] != d2.Annotations[i] {
				t.Fatalf("annotation %d: %+v became %+v", i, d.Annotations[i], d2.Annotations[i])
			}
		}
	})
}

// FuzzReadResults: any input either reads or fails with an error; what
// reads survives a write and reload and evaluates without panicking.
func FuzzReadResults(f *testing.F) {
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"image_id":1,"category_id":1,"bbox":[0,0,10,10],"score":0.5}]`))
	f.Add([]byte(`[{"image_id":2,"category_id":3,"bbox":[1,2,3,4],"score":1},{"image_id":2,"category_id":3,"bbox":[1,2,3,4],"score":1}]`))
	f.Add([]byte(`[{"image_id":1,"category_id":1,"bbox":[0,0,-1,10],"score":0.5}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		dets, err := ReadResults(ctx, bytes.NewReader(data))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := WriteResults(ctx, &buf, dets); err != nil {
			t.Fatalf("write read results: %v", err)
		}
		back, err := ReadResults(ctx, bytes.NewReader(buf.Bytes()))
		if err != nil || len(back) != len(dets) {
			t.Fatalf("reread: %v (%d of %d rows)", err, len(back), len(dets))
		}
		for i := range dets {
			if back[i] != dets[i] {
				t.Fatalf("row %d: %+v became %+v", i, dets[i], back[i])
			}
		}
		for _, kind := range IoUTypes() {
			res, err := EvaluateFiles(ctx, strings.NewReader(goodInstances), bytes.NewReader(buf.Bytes()), kind)
			if err != nil {
				continue
			}
			for _, s := range res.Stats {
				if s != -1 && (s < 0 || s > 1) {
					t.Fatalf("%s stat %v outside [0, 1]", kind, s)
				}
			}
		}
	})
}

// FuzzReadResultsMatchesReference: the fast row parser accepts exactly what
// the plain encoding/json reader accepts, with the same values.
func FuzzReadResultsMatchesReference(f *testing.F) {
	for _, s := range []string{
		`[]`, ` [ ] `, `[{"image_id":1,"category_id":2,"bbox":[0,0.5,10,1e3],"score":0.5}]`,
		`[{"score":-0.0,"bbox":[ 1 , 2 , 3 , 4 ],"category_id":-0,"image_id":123456789012345678}]`,
		`[{"Image_ID":1,"category_id":1,"bbox":[0,0,1,1],"score":1}]`,
		`[{"image_id":1,"image_id":2,"category_id":1,"bbox":[0,0,1,1],"score":1}]`,
		`[{"image_id":1.0,"category_id":1,"bbox":[0,0,1,1],"score":1}]`,
		`[{"image_id":1,"category_id":1,"bbox":[0,0,1,1],"score":1e400}]`,
		`[{"image_id":1,"category_id":1,"bbox":[0,0,1],"score":01}]`,
		`[{"image_id":1,"category_id":1,"bbox":null,"score":1,"segmentation":{"counts":"a\"]}","size":[1,2]}}]`,
		`[{"image_id":1,"category_id":1,"bbox":[0,0,1,1],"score":1},]`, `[1,2]`, `[{}] x`, `["a"]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		got, err := ReadResults(ctx, bytes.NewReader(data))
		want, refErr := readResultsReference(ctx, bytes.NewReader(data))
		if (err == nil) != (refErr == nil) {
			t.Fatalf("ReadResults error %v, reference error %v", err, refErr)
		}
		if len(got) != len(want) {
			t.Fatalf("ReadResults %d rows, reference %d", len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] && !(got[i].Score != got[i].Score && want[i].Score != want[i].Score) {
				t.Fatalf("row %d: %+v, reference %+v", i, got[i], want[i])
			}
		}
	})
}
