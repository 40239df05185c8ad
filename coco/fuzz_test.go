package coco

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
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
	f.Add([]byte(`[{"image_id":1,"category_id":1,"segmentation":{"size":[3,2],"counts":"123"},"score":0.5}]`))
	f.Add([]byte(`[{"image_id":1,"category_id":1,"segmentation":{"size":[10,10],"counts":"T11\\0"},"bbox":[0,0,1,1],"score":0.5}]`))
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
			// Written rows all have a bbox, so loadRes takes area = w*h.
			want := dets[i]
			want.Area = want.BBox.Area()
			if back[i] != want {
				t.Fatalf("row %d: %+v became %+v", i, want, back[i])
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
		`[{"image_id":1,"category_id":1,"segmentation":{"size":[3,2],"counts":"123"},"score":1}]`,
		`[{"image_id":1,"category_id":1,"segmentation":{"counts":"T1\\1\\0","size":[ 10 , 10 ]},"bbox":[0,0,1,1],"score":1}]`,
		`[{"image_id":1,"category_id":1,"segmentation":{"size":[3,2],"counts":"1\u0032 3"},"score":1}]`,
		`[{"image_id":1,"category_id":1,"segmentation":{"size":[3,2,1],"counts":"123","size":[3,2]},"score":1}]`,
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

// FuzzParseRLEString: any string either parses or fails with an error;
// what parses re-encodes to a string that parses to the same counts, and
// a mask that validates decodes to h*w pixels.
func FuzzParseRLEString(f *testing.F) {
	for _, s := range []string{"", "0", "123", "<22O634OJ9KF3027M", "Va0", "PPPPPPP", "0O", "T11\\0", "o", "_P"} {
		f.Add(s, 3, 2)
	}
	f.Fuzz(func(t *testing.T, s string, h, w int) {
		r, err := ParseRLEString(s, h, w)
		sum, area, scanErr := scanRLECounts(s)
		if (err == nil) != (scanErr == nil) || err != nil && err.Error() != scanErr.Error() {
			t.Fatalf("%q: parse error %v, scan error %v", s, err, scanErr)
		}
		if err != nil {
			return
		}
		if want := r.Area(); area != uint64(want) && uint32(area) != want {
			t.Fatalf("%q: scanned area %d, decoded %d", s, area, want)
		}
		total := uint64(0)
		for _, c := range r.Counts {
			total += uint64(c)
		}
		if sum != total {
			t.Fatalf("%q: scanned sum %d, decoded %d", s, sum, total)
		}
		back, err := ParseRLEString(r.String(), h, w)
		if err != nil || !slices.Equal(back.Counts, r.Counts) {
			t.Fatalf("%q: counts %v re-encoded as %q, parsed to %v (%v)", s, r.Counts, r.String(), back.Counts, err)
		}
		if r.Validate() == nil && r.H*r.W <= 1<<16 && len(r.Decode()) != r.H*r.W {
			t.Fatalf("%q: valid %dx%d mask decodes to %d pixels", s, h, w, len(r.Decode()))
		}
	})
}

// FuzzSegmentation: any ground-truth segmentation value either parses or
// fails with an error; what parses rasterises (at any image size) to a
// valid mask whose area and box stay inside it.
func FuzzSegmentation(f *testing.F) {
	for _, s := range []string{
		`[[1,1,3,1,3,3,1,3],[0,0,1,0,1,1]]`, `[[0,0,1,1]]`, `[[1.5,2.5,-3,40,7,0.25]]`, `[[2,2]]`, `[[]]`, `[]`,
		`{"size":[3,2],"counts":[1,2,3]}`, `{"size":[3,2],"counts":"123"}`, `{"size":[0,0],"counts":"0"}`,
		`[[1e8,-1e8,0,0,5,5]]`, `[[0,0,1e7,0,1e7,1e7]]`, `null`, `{}`,
	} {
		f.Add([]byte(s), uint8(4), uint8(5))
	}
	f.Fuzz(func(t *testing.T, raw []byte, h8, w8 uint8) {
		if fast, ok := parsePolygonsFast(raw); ok {
			var ref [][]float64
			if err := json.Unmarshal(raw, &ref); err != nil || len(ref) != len(fast) {
				t.Fatalf("%s: fast polygons %v, encoding/json %v (%v)", raw, fast, ref, err)
			}
			for k := range ref {
				if !slices.Equal(ref[k], fast[k]) {
					t.Fatalf("%s: polygon %d fast %v, encoding/json %v", raw, k, fast[k], ref[k])
				}
			}
		}
		seg, err := parseSegmentation(raw)
		if err != nil {
			return
		}
		h, w := int(h8%64)+1, int(w8%64)+1
		r, err := seg.toRLE(h, w)
		if err != nil {
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("%s at %dx%d: invalid mask %v: %v", raw, h, w, r.Counts, err)
		}
		b := r.BBox()
		if int(r.Area()) > r.H*r.W || b[0]+b[2] > float64(r.W) || b[1]+b[3] > float64(r.H) {
			t.Fatalf("%s: area %d box %v outside %dx%d", raw, r.Area(), b, r.H, r.W)
		}
	})
}
