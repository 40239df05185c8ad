package records

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/stages/dataset"
)

func TestRecordsWithMasksCarryEachObjectsMask(t *testing.T) {
	ctx := context.Background()
	fsys, dsDir, out := runStage(t, "4", Stage{WithMasks: true})
	desc, err := dataset.ReadDescriptor(ctx, fsys, dsDir)
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := desc.Split("train")
	ds, err := loadDataset(ctx, fsys, loc.Annotations, true)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(ctx, fsys, out, "train")
	if err != nil {
		t.Fatal(err)
	}
	masks := 0
	err = r.ReadAll(ctx, func(rec *schemas.Record) error {
		anns := ds.ImageAnnotations(rec.ImageID)
		if len(rec.GTMasks) != len(anns) {
			t.Errorf("image %d: %d masks for %d annotations", rec.ImageID, len(rec.GTMasks), len(anns))
			return nil
		}
		for i, a := range anns {
			m, err := coco.ParseRLEString(rec.GTMasks[i], int(rec.Height), int(rec.Width))
			if err != nil || m.Validate() != nil {
				t.Errorf("image %d mask %d: %v", rec.ImageID, i, err)
				continue
			}
			if m.String() != a.Segmentation.String() || float64(m.Area()) == 0 {
				t.Errorf("image %d mask %d: area %d differs from annotation %d's segmentation", rec.ImageID, i, m.Area(), a.ID)
			}
			masks++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if masks == 0 {
		t.Error("no masks read")
	}
}

func TestRecordsWithoutMasksColumnStillRead(t *testing.T) {
	// The records row type before gt_masks existed.
	type oldRecord struct {
		ImageID  int64     `parquet:"image_id"`
		FileName string    `parquet:"file_name"`
		Width    int32     `parquet:"width"`
		Height   int32     `parquet:"height"`
		Image    []byte    `parquet:"image"`
		GTBoxes  []float32 `parquet:"gt_boxes,list"`
		GTLabels []int32   `parquet:"gt_labels,list"`
	}
	var buf bytes.Buffer
	rows := []oldRecord{{ImageID: 7, FileName: "a.jpg", Width: 4, Height: 3, GTBoxes: []float32{0, 0, 2, 2}, GTLabels: []int32{1}}}
	if err := schemas.Encode(&buf, schemas.Records, rows); err != nil {
		t.Fatal(err)
	}
	var got []schemas.Record
	n, err := streamRows(bytes.NewReader(buf.Bytes()), int64(buf.Len()), func(r *schemas.Record) error {
		got = append(got, *r)
		return nil
	})
	if err != nil || n != 1 {
		t.Fatalf("read %d rows: %v", n, err)
	}
	if got[0].ImageID != 7 || len(got[0].GTBoxes) != 4 || len(got[0].GTMasks) != 0 {
		t.Errorf("old record read as %+v", got[0])
	}
}

func TestMaskStringRefusesWhatTheMaskHeadCannotUse(t *testing.T) {
	img := coco.Image{ID: 1, Width: 4, Height: 3}
	wrong := coco.BoxToRLE(coco.Box{0, 0, 2, 2}, 5, 4)
	for _, tt := range []struct {
		name string
		a    coco.Annotation
		want string
	}{
		{"missing", coco.Annotation{ID: 9, BBox: coco.Box{0, 0, 2, 2}}, "annotation 9: no segmentation"},
		{"size", coco.Annotation{ID: 8, Segmentation: &wrong}, "annotation 8: segmentation RLE size [5, 4] differs from the image's [3, 4]"},
	} {
		if _, err := maskString(&tt.a, img); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	crowd := coco.Annotation{ID: 3, BBox: coco.Box{1, 0, 2, 3}, IsCrowd: true}
	s, err := maskString(&crowd, img)
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := coco.ParseRLEString(s, 3, 4); m.Area() != 6 {
		t.Errorf("crowd without segmentation: mask area %d, want its box's 6", m.Area())
	}
}
