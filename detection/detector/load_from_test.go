package detector

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/nn"
)

// saveSafetensors writes sd to a file in t's temp folder.
func saveSafetensors(t *testing.T, name string, sd map[string]nn.HostTensor) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := nn.WriteSafetensors(f, sd, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func buildConfigured(t *testing.T, name string, sets ...string) Detector {
	t.Helper()
	cfg, err := configs.Load(name, sets)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Build(newEngine(), cfg, rand.New(rand.NewPCG(7, 7)))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func sameStateDicts(t *testing.T, got, want map[string]nn.HostTensor) {
	t.Helper()
	if !slices.Equal(slices.Sorted(keysOf(got)), slices.Sorted(keysOf(want))) {
		t.Fatalf("names differ:\n got %v\nwant %v", slices.Sorted(keysOf(got)), slices.Sorted(keysOf(want)))
	}
	for k, w := range want {
		if !slices.Equal(got[k].Data, w.Data) || !slices.Equal(got[k].Shape, w.Shape) {
			t.Fatalf("%s differs", k)
		}
	}
}

func keysOf[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestLoadFromTorchvisionPthEqualsDirectLoad: model.load_from on the
// torchvision .pth gives the same model as LoadTorchvisionFasterRCNN.
func TestLoadFromTorchvisionPthEqualsDirectLoad(t *testing.T) {
	_, want := loadTVDetector(t)
	d, err := NewFasterRCNNFromConfig(newEngine(), tvConfig(t), rand.New(rand.NewPCG(2, 2)))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := LoadFrom(context.Background(), d, "testdata/tv_faster_rcnn_tiny.pth", LoadFromOptions{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Layout != LayoutTorchvision {
		t.Errorf("layout %s, want %s", rep.Layout, LayoutTorchvision)
	}
	sameStateDicts(t, nn.HostStateDict(d), nn.HostStateDict(want))
}

// TestLayoutFixturesLoadToTheSameModel: the MMDetection v1 .pth and the
// Detectron2 .pkl of gen_layout_fixtures.py, renamed from the torchvision
// fixture by those projects' rules, give the same model as it.
func TestLayoutFixturesLoadToTheSameModel(t *testing.T) {
	_, src := loadTVDetector(t)
	want := nn.HostStateDict(src)
	for file, layout := range map[string]Layout{"mmdet_v1_tiny.pth": LayoutMMDetV1, "detectron2_tiny.pkl": LayoutDetectron2} {
		d, err := NewFasterRCNNFromConfig(newEngine(), tvConfig(t), rand.New(rand.NewPCG(4, 4)))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := LoadFrom(context.Background(), d, "testdata/"+file, LoadFromOptions{Strict: true})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Layout != layout {
			t.Errorf("%s: layout %s, want %s", file, rep.Layout, layout)
		}
		sameStateDicts(t, nn.HostStateDict(d), want)
	}
}

// TestEveryLayoutLoadsToTheSameModel renames one model's weights into
// each layout (MMDetection v1 by hand: top-level bbox_head and mask_head,
// background first; detectron2 and torchvision by their tables) and loads
// them back, for Faster R-CNN and for Mask R-CNN.
func TestEveryLayoutLoadsToTheSameModel(t *testing.T) {
	_, src := loadTVDetector(t)
	mask := buildConfigured(t, "mask_rcnn_tiny_synth")
	models := map[string]struct {
		want  map[string]nn.HostTensor
		build func() Detector
	}{
		"faster_rcnn": {nn.HostStateDict(src), func() Detector {
			d, err := NewFasterRCNNFromConfig(newEngine(), tvConfig(t), rand.New(rand.NewPCG(3, 3)))
			if err != nil {
				t.Fatal(err)
			}
			return d
		}},
		"mask_rcnn": {nn.HostStateDict(mask), func() Detector { return buildConfigured(t, "mask_rcnn_tiny_synth") }},
	}
	for name, m := range models {
		for l, sd := range layoutsOf(t, m.want) {
			if got := DetectLayout(sd); got != l {
				t.Errorf("%s: DetectLayout = %s, want %s", name, got, l)
			}
			d := m.build()
			if _, err := LoadStateDictFrom(d, sd, LoadFromOptions{Strict: true}); err != nil {
				t.Fatalf("%s, %s: %v", name, l, err)
			}
			sameStateDicts(t, nn.HostStateDict(d), m.want)
		}
	}
}

// layoutsOf is a detflow state dict under every layout's names.
func layoutsOf(t *testing.T, want map[string]nn.HostTensor) map[Layout]map[string]nn.HostTensor {
	t.Helper()
	layouts := map[Layout]map[string]nn.HostTensor{LayoutDetflow: want}
	tv, err := FromDetflow(want, LayoutTorchvision)
	if err != nil {
		t.Fatal(err)
	}
	layouts[LayoutTorchvision] = tv
	v1 := map[string]nn.HostTensor{}
	for k, v := range want {
		if rest, ok := strings.CutPrefix(k, "roi_head."); ok {
			v, _ = toTorchvisionRows(k, v) // v1 orders classes as torchvision
			k = rest
		}
		v1[k] = v
	}
	layouts[LayoutMMDetV1] = v1
	d2 := map[string]nn.HostTensor{}
	for k, v := range want {
		if strings.HasSuffix(k, "num_batches_tracked") {
			continue
		}
		theirs, ok := detectron2Names.toTheirs(k)
		if !ok {
			t.Fatalf("no detectron2 name for %s", k)
		}
		d2[theirs] = v
	}
	layouts[LayoutDetectron2] = d2
	return layouts
}

// TestRetinaNetTorchvisionLayoutRoundTrip: torchvision's RetinaNet has a
// background class per anchor that detflow drops on import and writes back
// as a class that never fires.
func TestRetinaNetTorchvisionLayoutRoundTrip(t *testing.T) {
	want := nn.HostStateDict(buildConfigured(t, "retinanet_tiny_synth"))
	tv, err := FromDetflow(want, LayoutTorchvision)
	if err != nil {
		t.Fatal(err)
	}
	bias := tv["head.classification_head.cls_logits.bias"]
	if bias.Shape[0] != 9*10 || bias.Data[0] != retinaNeverBias || bias.Data[10] != retinaNeverBias {
		t.Fatalf("cls_logits.bias %v: want 9 anchors x (9 classes + background), background %v", bias.Shape, retinaNeverBias)
	}
	d := buildConfigured(t, "retinanet_tiny_synth")
	if _, err := LoadStateDictFrom(d, tv, LoadFromOptions{Strict: true}); err != nil {
		t.Fatal(err)
	}
	got := nn.HostStateDict(d)
	for k, v := range want {
		if !strings.HasSuffix(k, "num_batches_tracked") && !slices.Equal(got[k].Data, v.Data) {
			t.Errorf("%s differs after the round trip", k)
		}
	}
}

// TestFineTuneFrom91ClassesReinitialisesOnlyClassLayers loads a
// torchvision-layout checkpoint of a 91-class (background included)
// detector into the 9-class synthetic set's model: fc_cls and fc_reg keep
// their fresh initialisation, everything else is the checkpoint's.
func TestFineTuneFrom91ClassesReinitialisesOnlyClassLayers(t *testing.T) {
	coco := nn.HostStateDict(buildConfigured(t, "faster_rcnn_tiny_synth", "model.roi_head.bbox_head.num_classes=90"))
	for k, v := range coco { // tell checkpoint values from fresh ones
		for i := range v.Data {
			v.Data[i] += 0.5
		}
		coco[k] = v
	}
	tv, err := FromDetflow(coco, LayoutTorchvision)
	if err != nil {
		t.Fatal(err)
	}
	if got := tv["roi_heads.box_predictor.cls_score.weight"].Shape[0]; got != 91 {
		t.Fatalf("checkpoint has %d classes, want 91", got)
	}
	path := saveSafetensors(t, "coco.safetensors", tv)
	d := buildConfigured(t, "faster_rcnn_tiny_synth")
	fresh := nn.HostStateDict(d)
	rep, err := LoadFrom(context.Background(), d, path, LoadFromOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Reinitialised) != 4 || len(rep.NotInCheckpoint) != 0 {
		t.Fatalf("reinitialised %v, not in checkpoint %v; want fc_cls and fc_reg weight and bias only", rep.Reinitialised, rep.NotInCheckpoint)
	}
	for k, v := range nn.HostStateDict(d) {
		want := coco[k].Data
		if classDependent(k) {
			want = fresh[k].Data
		}
		if strings.HasSuffix(k, "num_batches_tracked") {
			continue
		}
		if !slices.Equal(v.Data, want) {
			t.Errorf("%s: class dependent %v, but not as expected", k, classDependent(k))
		}
	}
	if _, err := LoadFrom(context.Background(), d, path, LoadFromOptions{Strict: true}); err == nil ||
		!strings.Contains(err.Error(), "another number of classes") {
		t.Errorf("strict load of 91 classes into 9: %v", err)
	}
}

// TestTorchvisionCOCOLabelsMapOntoTheAnnotatedCategories: a torchvision
// COCO detector (91 labels, background and the 10 unused ids included)
// loads into an 80-class model, label j taking the rows of the j-th
// annotated id, for Faster R-CNN and RetinaNet.
func TestTorchvisionCOCOLabelsMapOntoTheAnnotatedCategories(t *testing.T) {
	var used []int // annotated COCO ids in increasing order
	for id := 1; id <= 90; id++ {
		if !slices.Contains(cocoUnusedIDs, id) {
			used = append(used, id)
		}
	}
	cases := []struct {
		config, entry string
		row           func(r int) int // the 90-class model's row of 80-class row r
	}{
		{"faster_rcnn_tiny_synth", "roi_head.bbox_head.fc_cls.weight", func(r int) int {
			if r == 80 {
				return 90 // background, last
			}
			return used[r] - 1
		}},
		{"faster_rcnn_tiny_synth", "roi_head.bbox_head.fc_reg.bias", func(r int) int { return 4*(used[r/4]-1) + r%4 }},
		{"retinanet_tiny_synth", "bbox_head.retina_cls.bias", func(r int) int { return r/80*90 + used[r%80] - 1 }},
	}
	for _, c := range cases {
		key := "model.roi_head.bbox_head.num_classes"
		if strings.HasPrefix(c.config, "retinanet") {
			key = "model.bbox_head.num_classes"
		}
		coco := nn.HostStateDict(buildConfigured(t, c.config, key+"=90"))
		tv, err := FromDetflow(coco, LayoutTorchvision)
		if err != nil {
			t.Fatal(err)
		}
		d := buildConfigured(t, c.config, key+"=80")
		rep, err := LoadStateDictFrom(d, tv, LoadFromOptions{Strict: true})
		if err != nil {
			t.Fatalf("%s: %v", c.config, err)
		}
		if len(rep.COCOMapped) == 0 {
			t.Errorf("%s: nothing mapped onto COCO's categories", c.config)
		}
		got, src := nn.HostStateDict(d)[c.entry], coco[c.entry]
		w := len(got.Data) / got.Shape[0]
		for r := range got.Shape[0] {
			if !slices.Equal(got.Data[r*w:(r+1)*w], src.Data[c.row(r)*w:(c.row(r)+1)*w]) {
				t.Fatalf("%s %s: row %d is not the 90-class row %d", c.config, c.entry, r, c.row(r))
			}
		}
	}
}

// TestLoadFromErrors: the messages name the file, the entry and the rule.
func TestLoadFromErrors(t *testing.T) {
	dir := t.TempDir()
	raw, err := os.ReadFile("testdata/tv_faster_rcnn_tiny.pth")
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.pth")
	if err := os.WriteFile(truncated, raw[:len(raw)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	// pickle protocol 2: GLOBAL os.system, ("echo pwned",), REDUCE, STOP
	hostile := filepath.Join(dir, "hostile.pkl")
	if err := os.WriteFile(hostile, []byte("\x80\x02cos\nsystem\nX\n\x00\x00\x00echo pwned\x85R."), 0o644); err != nil {
		t.Fatal(err)
	}
	retina := saveSafetensors(t, "retina.safetensors", nn.HostStateDict(buildConfigured(t, "retinanet_tiny_synth")))
	resnet := saveSafetensors(t, "resnet.safetensors", map[string]nn.HostTensor{"conv1.weight": {Shape: []int{1}, Data: []float32{1}}})
	cases := []struct {
		path string
		want []string
	}{
		{truncated, []string{truncated, "truncated?"}},
		{hostile, []string{hostile, `unsupported global "os.system"`}},
		{retina, []string{retina, `entry "bbox_head.cls_convs.0.conv.bias"`, "another architecture"}},
		{resnet, []string{"image classifier", "model.backbone.pretrained"}},
		{filepath.Join(dir, "missing.pth"), []string{"missing.pth", "no such file"}},
	}
	for _, c := range cases {
		d := buildConfigured(t, "faster_rcnn_tiny_synth")
		_, err := LoadFrom(context.Background(), d, c.path, LoadFromOptions{})
		if err == nil {
			t.Errorf("%s: loaded", c.path)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", filepath.Base(c.path), err, w)
			}
		}
	}
}
