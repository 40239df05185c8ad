package coco

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestReadResultsLoadResSemantics(t *testing.T) {
	const in = `[
	 {"image_id": 5, "category_id": 2, "bbox": [1.5, 2, 3, 4], "score": 0.9, "segmentation": [[1, 2, 3]]},
	 {"image_id": 4, "category_id": 1, "bbox": [0, 0, 0.1, 1e-7], "score": 0}
	]`
	dets, err := ReadResults(context.Background(), strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Detection{
		{ID: 1, ImageID: 5, CategoryID: 2, BBox: Box{1.5, 2, 3, 4}, Score: 0.9, Area: 12},
		{ID: 2, ImageID: 4, CategoryID: 1, BBox: Box{0, 0, 0.1, 1e-7}, Score: 0, Area: 0.1 * 1e-7},
	}
	if len(dets) != len(want) {
		t.Fatalf("got %d detections, want %d", len(dets), len(want))
	}
	for i := range want {
		if dets[i] != want[i] {
			t.Errorf("detection %d = %+v, want %+v", i, dets[i], want[i])
		}
	}
	var buf bytes.Buffer
	if err := WriteResults(context.Background(), &buf, dets); err != nil {
		t.Fatal(err)
	}
	back, err := ReadResults(context.Background(), &buf)
	if err != nil {
		t.Fatalf("reread %q: %v", buf.String(), err)
	}
	for i := range dets {
		if back[i] != dets[i] {
			t.Errorf("round trip %d: %+v, want %+v", i, back[i], dets[i])
		}
	}
}

func TestReadResultsEmpty(t *testing.T) {
	dets, err := ReadResults(context.Background(), strings.NewReader(" [ ] \n"))
	if err != nil || len(dets) != 0 {
		t.Fatalf("ReadResults([]) = %v, %v; want no detections", dets, err)
	}
}

func TestReadResultsBad(t *testing.T) {
	tests := []struct{ name, json, want string }{
		{"negative width", `[{"image_id":1,"category_id":1,"bbox":[0,0,1,1],"score":1},{"image_id":1,"category_id":1,"bbox":[1,2,-3,4],"score":1}]`,
			"results[1].bbox[2]: negative width -3"},
		{"missing score", `[{"image_id":1,"category_id":1,"bbox":[0,0,1,1]}]`, "results[0].score: missing"},
		{"missing image", `[{"category_id":1,"bbox":[0,0,1,1],"score":1}]`, "results[0].image_id: missing"},
		{"five numbers", `[{"image_id":1,"category_id":1,"bbox":[0,0,1,1,1],"score":1}]`, "results[0].bbox: want 4 numbers"},
		{"not an array", `{"image_id":1}`, "results: want an array"},
		{"trailing data", `[] []`, "unexpected data after the array"},
		{"string score", `[{"image_id":1,"category_id":1,"bbox":[0,0,1,1],"score":"high"}]`, "results[0]: json: cannot unmarshal string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadResults(context.Background(), strings.NewReader(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestWriteResultsRejectsNaN(t *testing.T) {
	nan := 0.0
	nan /= nan
	err := WriteResults(context.Background(), &bytes.Buffer{}, []Detection{{BBox: Box{0, 0, 1, 1}, Score: nan}})
	if err == nil || !strings.Contains(err.Error(), "results[0]: score") {
		t.Fatalf("error %v, want a score error for results[0]", err)
	}
}

func TestCheckResultsCounts(t *testing.T) {
	d, err := LoadDataset(context.Background(), strings.NewReader(goodInstances))
	if err != nil {
		t.Fatal(err)
	}
	dets := []Detection{
		{ImageID: 1, CategoryID: 1}, {ImageID: 8, CategoryID: 1}, {ImageID: 2, CategoryID: 9},
		{ImageID: 9, CategoryID: 7}, {ImageID: 2, CategoryID: 3},
	}
	err = d.CheckResults(dets, true)
	var u *UnknownReferencesError
	if !errors.As(err, &u) {
		t.Fatalf("CheckResults = %v, want *UnknownReferencesError", err)
	}
	want := UnknownReferencesError{UnknownImages: 2, FirstImageRow: 1, FirstImageID: 8, UnknownCategories: 2, FirstCategoryRow: 2, FirstCategoryID: 9}
	if *u != want {
		t.Errorf("got %+v, want %+v", *u, want)
	}
	if !strings.Contains(err.Error(), "2 results name images not in the ground truth (first: results[1].image_id 8)") {
		t.Errorf("message %q", err)
	}
	if err := d.CheckResults(dets[2:3], false); err != nil {
		t.Errorf("proposal check rejected an unknown category: %v", err)
	}
}

func TestEvaluateFilesRejects(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, res string
		kind      IoUType
		want      string
	}{
		{"unknown iou type", `[]`, "keypoints", `unknown iou type "keypoints"`},
		{"broken ground-truth mask", `[]`, Segm, `annotations[1].segmentation: counts: counts string ends inside count 0`},
		{"unknown image", `[{"image_id":3,"category_id":1,"bbox":[0,0,1,1],"score":1}]`, BBox, "1 results name images not in the ground truth"},
		{"unknown category", `[{"image_id":1,"category_id":2,"bbox":[0,0,1,1],"score":1}]`, BBox, "1 results name categories"},
		{"bad row", `[{"image_id":1,"category_id":2,"bbox":[0,0,1,-1],"score":1}]`, BBox, "load results: validate results: 1 invalid values: results[0].bbox[3]: negative height -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := EvaluateFiles(ctx, strings.NewReader(goodInstances), strings.NewReader(tt.res), tt.kind)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
	// For proposals the category does not matter.
	res, err := EvaluateFiles(ctx, strings.NewReader(goodInstances), strings.NewReader(`[{"image_id":1,"category_id":2,"bbox":[0,0,10,10],"score":1}]`), Proposal)
	if err != nil {
		t.Fatal(err)
	}
	if res.Params.IoUType != Proposal || res.Rows()[0].Name != "AR@100" {
		t.Errorf("proposal result iou type %q rows %v", res.Params.IoUType, res.Rows())
	}
}

// TestExactFloatMatchesStrconv: the fast path for short decimals gives
// strconv's bits wherever it answers, on tokens written the ways results
// files write them (fixed, shortest, exponent forms, long integers).
func TestExactFloatMatchesStrconv(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	toks := []string{"0", "-0", "-0.0", "1e22", "1e23", "9007199254740991", "9007199254740993",
		"0.1", "1.5e-7", "1E+5", "-2.5e-22", "4.9e-324", "17.0000000000000001", "123456789012345678"}
	for range 200000 {
		switch rng.IntN(4) {
		case 0:
			toks = append(toks, strconv.FormatFloat(rng.Float64()*1000, 'f', rng.IntN(18), 64))
		case 1:
			toks = append(toks, strconv.FormatFloat(rng.NormFloat64()*math.Pow(10, float64(rng.IntN(60)-30)), 'g', -1, 64))
		case 2:
			toks = append(toks, strconv.FormatFloat(rng.NormFloat64(), 'e', rng.IntN(20), 64))
		default:
			toks = append(toks, strconv.Itoa(rng.IntN(1<<62))+"."+strconv.Itoa(rng.IntN(1000)))
		}
	}
	fast := 0
	for _, tok := range toks {
		got, ok := exactFloat(tok)
		if !ok {
			continue
		}
		fast++
		want, err := strconv.ParseFloat(tok, 64)
		if err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("%q: fast path %v, strconv %v (%v)", tok, got, want, err)
		}
	}
	if fast < len(toks)/3 {
		t.Fatalf("fast path took %d of %d tokens", fast, len(toks))
	}
}
