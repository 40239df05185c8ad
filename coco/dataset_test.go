package coco

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

const goodInstances = `{
 "info": {"year": 2017}, "licenses": [{"id": 1}],
 "annotations": [
  {"id": 10, "image_id": 2, "category_id": 3, "bbox": [1, 2, 3, 4], "area": 9.5, "iscrowd": 0,
   "segmentation": [[1, 2, 4, 2, 4, 6]]},
  {"id": 11, "image_id": 1, "category_id": 1, "bbox": [0, 0, 10, 10], "iscrowd": 1,
   "segmentation": {"counts": "abc", "size": [5, 5]}},
  {"id": 12, "image_id": 2, "category_id": 1, "bbox": [5, 5, 1, 1], "area": 1}
 ],
 "images": [{"id": 2, "width": 640, "height": 480, "file_name": "b.jpg"}, {"id": 1, "width": 10, "height": 10}],
 "categories": [{"id": 3, "name": "car"}, {"id": 1, "name": "person", "supercategory": "human"}]
}`

func TestLoadDatasetGood(t *testing.T) {
	d, err := LoadDataset(context.Background(), strings.NewReader(goodInstances))
	if err != nil {
		t.Fatal(err)
	}
	if got := d.ImageIDs(); len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Errorf("ImageIDs = %v, want [1 2]", got)
	}
	if got := d.CategoryIDs(); len(got) != 2 || got[0] != 1 || got[1] != 3 {
		t.Errorf("CategoryIDs = %v, want [1 3]", got)
	}
	anns := d.ImageAnnotations(2)
	if len(anns) != 2 || anns[0].ID != 10 || anns[1].ID != 12 {
		t.Fatalf("ImageAnnotations(2) = %+v, want ids 10, 12 in file order", anns)
	}
	if anns[0].Area != 9.5 || anns[0].BBox != (Box{1, 2, 3, 4}) {
		t.Errorf("annotation 10 = %+v", anns[0])
	}
	crowd := d.ImageAnnotations(1)[0]
	if !crowd.IsCrowd || crowd.Area != 100 {
		t.Errorf("annotation 11 = %+v, want crowd with area w*h = 100 (no area field)", crowd)
	}
	if byCat := d.CategoryAnnotations(1); len(byCat) != 2 || byCat[0].ID != 11 || byCat[1].ID != 12 {
		t.Errorf("CategoryAnnotations(1) = %+v, want ids 11, 12", byCat)
	}
	if c, ok := d.Category(1); !ok || c.Name != "person" || c.Supercategory != "human" {
		t.Errorf("Category(1) = %+v, %v", c, ok)
	}
	if img, ok := d.Image(2); !ok || img.Width != 640 || img.FileName != "b.jpg" {
		t.Errorf("Image(2) = %+v, %v", img, ok)
	}
	// Writing and reading back keeps every value.
	var buf bytes.Buffer
	if err := WriteDataset(context.Background(), &buf, d); err != nil {
		t.Fatal(err)
	}
	d2, err := LoadDataset(context.Background(), &buf)
	if err != nil {
		t.Fatalf("reload written data set: %v", err)
	}
	for i := range d.Annotations {
		if d.Annotations[i] != d2.Annotations[i] {
			t.Errorf("annotation %d: wrote %+v, read %+v", i, d.Annotations[i], d2.Annotations[i])
		}
	}
}

