package coco

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// randomMask draws an h x w column-major mask of a few filled rectangles,
// or a fully empty or full one.
func randomMask(rng *rand.Rand, h, w int) []byte {
	m := make([]byte, h*w)
	switch rng.IntN(6) {
	case 0:
		return m
	case 1:
		for i := range m {
			m[i] = 1
		}
		return m
	}
	for range 1 + rng.IntN(4) {
		x0, y0 := rng.IntN(w), rng.IntN(h)
		x1, y1 := x0+rng.IntN(w-x0)+1, y0+rng.IntN(h-y0)+1
		for x := x0; x < x1; x++ {
			for y := y0; y < y1; y++ {
				m[x*h+y] = byte(1 + rng.IntN(3)) // any non-zero byte is inside
			}
		}
	}
	return m
}

// pixelBox is the plain tight box of a decoded mask, the oracle for RLE.BBox.
func pixelBox(m []byte, h, w int) Box {
	xs, ys, xe, ye := w, h, -1, -1
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			if m[x*h+y] != 0 {
				xs, ys, xe, ye = min(xs, x), min(ys, y), max(xe, x), max(ye, y)
			}
		}
	}
	if xe < 0 {
		return Box{}
	}
	return Box{float64(xs), float64(ys), float64(xe - xs + 1), float64(ye - ys + 1)}
}

func binary(m []byte) []byte {
	out := make([]byte, len(m))
	for i, v := range m {
		if v != 0 {
			out[i] = 1
		}
	}
	return out
}

func TestRLERoundTrips(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 300 {
		h, w := 1+rng.IntN(40), 1+rng.IntN(40)
		m := randomMask(rng, h, w)
		r := EncodeMask(m, h, w)
		if err := r.Validate(); err != nil {
			t.Fatalf("mask %d: %v", n, err)
		}
		if got := r.Decode(); !slices.Equal(got, binary(m)) {
			t.Fatalf("mask %d %dx%d: decode differs", n, h, w)
		}
		back, err := ParseRLEString(r.String(), h, w)
		if err != nil || !slices.Equal(back.Counts, r.Counts) {
			t.Fatalf("mask %d: string %q parsed to %v (%v), want %v", n, r.String(), back.Counts, err, r.Counts)
		}
		c, err := r.Compress().Decode()
		if err != nil || !slices.Equal(c.Counts, r.Counts) {
			t.Fatalf("mask %d: compress/decode %v %v", n, c, err)
		}
		area := 0
		for _, v := range m {
			if v != 0 {
				area++
			}
		}
		if int(r.Area()) != area || r.BBox() != pixelBox(m, h, w) {
			t.Fatalf("mask %d: area %d bbox %v, pixels %d %v", n, r.Area(), r.BBox(), area, pixelBox(m, h, w))
		}
	}
}

func TestMergeAndIoUMatchPixels(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := range 300 {
		h, w := 1+rng.IntN(30), 1+rng.IntN(30)
		a, b := binary(randomMask(rng, h, w)), binary(randomMask(rng, h, w))
		ra, rb := EncodeMask(a, h, w), EncodeMask(b, h, w)
		or, and := make([]byte, h*w), make([]byte, h*w)
		inter, union, areaA := 0, 0, 0
		for i := range a {
			or[i], and[i] = a[i]|b[i], a[i]&b[i]
			inter += int(and[i])
			union += int(or[i])
			areaA += int(a[i])
		}
		if got := MergeRLEs([]RLE{ra, rb}, false); !slices.Equal(got.Decode(), or) {
			t.Fatalf("case %d: union differs", n)
		}
		if got := MergeRLEs([]RLE{ra, rb}, true); !slices.Equal(got.Decode(), and) {
			t.Fatalf("case %d: intersection differs", n)
		}
		want, wantCrowd := 0.0, 0.0
		if inter > 0 {
			want, wantCrowd = float64(inter)/float64(union), float64(inter)/float64(areaA)
		}
		if got := MaskIoU(ra, rb, false); got != want {
			t.Fatalf("case %d: iou %v, pixels %v", n, got, want)
		}
		if got := MaskIoU(ra, rb, true); got != wantCrowd {
			t.Fatalf("case %d: crowd iou %v, pixels %v", n, got, wantCrowd)
		}
	}
}

