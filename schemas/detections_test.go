package schemas

import (
	"bytes"
	"testing"
)

// The mask columns were added within version 1: a detections file written
// before them still reads, masks null; a mask row round-trips.
func TestDetectionsWithoutMaskColumnsStillRead(t *testing.T) {
	type oldDetection struct {
		ImageID    int64   `parquet:"image_id"`
		CategoryID int64   `parquet:"category_id"`
		Label      int32   `parquet:"label"`
		Score      float32 `parquet:"score"`
		X          float32 `parquet:"x"`
		Y          float32 `parquet:"y"`
		W          float32 `parquet:"w"`
		H          float32 `parquet:"h"`
		IoUType    string  `parquet:"iou_type"`
		Checkpoint string  `parquet:"checkpoint"`
	}
	var buf bytes.Buffer
	if err := Encode(&buf, Detections, []oldDetection{{ImageID: 3, CategoryID: 2, Score: 0.5, W: 4, IoUType: "bbox"}}); err != nil {
		t.Fatal(err)
	}
	got, err := Decode[Detection](bytes.NewReader(buf.Bytes()), int64(buf.Len()), Detections)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Detection{ImageID: 3, CategoryID: 2, Score: 0.5, W: 4, IoUType: "bbox"}); len(got) != 1 || got[0] != want {
		t.Errorf("old row read as %+v, want %+v", got, want)
	}
	rows := []Detection{{ImageID: 1, IoUType: "segm", Mask: "52203", MaskHeight: 3, MaskWidth: 4}, {ImageID: 2, IoUType: "bbox"}}
	buf.Reset()
	if err := Encode(&buf, Detections, rows); err != nil {
		t.Fatal(err)
	}
	if got, err = Decode[Detection](bytes.NewReader(buf.Bytes()), int64(buf.Len()), Detections); err != nil || len(got) != 2 || got[0] != rows[0] || got[1] != rows[1] {
		t.Errorf("round trip %+v (%v), want %+v", got, err, rows)
	}
}
