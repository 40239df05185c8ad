package coco

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestEvaluateCancelled(t *testing.T) {
	ds, dets := loadCase(t, "random")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Evaluate(ctx, ds, dets, mustParams(BBox)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Evaluate with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestEvaluateImageRejects(t *testing.T) {
	ds, _ := loadCase(t, "edge")
	tests := []struct {
		name  string
		p     Params
		image int64
		dets  []Detection
		want  string
	}{
		{"unknown image", mustParams(BBox), 999, nil, "evaluate image 999: not in the ground truth"},
		{"other image's detection", mustParams(BBox), 40, []Detection{{ID: 1, ImageID: 3, CategoryID: 1}}, "detection 1 belongs to image 3"},
		{"unknown category", mustParams(BBox), 40, []Detection{{ID: 2, ImageID: 40, CategoryID: 4}}, "detection 2 has unknown category 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := NewEvaluator(ds, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ev.EvaluateImage(tt.image, tt.dets)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
	// Without categories an unknown one is fine.
	ev, err := NewEvaluator(ds, mustParams(Proposal))
	if err != nil {
		t.Fatal(err)
	}
	ie, err := ev.EvaluateImage(40, []Detection{{ID: 2, ImageID: 40, CategoryID: 4, BBox: Box{10, 10, 30, 30}, Score: 1}})
	if err != nil || len(ie.Categories) != 1 || ie.Categories[0].CategoryID != -1 {
		t.Fatalf("proposal EvaluateImage = %+v, %v", ie, err)
	}
}

func TestParamsValidate(t *testing.T) {
	bad := []func(*Params){
		func(p *Params) { p.IoUThresholds = make([]float64, 33) },
		func(p *Params) { p.MaxDets = []int{100, 10} },
		func(p *Params) { p.MaxDets = nil },
		func(p *Params) { p.AreaRanges = nil },
		func(p *Params) { p.RecallThresholds = []float64{1, 0} },
	}
	for i, mutate := range bad {
		p := mustParams(BBox)
		mutate(&p)
		if err := p.validate(); err == nil {
			t.Errorf("case %d: validate accepted %+v", i, p)
		}
	}
	p := mustParams(BBox)
	if p.IoUThresholds[8] != 0.8999999999999999 || p.IoUThresholds[9] != 0.95 || p.RecallThresholds[100] != 1 {
		t.Errorf("thresholds differ from numpy.linspace: %v", p.IoUThresholds)
	}
}