func TestMaskIoUOfDifferentSizes(t *testing.T) {
	full := func(h, w int) RLE { return RLE{H: h, W: w, Counts: []uint32{0, uint32(h * w)}} }
	if got := MaskIoU(full(4, 4), full(5, 4), false); got != -1 {
		t.Errorf("overlapping masks of different sizes: iou %v, pycocotools -1", got)
	}
	far := RLE{H: 40, W: 40, Counts: []uint32{39 * 40, 1, 39}}
	if got := MaskIoU(full(4, 4), far, false); got != 0 {
		t.Errorf("masks whose boxes do not overlap: iou %v, want 0", got)
	}
}

func TestParseRLEStringRejects(t *testing.T) {
	for _, c := range []struct{ s, want string }{
		{"0p", `character 1: 'p' is not in '0'..'o'`},
		{"0 ", `character 1: ' ' is not in '0'..'o'`},
		{"P", "ends inside count 0"},
		{"PPPPPPPPP", "more than 7 characters"},
		{"0O", "count 1 is -1,"},
		{"2C", "count 1 is -13"},
	} {
		if _, err := ParseRLEString(c.s, 1, 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseRLEString(%q) error %v, want %q", c.s, err, c.want)
		}
	}
}

func TestReadResultsMasks(t *testing.T) {
	ctx := context.Background()
	// 3x2 mask, counts [1, 2, 3]: pixels 1 and 2 (column-major) set, area 2, box [0, 1, 1, 2].
	const mask = `{"size":[3,2],"counts":"123"}`
	dets, err := ReadResults(ctx, strings.NewReader(`[{"image_id":1,"category_id":1,"segmentation":`+mask+`,"score":0.5},
		{"image_id":1,"category_id":1,"segmentation":`+mask+`,"bbox":[0,0,2,2],"score":0.5}]`))
	if err != nil {
		t.Fatal(err)
	}
	want := CompressedRLE{H: 3, W: 2, Counts: "123"}
	if d := dets[0]; d.Area != 2 || d.BBox != (Box{0, 1, 1, 2}) || d.Segmentation != want {
		t.Errorf("mask-only row: %+v", d)
	}
	if d := dets[1]; d.Area != 2 || d.BBox != (Box{0, 0, 2, 2}) {
		t.Errorf("a given bbox is kept, area still the mask's: %+v", d)
	}
	dets, err = ReadResults(ctx, strings.NewReader(`[{"image_id":1,"category_id":1,"segmentation":`+mask+`,"bbox":[0,0,2,2],"score":0.5}]`))
	if err != nil || dets[0].Area != 4 {
		t.Errorf("a first row with bbox makes area w*h (loadRes): %+v %v", dets, err)
	}
	for _, c := range []struct{ json, want string }{
		{`[{"image_id":1,"category_id":1,"segmentation":{"size":[3,2],"counts":"12"},"score":1}]`,
			"1 invalid values: results[0].segmentation: counts: counts sum to 3, want h*w = 6"},
		{`[{"image_id":1,"category_id":1,"segmentation":` + mask + `,"score":1},{"image_id":1,"category_id":1,"bbox":[0,0,1,1],"score":1}]`,
			"results[1].segmentation: missing"},
		{`[{"image_id":1,"category_id":1,"segmentation":{"size":[3],"counts":"123"},"score":1}]`,
			"results[0].segmentation: size: want [h, w], got 1 numbers"},
		{`[{"image_id":1,"category_id":1,"segmentation":{"size":[3,2],"counts":[1,2,3]},"score":1}]`,
			"results[0].segmentation: counts: want a compressed RLE string"},
		{`[{"image_id":1,"category_id":1,"segmentation":[[0,0,1,1,2,2]],"score":1}]`,
			"results[0].segmentation: polygons"},
	} {
		if _, err := ReadResults(ctx, strings.NewReader(c.json)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadResults(%s) error %v, want %q", c.json, err, c.want)
		}
	}
}

