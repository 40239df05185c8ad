package dataset

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A small valid data set: two images (a JPEG and a PNG in a subfolder), two
// categories, three annotations. Each broken case edits a copy.
const (
	imgW, imgH = 40, 30
)

func baseDoc() map[string]any {
	return map[string]any{
		"images": []any{
			map[string]any{"id": 1, "file_name": "a.jpg", "width": imgW, "height": imgH},
			map[string]any{"id": 2, "file_name": "sub/b.png", "width": imgW, "height": imgH},
		},
		"annotations": []any{
			map[string]any{"id": 1, "image_id": 1, "category_id": 1, "bbox": []any{1, 2, 10, 8}, "area": 80, "iscrowd": 0},
			map[string]any{"id": 2, "image_id": 2, "category_id": 2, "bbox": []any{0, 0, 40, 30}, "area": 1200, "iscrowd": 0},
			map[string]any{"id": 3, "image_id": 2, "category_id": 1, "bbox": []any{5.5, 6.25, 3, 4}, "area": 12, "iscrowd": 0},
		},
		"categories": []any{
			map[string]any{"id": 1, "name": "circle"},
			map[string]any{"id": 2, "name": "square"},
		},
	}
}

func encodeImage(t *testing.T, format string, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	img.Set(0, 0, color.RGBA{255, 0, 0, 255})
	var buf bytes.Buffer
	var err error
	if format == "png" {
		err = png.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// validFixture writes the base images under dir/images and returns the root.
func validFixture(t *testing.T) (dir, root string) {
	t.Helper()
	dir = t.TempDir()
	root = filepath.Join(dir, "images")
	writeFile(t, filepath.Join(root, "a.jpg"), encodeImage(t, "jpeg", imgW, imgH))
	writeFile(t, filepath.Join(root, "sub", "b.png"), encodeImage(t, "png", imgW, imgH))
	return dir, root
}

func writeFile(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func marshal(t *testing.T, doc map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func images(d map[string]any) []any      { return d["images"].([]any) }
func annotations(d map[string]any) []any { return d["annotations"].([]any) }
func field(list []any, i int) map[string]any {
	return list[i].(map[string]any)
}

func TestValidateAcceptsValidSet(t *testing.T) {
	dir, root := validFixture(t)
	ann := filepath.Join(dir, "instances.json")
	writeFile(t, ann, marshal(t, baseDoc()))
	var progress []int
	r, err := Validate(context.Background(), localFS(t), ValidateOptions{
		Annotations: ann, ImageRoot: root, CheckImages: true,
		Progress: func(done, total int) { progress = append(progress, done*10+total) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Err(); err != nil {
		t.Fatalf("valid set rejected: %v", err)
	}
	if len(progress) != 2 || progress[1] != 22 {
		t.Errorf("progress calls (done*10+total) %v, want [12 22]", progress)
	}
	if r.Images != 2 || r.Objects != 3 || r.Categories != 2 || r.Digest.Size == 0 {
		t.Errorf("report %+v", r)
	}
	if !strings.Contains(r.String(), ": OK") {
		t.Errorf("String() = %q", r.String())
	}
}

func TestValidateRejectsBrokenInputs(t *testing.T) {
	cases := []struct {
		name string
		// edit changes the document; raw, when set, replaces the JSON text;
		// files changes the image tree.
		edit  func(d map[string]any)
		raw   func(js string) string
		files func(t *testing.T, dir, root string)
		// want are substrings of the error: the rule and its first example.
		want []string
	}{
		{
			name: "malformed json",
			raw:  func(js string) string { return js[:len(js)/2] },
			want: []string{"decode COCO json", "unexpected end of JSON input"},
		},
		{
			name: "wrong type",
			edit: func(d map[string]any) { field(images(d), 1)["id"] = "two" },
			want: []string{"decode COCO json", "images.id"},
		},
		{
			name: "no images",
			edit: func(d map[string]any) { d["images"] = []any{}; d["annotations"] = []any{} },
			want: []string{RuleNoImages},
		},
		{
			name: "duplicate image id",
			edit: func(d map[string]any) { field(images(d), 1)["id"] = 1 },
			want: []string{RuleDuplicateImageID + ": 1", "images[1].id = 1 (first at images[0])"},
		},
		{
			name: "duplicate annotation id",
			edit: func(d map[string]any) { field(annotations(d), 2)["id"] = 2 },
			want: []string{RuleDuplicateAnnID + ": 1", "annotations[2].id = 2 (first at annotations[1])"},
		},
		{
			name: "duplicate category id",
			edit: func(d map[string]any) {
				d["categories"] = append(d["categories"].([]any), map[string]any{"id": 2, "name": "again"})
			},
			want: []string{RuleDuplicateCategoryID, "categories[2].id = 2"},
		},
		{
			name: "unknown category",
			edit: func(d map[string]any) { field(annotations(d), 0)["category_id"] = 9 },
			want: []string{RuleUnknownCategory + ": 1", "annotations[0].category_id = 9"},
		},
		{
			name: "annotation for missing image",
			edit: func(d map[string]any) { field(annotations(d), 1)["image_id"] = 77 },
			want: []string{RuleUnknownImage + ": 1", "annotations[1].image_id = 77"},
		},
		{
			name: "annotation without image_id",
			edit: func(d map[string]any) { delete(field(annotations(d), 1), "image_id") },
			want: []string{RuleUnknownImage, "annotations[1].image_id = null"},
		},
		{
			name: "negative width",
			edit: func(d map[string]any) { field(annotations(d), 0)["bbox"] = []any{1, 2, -10, 8} },
			want: []string{RuleBboxNegative + ": 1", "annotations[0].bbox = [1,2,-10,8]"},
		},
		{
			name: "NaN width",
			edit: func(d map[string]any) { field(annotations(d), 1)["bbox"] = []any{0, 0, 7777, 4} },
			raw:  func(js string) string { return strings.Replace(js, "7777", "NaN", 1) },
			want: []string{RuleBboxMalformed + ": 1", `annotations[1].bbox = [0,0,"NaN",4]`},
		},
		{
			name: "infinite height",
			edit: func(d map[string]any) { field(annotations(d), 1)["bbox"] = []any{0, 0, 4, 7777} },
			raw:  func(js string) string { return strings.Replace(js, "7777", "-Infinity", 1) },
			want: []string{RuleBboxMalformed, "annotations[1].bbox"},
		},
		{
			name: "three numbers",
			edit: func(d map[string]any) { field(annotations(d), 2)["bbox"] = []any{1, 2, 3} },
			want: []string{RuleBboxMalformed, "annotations[2].bbox = [1,2,3]"},
		},
		{
			name: "missing bbox",
			edit: func(d map[string]any) { delete(field(annotations(d), 2), "bbox") },
			want: []string{RuleBboxMalformed, "annotations[2].bbox = null"},
		},
		{
			name: "zero-size box",
			edit: func(d map[string]any) { field(annotations(d), 0)["bbox"] = []any{1, 2, 0, 8} },
			want: []string{RuleBboxZero + ": 1", "annotations[0].bbox = [1,2,0,8]"},
		},
		{
			name: "box outside image",
			edit: func(d map[string]any) { field(annotations(d), 0)["bbox"] = []any{35, 2, 10, 8} },
			want: []string{RuleBboxOutside + ": 1", "annotations[0].bbox = [35,2,10,8] (image is 40x30)"},
		},
		{
			name: "negative image width",
			edit: func(d map[string]any) { field(images(d), 0)["width"] = -40 },
			want: []string{RuleImageSize, `images[0] = {"width":-40,"height":30}`},
		},
		{
			name: "file_name escapes",
			edit: func(d map[string]any) { field(images(d), 0)["file_name"] = "../x.jpg" },
			want: []string{RuleFileNameEscapes + ": 1", `images[0].file_name = "../x.jpg"`},
		},
		{
			name: "file_name escapes after a folder",
			edit: func(d map[string]any) { field(images(d), 0)["file_name"] = "sub/../../x.jpg" },
			want: []string{RuleFileNameEscapes, `images[0].file_name = "sub/../../x.jpg"`},
		},
		{
			name: "absolute file_name",
			edit: func(d map[string]any) { field(images(d), 1)["file_name"] = "/etc/passwd" },
			want: []string{RuleFileNameAbsolute + ": 1", `images[1].file_name = "/etc/passwd"`},
		},
		{
			name: "windows absolute file_name",
			edit: func(d map[string]any) { field(images(d), 1)["file_name"] = `C:\data\b.png` },
			want: []string{RuleFileNameAbsolute, `images[1].file_name`},
		},
		{
			name: "unclean file_name",
			edit: func(d map[string]any) { field(images(d), 1)["file_name"] = "sub//b.png" },
			want: []string{RuleFileNameUnclean, `images[1].file_name = "sub//b.png"`},
		},
		{
			name: "duplicate file_name",
			edit: func(d map[string]any) { field(images(d), 1)["file_name"] = "a.jpg" },
			want: []string{RuleDuplicateFileName, `images[1].file_name = "a.jpg" (first at images[0])`},
		},
		{
			name:  "missing image file",
			files: func(t *testing.T, dir, root string) { os.Remove(filepath.Join(root, "sub", "b.png")) },
			want:  []string{RuleImageMissing + ": 1", `images[1].file_name = "sub/b.png"`},
		},
		{
			name: "undecodable image",
			files: func(t *testing.T, dir, root string) {
				writeFile(t, filepath.Join(root, "a.jpg"), []byte("this is not a jpeg"))
			},
			want: []string{RuleImageUndecodable + ": 1", `images[0].file_name = "a.jpg"`},
		},
		{
			name: "size mismatch",
			files: func(t *testing.T, dir, root string) {
				writeFile(t, filepath.Join(root, "sub", "b.png"), encodeImage(t, "png", 41, 30))
			},
			want: []string{RuleImageSizeMismatch + ": 1", "declared 40x30, png file is 41x30"},
		},
		{
			name: "symlink escapes root",
			files: func(t *testing.T, dir, root string) {
				outside := filepath.Join(dir, "outside.jpg")
				writeFile(t, outside, encodeImage(t, "jpeg", imgW, imgH))
				os.Remove(filepath.Join(root, "a.jpg"))
				if err := os.Symlink(outside, filepath.Join(root, "a.jpg")); err != nil {
					t.Skip("no symlinks:", err)
				}
			},
			want: []string{RuleImageLinkEscapes + ": 1", `images[0].file_name = "a.jpg"`},
		},
		{
			// A PNG whose header (matching its declared size) claims 40
			// gigapixels took the proposals stage down with out of memory.
			name: "png bomb",
			edit: func(d map[string]any) {
				field(images(d), 1)["width"] = 200000
				field(images(d), 1)["height"] = 200000
			},
			files: func(t *testing.T, dir, root string) {
				writeFile(t, filepath.Join(root, "sub", "b.png"), pngHeaderOnly(200000, 200000))
			},
			want: []string{RuleImageTooLarge + ": 1", `images[1]`, "dataset.max_pixels"},
		},
		{
			name: "png bomb with a small declared size",
			files: func(t *testing.T, dir, root string) {
				writeFile(t, filepath.Join(root, "sub", "b.png"), pngHeaderOnly(200000, 200000))
			},
			want: []string{RuleImageTooLarge + ": 1", `images[1].file_name = "sub/b.png"`, "header says 200000x200000"},
		},
		{
			name: "truncated jpeg",
			files: func(t *testing.T, dir, root string) {
				b := encodeImage(t, "jpeg", imgW, imgH)
				writeFile(t, filepath.Join(root, "a.jpg"), b[:len(b)*2/3])
			},
			want: []string{RuleImageTruncated + ": 1", `images[0].file_name = "a.jpg"`},
		},
		{
			name: "truncated png",
			files: func(t *testing.T, dir, root string) {
				b := encodeImage(t, "png", imgW, imgH)
				writeFile(t, filepath.Join(root, "sub", "b.png"), b[:len(b)-20])
			},
			want: []string{RuleImageTruncated + ": 1", `images[1].file_name = "sub/b.png"`},
		},
		{
			name: "several rules at once",
			edit: func(d map[string]any) {
				field(images(d), 1)["id"] = 1
				field(annotations(d), 0)["category_id"] = 5
				field(annotations(d), 2)["category_id"] = 6
			},
			want: []string{"3 rules broken", RuleDuplicateImageID + ": 1", RuleUnknownCategory + ": 2", RuleUnknownImage},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, root := validFixture(t)
			doc := baseDoc()
			if c.edit != nil {
				c.edit(doc)
			}
			js := string(marshal(t, doc))
			if c.raw != nil {
				js = c.raw(js)
			}
			ann := filepath.Join(dir, "instances.json")
			writeFile(t, ann, []byte(js))
			if c.files != nil {
				c.files(t, dir, root)
			}
			r, err := Validate(context.Background(), localFS(t), ValidateOptions{Annotations: ann, ImageRoot: root, CheckImages: true})
			if err == nil {
				err = r.Err()
			}
			if err == nil {
				t.Fatalf("accepted; want %q", c.want)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\n does not contain %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), "instances.json") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestValidateReportExamplesAndString(t *testing.T) {
	dir, root := validFixture(t)
	doc := baseDoc()
	var anns []any
	for i := range 10 {
		anns = append(anns, map[string]any{"id": 100 + i, "image_id": 1, "category_id": 42, "bbox": []any{1, 1, 2, 2}})
	}
	doc["annotations"] = anns
	ann := filepath.Join(dir, "instances.json")
	writeFile(t, ann, marshal(t, doc))
	r, err := Validate(context.Background(), localFS(t), ValidateOptions{Annotations: ann, ImageRoot: root, MaxExamples: 2})
	if err != nil {
		t.Fatal(err)
	}
	p := r.Problem(RuleUnknownCategory)
	if p == nil || p.Count != 10 || len(p.Examples) != 2 || p.Examples[1].Path != "annotations[1].category_id" {
		t.Fatalf("problem = %+v", p)
	}
	s := r.String()
	for _, w := range []string{"1 rule broken", RuleUnknownCategory + ": 10", "annotations[0].category_id = 42", "... and 8 more", "presence only"} {
		if !strings.Contains(s, w) {
			t.Errorf("String() = %q\n lacks %q", s, w)
		}
	}
	var verr *ValidationError
	if err := r.Err(); err == nil || !errorsAs(err, &verr) || verr.Report != r {
		t.Errorf("Err() = %v, want a *ValidationError carrying the report", err)
	}
}

func errorsAs(err error, target **ValidationError) bool {
	v, ok := err.(*ValidationError)
	*target = v
	return ok
}

func TestValidateMissingAnnotationsFile(t *testing.T) {
	_, err := Validate(context.Background(), localFS(t), ValidateOptions{Annotations: filepath.Join(t.TempDir(), "nope.json")})
	if err == nil || !strings.Contains(err.Error(), "nope.json") {
		t.Errorf("err = %v", err)
	}
}

func TestFileNameRule(t *testing.T) {
	cases := []struct{ name, want string }{
		{"a.jpg", ""},
		{"train2017/000000000139.jpg", ""},
		{"..a.jpg", ""},
		{"", RuleFileNameEmpty},
		{"/abs.jpg", RuleFileNameAbsolute},
		{`\\server\share\a.jpg`, RuleFileNameAbsolute},
		{"c:/x.jpg", RuleFileNameAbsolute},
		{"gs://bucket/a.jpg", RuleFileNameAbsolute},
		{"..", RuleFileNameEscapes},
		{"../a.jpg", RuleFileNameEscapes},
		{`..\a.jpg`, RuleFileNameEscapes},
		{"a/../../b.jpg", RuleFileNameEscapes},
		{"a/../b.jpg", RuleFileNameUnclean},
		{"./a.jpg", RuleFileNameUnclean},
		{"a//b.jpg", RuleFileNameUnclean},
		{"a/", RuleFileNameUnclean},
		{".", RuleFileNameUnclean},
		{`a\b.jpg`, RuleFileNameUnclean},
	}
	for _, c := range cases {
		if got := fileNameRule(c.name); got != c.want {
			t.Errorf("fileNameRule(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestSanitizeNonFinite(t *testing.T) {
	cases := []struct{ in, want string }{
		{`[1, NaN, 2]`, `[1, "NaN", 2]`},
		{`{"a": -Infinity, "b": Infinity}`, `{"a": "-Infinity", "b": "Infinity"}`},
		{`{"NaN": "x NaN \" Infinity"}`, `{"NaN": "x NaN \" Infinity"}`},
		{`[-1, -2]`, `[-1, -2]`},
	}
	for _, c := range cases {
		got, _ := sanitizeNonFinite([]byte(c.in))
		if string(got) != c.want {
			t.Errorf("sanitize(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

// pngHeaderOnly is a PNG signature, an IHDR of w x h RGBA pixels and IEND:
// a few dozen bytes that DecodeConfig accepts.
func pngHeaderOnly(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	chunk("IHDR", append(ihdr, 8, 6, 0, 0, 0))
	chunk("IEND", nil)
	return b.Bytes()
}
