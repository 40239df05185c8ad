package detector

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/zoo"
)

// TestSampledPositivesMatchTheirGT: every positive the RoI head exposes
// carries its assigned gt's label and box, found by GTIndex in the item's
// own annotation order (a crowd box first shifts it), and overlaps that gt
// by at least the positive threshold of train_cfg.rcnn.assigner.
func TestSampledPositivesMatchTheirGT(t *testing.T) {
	cfg := tinyConfig(t, zoo.ModelFastRCNN)
	a := cfg.TrainCfg.RCNN.Assigner
	// Low-quality matches (always on, as MMDetection v0/v1) may take a gt's
	// best proposal down to min_pos_iou; the shipped configs set both to 0.5.
	thr := float32(min(a.PosIoUThr, a.MinPosIoU))
	e := newEngine()
	d := buildTiny(t, e, zoo.ModelFastRCNN, 1).(*FastRCNN)
	items := tinyItems()
	crowd := items[0]
	crowd.GTBoxes = append([]float32{0, 0, 20, 20}, crowd.GTBoxes...)
	crowd.GTLabels = append([]int32{1}, crowd.GTLabels...)
	crowd.GTCrowd = []bool{true, false, false}
	s, err := d.RoIHead.Sample(items, firstK(items, d.TopKTrain), rngsFor(2, 2))
	if err != nil {
		t.Fatal(err)
	}
	pos := s.Positives()
	if len(pos.Rows) == 0 || len(pos.Rows) == s.Len() {
		t.Fatalf("%d positives of %d RoIs: want some of each", len(pos.Rows), s.Len())
	}
	for j, r := range pos.Rows {
		it, g := items[int(pos.RoIs[5*j])], pos.GTIndex[j]
		if g < 0 || g >= len(it.GTLabels) || it.GTCrowd[g] {
			t.Fatalf("positive %d: gt index %d of image %d is not a non-crowd gt", j, g, it.ImageID)
		}
		gt := it.GTBoxes[4*g : 4*g+4]
		if pos.Labels[j] != it.GTLabels[g] || s.Labels[r] != it.GTLabels[g] {
			t.Errorf("positive %d: label %d, its gt %d has %d", j, pos.Labels[j], g, it.GTLabels[g])
		}
		if !slices.Equal(pos.GTBoxes[4*j:4*j+4], gt) {
			t.Errorf("positive %d: gt box %v, item's gt %d is %v", j, pos.GTBoxes[4*j:4*j+4], g, gt)
		}
		if iou := detection.BoxIoU(pos.RoIs[5*j+1:5*j+5], gt, false)[0]; iou < thr {
			t.Errorf("positive %d: IoU %g with its gt, below %g", j, iou, thr)
		}
	}
	k := int32(d.RoIHead.opt.BBox.NumClasses)
	for r := range s.Len() {
		if neg := s.GTIndex[r] < 0; neg != (s.Labels[r] == k) {
			t.Errorf("row %d: gt index %d with label %d", r, s.GTIndex[r], s.Labels[r])
		}
	}
}

// TestLossesMatchBeforeNamedBranches pins the tiny detectors' losses and
// gradients as computed before the RoI head was split into sampling and
// branches: the same draws, the same sums. Bit patterns differ between
// kernel builds (-tags noasm changes the last bit), hence the tolerances.
func TestLossesMatchBeforeNamedBranches(t *testing.T) {
	want := map[string]struct {
		losses map[string]uint32 // float32 bits
		gradL1 float64           // sum of |grad| over the trainable parameters
	}{
		zoo.ModelFastRCNN:   {map[string]uint32{"loss_bbox": 0x3e69eec9, "loss_cls": 0x3faac3aa}, 94.0162738},
		zoo.ModelRPN:        {map[string]uint32{"loss_rpn_bbox": 0x3ad04dca, "loss_rpn_cls": 0x3f3158d0}, 3.651563},
		zoo.ModelFasterRCNN: {map[string]uint32{"loss_bbox": 0x3f0d46f9, "loss_cls": 0x3fb3af16, "loss_rpn_bbox": 0x3ad04dca, "loss_rpn_cls": 0x3f3158d0}, 73.9547159},
	}
	for _, typ := range allTypes {
		t.Run(typ, func(t *testing.T) {
			if _, ok := want[typ]; !ok {
				t.Skipf("%s came after the split", typ)
			}
			e := newEngine()
			d := buildTiny(t, e, typ, 3)
			losses, err := d.Losses(batch.Collate(e, tinyItems(), 32), rngsFor(21, 2))
			if err != nil {
				t.Fatal(err)
			}
			if len(losses) != len(want[typ].losses) {
				t.Errorf("losses %v, want the names of %v", losses, want[typ].losses)
			}
			for name, bits := range want[typ].losses {
				got, w := float64(losses[name].Item()), float64(math.Float32frombits(bits))
				if math.Abs(got-w) > 1e-6*math.Abs(w) {
					t.Errorf("%s = %.9g (%#08x), before %.9g (%#08x)", name, got, math.Float32bits(float32(got)), w, bits)
				}
			}
			TotalLoss(losses).Backward()
			var l1 float64
			for _, p := range nn.TrainableParameters(d) {
				for _, v := range p.Tensor.Grad().Data() {
					l1 += math.Abs(float64(v))
				}
			}
			if w := want[typ].gradL1; math.Abs(l1-w) > 1e-6*w {
				t.Errorf("sum |grad| = %.9g, before %.9g", l1, w)
			}
		})
	}
}

func TestMergeLossesRefusesADuplicateName(t *testing.T) {
	e := newEngine()
	a, b := e.Zeros(), e.Zeros()
	got, err := MergeLosses(Losses{"loss_rpn_cls": a}, Losses{"loss_cls": b, "loss_mask": a})
	if err != nil || len(got) != 3 {
		t.Fatalf("merge = %v, %v; want three losses", got, err)
	}
	_, err = MergeLosses(Losses{"loss_cls": a}, Losses{"loss_cls": b})
	if err == nil || !strings.Contains(err.Error(), `"loss_cls"`) {
		t.Fatalf("err = %v, want one naming loss_cls", err)
	}
}