const maskInstances = `{
 "annotations": [
  {"id": 1, "image_id": 7, "category_id": 1, "bbox": [0,0,1,1], "segmentation": [[1,1, 3,1, 3,3, 1,3], [0,0, 1,0, 1,1]]},
  {"id": 2, "image_id": 7, "category_id": 1, "bbox": [0,0,1,1], "segmentation": {"size": [3,2], "counts": [1,2,3]}},
  {"id": 3, "image_id": 7, "category_id": 1, "bbox": [0,0,1,1], "segmentation": {"size": [3,2], "counts": "123"}, "iscrowd": 1},
  {"id": 4, "image_id": 7, "category_id": 1, "bbox": [0,0,1,1]}
 ],
 "images": [{"id": 7, "width": 5, "height": 4}],
 "categories": [{"id": 1, "name": "a"}]
}`

func TestLoadDatasetMasks(t *testing.T) {
	ctx := context.Background()
	d, err := LoadDatasetMasks(ctx, strings.NewReader(maskInstances))
	if err != nil {
		t.Fatal(err)
	}
	poly := MergeRLEs([]RLE{PolygonToRLE([]float64{1, 1, 3, 1, 3, 3, 1, 3}, 4, 5), PolygonToRLE([]float64{0, 0, 1, 0, 1, 1}, 4, 5)}, false)
	for i, want := range []*RLE{&poly, {H: 3, W: 2, Counts: []uint32{1, 2, 3}}, {H: 3, W: 2, Counts: []uint32{1, 2, 3}}, nil} {
		got := d.Annotations[i].Segmentation
		if (got == nil) != (want == nil) || got != nil && (got.H != want.H || got.W != want.W || !slices.Equal(got.Counts, want.Counts)) {
			t.Errorf("annotation %d: segmentation %v, want %v", i, got, want)
		}
	}
	plain, err := LoadDataset(ctx, strings.NewReader(maskInstances))
	if err != nil || plain.Annotations[0].Segmentation != nil {
		t.Errorf("LoadDataset keeps segmentation: %v", err)
	}
	var buf strings.Builder
	if err := WriteDataset(ctx, &buf, d); err != nil {
		t.Fatal(err)
	}
	back, err := LoadDatasetMasks(ctx, strings.NewReader(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range back.Annotations {
		if w := d.Annotations[i].Segmentation; w != nil && !slices.Equal(a.Segmentation.Counts, w.Counts) {
			t.Errorf("annotation %d: rewritten mask %v, want %v", i, a.Segmentation, w)
		}
	}
}

func TestLoadDatasetMasksRejects(t *testing.T) {
	for _, c := range []struct{ seg, want string }{
		{`[[1,2,3]]`, "annotations[0].segmentation[0]: odd number of coordinates 3"},
		{`[]`, "annotations[0].segmentation: no polygons"},
		{`{"size":[4,5],"counts":[1,2]}`, "annotations[0].segmentation: counts: counts sum to 3, want h*w = 20"},
		{`{"size":[4,5],"counts":"0p"}`, "annotations[0].segmentation: counts: character 1"},
		{`"x"`, "annotations[0].segmentation: want polygons or an RLE object"},
		{`[[0,0,1e300,0,1,1]]`, "coordinate 1e+300 not finite or beyond"},
	} {
		in := strings.Replace(maskInstances, `[[1,1, 3,1, 3,3, 1,3], [0,0, 1,0, 1,1]]`, c.seg, 1)
		if _, err := LoadDatasetMasks(context.Background(), strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("segmentation %s: error %v, want %q", c.seg, err, c.want)
		}
	}
}

// TestSegmEvaluationOfBoxResults: a results file of boxes evaluated as
// segm rasterises each box, as loadRes's polygon of its corners.
func TestSegmEvaluationOfBoxResults(t *testing.T) {
	ctx := context.Background()
	gt := `{"images":[{"id":1,"width":20,"height":10}],"categories":[{"id":1,"name":"a"}],
		"annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[2,2,5,5],"area":25,"segmentation":[[2,2,7,2,7,7,2,7]]}]}`
	res, err := EvaluateFiles(ctx, strings.NewReader(gt), strings.NewReader(`[{"image_id":1,"category_id":1,"bbox":[2,2,5,5],"score":1}]`), Segm)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats[8] != 1 || res.Rows()[0].Name != "segm_mAP" {
		t.Errorf("box result on its own outline: stats %v, rows %v", res.Stats, res.Rows()[:1])
	}
}

// TestScanRLECountsMatchesDecoding: the inlined checker agrees with the
// decoder on sums, areas and errors.
func TestScanRLECountsMatchesDecoding(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for n := range 200 {
		h, w := 1+rng.IntN(40), 1+rng.IntN(40)
		s := EncodeMask(randomMask(rng, h, w), h, w).String()
		if n%2 == 1 { // break it somewhere
			b := []byte(s)
			b[rng.IntN(len(b))] = byte(40 + rng.IntN(80))
			s = string(b)
		}
		counts, err := appendRLECounts(nil, s)
		sum, area, scanErr := scanRLECounts(s)
		if (err == nil) != (scanErr == nil) || err != nil && err.Error() != scanErr.Error() {
			t.Fatalf("%q: decode error %v, scan error %v", s, err, scanErr)
		}
		if err != nil {
			continue
		}
		r := RLE{H: h, W: w, Counts: counts}
		want := uint64(0)
		for _, c := range counts {
			want += uint64(c)
		}
		if sum != want || area != uint64(r.Area()) {
			t.Fatalf("%q: scan sum %d area %d, decoded %d %d", s, sum, area, want, r.Area())
		}
	}
}

// bboxByDivision is rleToBbox as maskApi writes it, a division per count:
// the oracle for RLE.BBox's running column and row.
func bboxByDivision(r RLE) Box {
	m := len(r.Counts) / 2 * 2
	if m == 0 || r.H == 0 {
		return Box{}
	}
	h := uint32(r.H)
	xs, ys, xe, ye := uint32(r.W), h, uint32(0), uint32(0)
	cc, xp := uint32(0), uint32(0)
	for j := 0; j < m; j++ {
		cc += r.Counts[j]
		t := cc - uint32(j%2)
		y := t % h
		x := (t - y) / h
		if j%2 == 0 {
			xp = x
		} else if xp < x {
			ys, ye = 0, h-1
		}
		xs, xe, ys, ye = min(xs, x), max(xe, x), min(ys, y), max(ye, y)
	}
	return Box{float64(xs), float64(ys), float64(xe - xs + 1), float64(ye - ys + 1)}
}

// TestBBoxMatchesDivision: the running column and row give rleToBbox's
// box on random counts, valid or not (zero runs, runs of many columns,
// sums that wrap a C uint).
func TestBBoxMatchesDivision(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 16))
	for n := range 200000 {
		r := RLE{H: 1 + rng.IntN(40), W: 1 + rng.IntN(40), Counts: make([]uint32, rng.IntN(12))}
		for j := range r.Counts {
			switch rng.IntN(8) {
			case 0:
				r.Counts[j] = 0
			case 1:
				r.Counts[j] = rng.Uint32()
			case 2:
				r.Counts[j] = uint32(rng.IntN(5 * r.H))
			default:
				r.Counts[j] = uint32(rng.IntN(r.H + 1))
			}
		}
		if got, want := r.BBox(), bboxByDivision(r); got != want {
			t.Fatalf("case %d: %dx%d counts %v: box %v, by division %v", n, r.H, r.W, r.Counts, got, want)
		}
	}
}
