package schemas

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/detflow/detflow/storage"
)

func TestMetricsRoundTrip(t *testing.T) {
	ctx := context.Background()
	fsys, err := storage.New(ctx, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	rows := []Metric{
		{Run: "r", Pipeline: "p", Stage: "evaluate", Dataset: "synthetic/val", IoUType: "bbox", Metric: "bbox_mAP", Value: 0.25, Created: created},
		{Run: "r", Pipeline: "p", Stage: "train", Metric: "train_s_per_iter", Value: 1.5, Created: created},
	}
	p := filepath.Join(t.TempDir(), "metrics.parquet")
	if err := Write(ctx, fsys, p, Metrics, rows); err != nil {
		t.Fatal(err)
	}
	got, err := Read[Metric](ctx, fsys, p, Metrics)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) {
		t.Fatalf("read %d rows, want %d", len(got), len(rows))
	}
	for i := range rows {
		if !got[i].Created.Equal(rows[i].Created) {
			t.Errorf("row %d created %v, want %v", i, got[i].Created, rows[i].Created)
		}
		got[i].Created = rows[i].Created
		if got[i] != rows[i] {
			t.Errorf("row %d = %+v, want %+v", i, got[i], rows[i])
		}
	}
}

func TestReadRefusesOtherVersionOrTable(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, Table{Name: "metrics", Version: 0}, []Metric{{Metric: "x"}}); err != nil {
		t.Fatal(err)
	}
	_, err := Decode[Metric](bytes.NewReader(buf.Bytes()), int64(buf.Len()), Metrics)
	if err == nil || !strings.Contains(err.Error(), `schema version "0"`) {
		t.Fatalf("old version: %v", err)
	}
	buf.Reset()
	if err := Encode(&buf, Table{Name: "detections", Version: 1}, []Metric{{Metric: "x"}}); err != nil {
		t.Fatal(err)
	}
	_, err = Decode[Metric](bytes.NewReader(buf.Bytes()), int64(buf.Len()), Metrics)
	if err == nil || !strings.Contains(err.Error(), `table "detections"`) {
		t.Fatalf("other table: %v", err)
	}
	_, err = Decode[Metric](bytes.NewReader([]byte("not parquet")), 11, Metrics)
	if err == nil {
		t.Fatal("garbage decoded without error")
	}
}