func TestLoadDatasetBad(t *testing.T) {
	const imgs = `"images": [{"id": 1}, {"id": 2}], "categories": [{"id": 1, "name": "a"}]`
	ann := func(s string) string { return `{` + imgs + `, "annotations": [` + s + `]}` }
	tests := []struct {
		name, json string
		want       []string
	}{
		{"negative width", ann(`{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,5,5]},{"id":2,"image_id":1,"category_id":1,"bbox":[1,2,-3,4]}`),
			[]string{"annotations[1].bbox[2]: negative width -3"}},
		{"negative height", ann(`{"id":1,"image_id":1,"category_id":1,"bbox":[1,2,3,-0.5]}`),
			[]string{"annotations[0].bbox[3]: negative height -0.5"}},
		{"short box", ann(`{"id":1,"image_id":1,"category_id":1,"bbox":[1,2,3]}`),
			[]string{"annotations[0].bbox: want 4 numbers [x,y,w,h], got 3"}},
		{"duplicate annotation id", ann(`{"id":7,"image_id":1,"category_id":1,"bbox":[0,0,1,1]},{"id":7,"image_id":2,"category_id":1,"bbox":[0,0,1,1]}`),
			[]string{"annotations[1].id: duplicate id 7 (first at annotations[0])"}},
		{"missing image", ann(`{"id":1,"image_id":9,"category_id":1,"bbox":[0,0,1,1]}`),
			[]string{"annotations[0].image_id: unknown image 9"}},
		{"unknown category", ann(`{"id":1,"image_id":1,"category_id":4,"bbox":[0,0,1,1]}`),
			[]string{"annotations[0].category_id: unknown category 4"}},
		{"negative area", ann(`{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,1,1],"area":-2}`),
			[]string{"annotations[0].area: negative area -2"}},
		{"bad iscrowd", ann(`{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,1,1],"iscrowd":2}`),
			[]string{"annotations[0].iscrowd: want 0 or 1, got 2"}},
		{"missing fields", ann(`{"bbox":[0,0,1,1]}`),
			[]string{"annotations[0].id: missing", "annotations[0].image_id: missing", "annotations[0].category_id: missing"}},
		{"several problems listed", ann(`{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,-1,1]},{"id":1,"image_id":3,"category_id":1,"bbox":[0,0,1,1]}`),
			[]string{"3 invalid values", "annotations[0].bbox[2]: negative width -1", "annotations[1].id: duplicate id 1", "annotations[1].image_id: unknown image 3"}},
		{"duplicate image", `{"images":[{"id":1},{"id":1}],"categories":[],"annotations":[]}`,
			[]string{"images[1].id: duplicate id 1 (first at images[0])"}},
		{"duplicate category", `{"images":[],"categories":[{"id":1},{"id":1}],"annotations":[]}`,
			[]string{"categories[1].id: duplicate id 1 (first at categories[0])"}},
		{"missing list", `{"images":[],"categories":[]}`, []string{"annotations: missing"}},
		{"string coordinate", ann(`{"id":1,"image_id":1,"category_id":1,"bbox":[0,"0",1,1]}`),
			[]string{"annotations[0]: json: cannot unmarshal string"}},
		{"fractional id", ann(`{"id":1.5,"image_id":1,"category_id":1,"bbox":[0,0,1,1]}`),
			[]string{"annotations[0]: json: cannot unmarshal number 1.5"}},
		{"NaN literal", ann(`{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,NaN,1]}`),
			[]string{"invalid character 'N'"}},
		{"not an object", `[1, 2]`, []string{"want an object, got \"[\""}},
		{"images not a list", `{"images": {"id": 1}}`, []string{"images: want an array"}},
		{"duplicate key", `{"images": [], "images": []}`, []string{"images: duplicate key"}},
		{"truncated", `{"images": [{"id": 1}`, []string{"decode instances"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadDataset(context.Background(), strings.NewReader(tt.json))
			if err == nil {
				t.Fatal("LoadDataset accepted it")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// asValidationError reports whether err carries a *ValidationError.
func asValidationError(err error) (*ValidationError, bool) {
	var v *ValidationError
	ok := errors.As(err, &v)
	return v, ok
}

func TestValidationErrorCountsAll(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"images":[{"id":1}],"categories":[{"id":1}],"annotations":[`)
	for i := range 250 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,1,1]}`)
	}
	b.WriteString("]}")
	_, err := LoadDataset(context.Background(), strings.NewReader(b.String()))
	v, ok := asValidationError(err)
	if !ok {
		t.Fatalf("error %v is not a *ValidationError", err)
	}
	if v.Total != 249 || len(v.Problems) != maxListedProblems {
		t.Errorf("Total = %d, listed %d; want 249 and %d", v.Total, len(v.Problems), maxListedProblems)
	}
	if !strings.Contains(err.Error(), "and 239 more") {
		t.Errorf("error %q does not say how many more", err)
	}
}

func TestLoadDatasetCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := LoadDataset(ctx, strings.NewReader(goodInstances)); err == nil {
		t.Fatal("LoadDataset ignored a cancelled context")
	}
}

func TestNewDatasetValidates(t *testing.T) {
	_, err := NewDataset([]Image{{ID: 1}}, []Annotation{{ID: 1, ImageID: 1, CategoryID: 2, BBox: Box{0, 0, -1, 1}}}, []Category{{ID: 1}})
	if err == nil || !strings.Contains(err.Error(), "negative width") || !strings.Contains(err.Error(), "unknown category 2") {
		t.Fatalf("NewDataset error = %v, want negative width and unknown category", err)
	}
}
