package dataset

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/detflow/detflow/storage"
)

// testSynth are the options of the shared small set: enough images for
// every category in both splits (the first object's category cycles with
// the index) and for several crowds (every 8th image).
func testSynth(out string) SynthOptions {
	return SynthOptions{Out: out, Train: 20, Val: 12, Seed: 7}
}

func localFS(t testing.TB) *storage.FS {
	t.Helper()
	f, err := storage.New(context.Background(), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func synthesize(t testing.TB, opts SynthOptions) *SynthReport {
	t.Helper()
	r, err := Synthesize(context.Background(), localFS(t), opts)
	if err != nil {
		t.Fatalf("synthesize: %v", err)
	}
	return r
}

// hashTree maps every file under dir (relative path) to its SHA-256.
func hashTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = fmt.Sprintf("%x", sha256.Sum256(data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSynthesizeIsDeterministic(t *testing.T) {
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	ra := synthesize(t, testSynth(a))
	optsB := testSynth(b)
	optsB.Workers = 1 // a different schedule must not change a byte
	synthesize(t, optsB)
	optsC := testSynth(c)
	optsC.Seed++
	synthesize(t, optsC)
	ha, hb, hc := hashTree(t, a), hashTree(t, b), hashTree(t, c)
	if want := 20 + 12 + 2; len(ha) != want {
		t.Fatalf("wrote %d files, want %d", len(ha), want)
	}
	for p, h := range ha {
		if hb[p] != h {
			t.Errorf("%s differs between two runs with the same seed", p)
		}
	}
	same := 0
	for p, h := range ha {
		if hc[p] == h {
			same++
		}
	}
	if same > 0 {
		t.Errorf("%d files identical under a different seed", same)
	}
	// The report lists exactly the files written, with their digests.
	if len(ra.Files) != len(ha) {
		t.Errorf("report lists %d files, %d written", len(ra.Files), len(ha))
	}
	for _, f := range ra.Files {
		if ha[filepath.FromSlash(f.Path)] != f.SHA256 {
			t.Errorf("report digest of %s does not match the file", f.Path)
		}
	}
}

// testDoc decodes a written instances file with the writer's own types.
type testDoc struct {
	Images      []cocoImage `json:"images"`
	Annotations []struct {
		ID           int64           `json:"id"`
		ImageID      int64           `json:"image_id"`
		CategoryID   int             `json:"category_id"`
		Bbox         [4]float64      `json:"bbox"`
		Area         float64         `json:"area"`
		IsCrowd      int             `json:"iscrowd"`
		Segmentation json.RawMessage `json:"segmentation"`
	} `json:"annotations"`
	Categories []Category `json:"categories"`
}

func readDoc(t *testing.T, p string) testDoc {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var d testDoc
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("decode %s: %v", p, err)
	}
	return d
}

func TestSynthesizeAnnotations(t *testing.T) {
	out := t.TempDir()
	rep := synthesize(t, testSynth(out))
	for _, split := range []string{"train", "val"} {
		t.Run(split, func(t *testing.T) {
			d := readDoc(t, filepath.Join(out, "annotations", "instances_"+split+".json"))
			checkSynthDoc(t, d, filepath.Join(out, split))
			var sum SplitSummary
			for _, s := range rep.Splits {
				if s.Name == split {
					sum = s
				}
			}
			if sum.Images != len(d.Images) || sum.Objects+sum.Crowds != len(d.Annotations) {
				t.Errorf("summary %+v does not match the file (%d images, %d annotations)", sum, len(d.Images), len(d.Annotations))
			}
		})
	}
}

func checkSynthDoc(t *testing.T, d testDoc, imageRoot string) {
	t.Helper()
	if len(d.Categories) < 8 {
		t.Errorf("%d categories, want at least 8", len(d.Categories))
	}
	dims := map[int64]cocoImage{}
	for _, im := range d.Images {
		dims[im.ID] = im
		if _, err := os.Stat(filepath.Join(imageRoot, im.FileName)); err != nil {
			t.Errorf("image %d: %v", im.ID, err)
		}
	}
	seenCat := map[int]bool{}
	var small, medium, large, crowds int
	perImage := map[int64]int{}
	for i, a := range d.Annotations {
		im, ok := dims[a.ImageID]
		if !ok {
			t.Fatalf("annotation %d: unknown image %d", a.ID, a.ImageID)
		}
		x, y, w, h := a.Bbox[0], a.Bbox[1], a.Bbox[2], a.Bbox[3]
		if w <= 0 || h <= 0 || x < 0 || y < 0 || x+w > float64(im.Width) || y+h > float64(im.Height) {
			t.Errorf("annotations[%d].bbox %v not inside its %dx%d image", i, a.Bbox, im.Width, im.Height)
		}
		// Area counts pixels at least half covered, which may exceed the
		// exact box's area by a pixel's rim.
		if a.Area <= 0 || a.Area > (w+1)*(h+1) {
			t.Errorf("annotations[%d]: area %v outside (0, (w+1)(h+1) = %v]", i, a.Area, (w+1)*(h+1))
		}
		if a.IsCrowd == 1 {
			crowds++
			checkRLE(t, i, a.Segmentation, im, a.Area)
			continue
		}
		perImage[a.ImageID]++
		seenCat[a.CategoryID] = true
		switch {
		case a.Area < 32*32:
			small++
		case a.Area < 96*96:
			medium++
		default:
			large++
		}
		checkSegmentation(t, i, a.Segmentation, a.Bbox, im, a.Area)
	}
	for _, c := range d.Categories {
		if !seenCat[c.ID] {
			t.Errorf("category %q (id %d) has no annotation", c.Name, c.ID)
		}
	}
	if small == 0 || medium == 0 || large == 0 {
		t.Errorf("object areas: %d small, %d medium, %d large; want all three", small, medium, large)
	}
	if crowds == 0 {
		t.Error("no iscrowd region")
	}
	for id, n := range perImage {
		if n < 1 || n > maxObjects {
			t.Errorf("image %d has %d objects", id, n)
		}
	}
}

// checkRLE checks an uncompressed RLE: it covers the image and its ones
// count the annotation's area.
func checkRLE(t *testing.T, i int, raw json.RawMessage, im cocoImage, area float64) {
	t.Helper()
	var rle cocoRLE
	if err := json.Unmarshal(raw, &rle); err != nil {
		t.Errorf("annotations[%d].segmentation: not an RLE: %v", i, err)
		return
	}
	total, ones := 0, 0
	for k, c := range rle.Counts {
		total += c
		if k%2 == 1 {
			ones += c
		}
	}
	if rle.Size != [2]int{im.Height, im.Width} || total != im.Width*im.Height || float64(ones) != area {
		t.Errorf("annotations[%d]: RLE size %v, %d pixels, %d ones; want [%d %d], %d, %v",
			i, rle.Size, total, ones, im.Height, im.Width, im.Width*im.Height, area)
	}
}

// checkSegmentation checks a non-crowd object: an RLE (when occluded) or
// a polygon whose extent is the box, so unoccluded boxes are exact.
func checkSegmentation(t *testing.T, i int, raw json.RawMessage, box [4]float64, im cocoImage, area float64) {
	t.Helper()
	if strings.HasPrefix(string(raw), "{") {
		checkRLE(t, i, raw, im, area)
		checkRLEInBox(t, i, raw, box)
		return
	}
	var polys [][]float64
	if err := json.Unmarshal(raw, &polys); err != nil || len(polys) != 1 || len(polys[0]) < 6 || len(polys[0])%2 != 0 {
		t.Errorf("annotations[%d].segmentation: bad polygon (%v)", i, err)
		return
	}
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for k := 0; k < len(polys[0]); k += 2 {
		x0, x1 = min(x0, polys[0][k]), max(x1, polys[0][k])
		y0, y1 = min(y0, polys[0][k+1]), max(y1, polys[0][k+1])
	}
	got := [4]float64{x0, y0, x1, y1}
	want := [4]float64{box[0], box[1], box[0] + box[2], box[1] + box[3]}
	// Round shapes are 48-gons inscribed in the true outline, which the box
	// bounds exactly: allow their 0.2% sag.
	tol := 0.011 + 0.003*max(box[2], box[3])
	for k := range got {
		if math.Abs(got[k]-want[k]) > tol {
			t.Errorf("annotations[%d]: polygon extent %v, box corners %v: box not tight", i, got, want)
			break
		}
	}
}

func TestSynthesizeValidatesClean(t *testing.T) {
	out := t.TempDir()
	synthesize(t, testSynth(out))
	for _, split := range []string{"train", "val"} {
		r, err := Validate(context.Background(), localFS(t), ValidateOptions{
			Annotations: filepath.Join(out, "annotations", "instances_"+split+".json"),
			ImageRoot:   filepath.Join(out, split),
			CheckImages: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Err(); err != nil {
			t.Errorf("%s: %v", split, err)
		}
	}
}

func TestSynthesizeOtherSizes(t *testing.T) {
	for _, size := range [][2]int{{200, 150}, {96, 128}, {640, 480}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			out := t.TempDir()
			synthesize(t, SynthOptions{Out: out, Train: 3, Val: 1, Seed: 3, Width: size[0], Height: size[1]})
			r, err := Validate(context.Background(), localFS(t), ValidateOptions{
				Annotations: filepath.Join(out, "annotations", "instances_train.json"),
				ImageRoot:   filepath.Join(out, "train"),
				CheckImages: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			if r.Err() != nil || r.Objects == 0 {
				t.Errorf("%v (annotations: %d)", r.Err(), r.Objects)
			}
		})
	}
}

func TestSynthesizeProgress(t *testing.T) {
	var calls []int
	opts := SynthOptions{Out: t.TempDir(), Train: 4, Val: 3, Seed: 1}
	opts.Progress = func(done, total int) {
		if total != 7 {
			t.Errorf("total %d, want 7", total)
		}
		calls = append(calls, done)
	}
	synthesize(t, opts)
	if len(calls) != 7 || calls[6] != 7 {
		t.Errorf("progress calls %v, want 1..7", calls)
	}
}

func TestSynthOptionsRejected(t *testing.T) {
	cases := []struct {
		name string
		opts SynthOptions
		want string
	}{
		{"no output", SynthOptions{Train: 1}, "empty output directory"},
		{"no images", SynthOptions{Out: "x"}, "at least one image"},
		{"negative", SynthOptions{Out: "x", Train: -1, Val: 2}, "non-negative"},
		{"tiny", SynthOptions{Out: "x", Train: 1, Width: 32, Height: 32}, "at least 64"},
		{"quality", SynthOptions{Out: "x", Train: 1, Quality: 101}, "jpeg quality"},
	}
	for _, c := range cases {
		_, err := Synthesize(context.Background(), localFS(t), c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}

func TestSynthesizeCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Synthesize(ctx, localFS(t), SynthOptions{Out: t.TempDir(), Train: 5, Val: 1})
	if err == nil {
		t.Error("cancelled synthesis succeeded")
	}
}

// checkRLEInBox checks that an occluded object's visible pixels reach to
// within tipSlack of every side of its box: beyond the last pixel that is at
// least half covered, only an acute tip (a star's, a triangle's) may stick out.
const tipSlack = 1.6

func checkRLEInBox(t *testing.T, i int, raw json.RawMessage, box [4]float64) {
	t.Helper()
	var rle cocoRLE
	if err := json.Unmarshal(raw, &rle); err != nil {
		return // reported by checkRLE
	}
	h := rle.Size[0]
	x0, y0, x1, y1 := math.MaxInt, math.MaxInt, -1, -1
	pos := 0
	for k, c := range rle.Counts {
		if k%2 == 1 {
			for p := pos; p < pos+c; p++ {
				x, y := p/h, p%h // column-major
				x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
			}
		}
		pos += c
	}
	pix := [4]float64{float64(x0), float64(y0), float64(x1 + 1), float64(y1 + 1)}
	want := [4]float64{box[0], box[1], box[0] + box[2], box[1] + box[3]}
	for k := range pix {
		if math.Abs(pix[k]-want[k]) > tipSlack {
			t.Errorf("annotations[%d]: visible pixels span %v, box corners %v", i, pix, want)
			break
		}
	}
}
