package detector

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/detection"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/tensor"
	"github.com/detflow/detflow/tensor/tensortest"
	"github.com/detflow/detflow/zoo"
)

var allTypes = []string{zoo.ModelFastRCNN, zoo.ModelRPN, zoo.ModelFasterRCNN, zoo.ModelRetinaNet}

// wantLosses are the loss names each detector returns.
var wantLosses = map[string][]string{
	zoo.ModelFastRCNN:   {"loss_bbox", "loss_cls"},
	zoo.ModelRPN:        {"loss_rpn_bbox", "loss_rpn_cls"},
	zoo.ModelFasterRCNN: {"loss_bbox", "loss_cls", "loss_rpn_bbox", "loss_rpn_cls"},
	zoo.ModelRetinaNet:  {"loss_bbox", "loss_cls"},
}

func buildTiny(t testing.TB, e *tensor.Engine, typ string, seed uint64) Detector {
	t.Helper()
	d, err := Build(e, tinyConfig(t, typ), rand.New(rand.NewPCG(seed, 0)))
	if err != nil {
		t.Fatalf("build %s: %v", typ, err)
	}
	return d
}

func TestLossesAreFiniteScalarsWithGradients(t *testing.T) {
	for _, typ := range allTypes {
		t.Run(typ, func(t *testing.T) {
			e := newEngine()
			d := buildTiny(t, e, typ, 1)
			b := batch.Collate(e, tinyItems(), 32)
			losses, err := d.Losses(b, rngsFor(5, 2))
			if err != nil {
				t.Fatal(err)
			}
			names := make([]string, 0, len(losses))
			for k, v := range losses {
				names = append(names, k)
				if v.Len() != 1 {
					t.Errorf("%s has shape %v, want a scalar", k, v.Shape())
				}
				if x := v.Item(); math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) || x < 0 {
					t.Errorf("%s = %g", k, x)
				}
			}
			slices.Sort(names)
			if !slices.Equal(names, wantLosses[typ]) {
				t.Errorf("losses %v, want %v", names, wantLosses[typ])
			}
			TotalLoss(losses).Backward()
			// Every trainable parameter that the losses reach gets a
			// gradient; the regressor and classifier at least.
			got := 0
			for _, p := range nn.TrainableParameters(d) {
				if p.Tensor.Grad() != nil {
					got++
				}
			}
			if n := len(nn.TrainableParameters(d)); got != n {
				t.Errorf("%d of %d trainable parameters got a gradient", got, n)
			}
		})
	}
}

// TestStateDictNames checks the MMDetection/torchvision names the weights
// load by.
func TestStateDictNames(t *testing.T) {
	e := newEngine()
	d := buildTiny(t, e, zoo.ModelFasterRCNN, 1)
	sd := nn.StateDict(d)
	for _, k := range []string{
		"backbone.conv1.weight", "backbone.bn1.running_var", "backbone.layer1.0.conv1.weight",
		"backbone.layer2.0.downsample.0.weight", "backbone.layer2.0.downsample.1.bias",
		"neck.lateral_convs.0.conv.weight", "neck.fpn_convs.3.conv.bias",
		"rpn_head.rpn_conv.weight", "rpn_head.rpn_cls.weight", "rpn_head.rpn_reg.bias",
		"roi_head.bbox_head.shared_fcs.0.weight", "roi_head.bbox_head.shared_fcs.1.bias",
		"roi_head.bbox_head.fc_cls.weight", "roi_head.bbox_head.fc_reg.weight",
	} {
		if sd[k] == nil {
			t.Errorf("no tensor named %q", k)
		}
	}
	if got := sd["roi_head.bbox_head.fc_cls.weight"].Shape(); !slices.Equal(got, []int{4, 32}) {
		t.Errorf("fc_cls shape %v, want [4 32] (3 classes + background)", got)
	}
	if got := sd["roi_head.bbox_head.fc_reg.weight"].Shape(); !slices.Equal(got, []int{12, 32}) {
		t.Errorf("fc_reg shape %v, want [12 32]", got)
	}
}

// trainSteps runs SGD on the items for the given steps and returns the
// total loss of each step.
func trainSteps(t testing.TB, e *tensor.Engine, d Detector, items []*batch.Item, steps int, lr float32) []float32 {
	t.Helper()
	opt := nn.NewSGD(nn.TrainableParameters(d), lr, 0.9, 1e-4)
	var out []float32
	for s := 0; s < steps; s++ {
		mark := e.Mark()
		nn.ZeroGrad(d)
		b := batch.Collate(e, items, 32)
		losses, err := d.Losses(b, rngsFor(uint64(100+s), len(items)))
		if err != nil {
			t.Fatal(err)
		}
		total := TotalLoss(losses)
		out = append(out, total.Item())
		total.Backward()
		nn.ClipGradNorm(nn.TrainableParameters(d), 35)
		opt.Step()
		e.Release(mark)
	}
	return out
}

// TestFreeGraphKeepsTraining: every detector trains to the same losses,
// bit for bit, when Backward hands activations back as it goes (the
// trainer's SetFreeGraph): no operator's backward reads a buffer that a
// later-running node's backward has already freed.
func TestFreeGraphKeepsTraining(t *testing.T) {
	for _, typ := range allTypes {
		run := func(free bool) []float32 {
			e := tensor.NewEngine(tensor.NewCPU(0))
			e.SetFreeGraph(free)
			return trainSteps(t, e, buildTiny(t, e, typ, 3), tinyItems(), 3, 0.02)
		}
		if kept, freed := run(false), run(true); !slices.Equal(kept, freed) {
			t.Errorf("%s losses: %v with the graph kept, %v freed", typ, kept, freed)
		}
	}
}

// TestOverfitOneImage is a learning test: 30 SGD steps (90 for RetinaNet) on one image must
// cut the loss by far more than an untrained model's noise, and the
// trained Fast R-CNN must then find the image's objects with the right
// classes.
func TestOverfitOneImage(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for 30 steps")
	}
	items := tinyItems()[:1]
	for _, typ := range allTypes {
		t.Run(typ, func(t *testing.T) {
			e := newEngine()
			d := buildTiny(t, e, typ, 2)
			steps := 30
			if typ == zoo.ModelRetinaNet {
				// The focal loss starts from the prior (every class at
				// probability 0.01) and falls slowly for the first steps.
				steps = 90
			}
			hist := trainSteps(t, e, d, items, steps, 0.02)
			first, last := hist[0], mean(hist[len(hist)-5:])
			t.Logf("%s loss: first %.4f, mean of last 5 %.4f", typ, first, last)
			if !(last < 0.5*first) {
				t.Errorf("loss went from %.4f to %.4f: not learning", first, last)
			}
			if typ != zoo.ModelFastRCNN {
				return
			}
			dets, err := d.Predict(batch.Collate(e, items, 32))
			if err != nil {
				t.Fatal(err)
			}
			it := items[0]
			for g := range it.GTLabels {
				gt := []float32{it.GTBoxes[4*g] / it.ScaleX, it.GTBoxes[4*g+1] / it.ScaleY, it.GTBoxes[4*g+2] / it.ScaleX, it.GTBoxes[4*g+3] / it.ScaleY}
				if !found(dets[0], gt, it.GTLabels[g], 0.5) {
					t.Errorf("gt %d (label %d, %v) not detected; detections %+v", g, it.GTLabels[g], gt, dets[0])
				}
			}
		})
	}
}

func mean(v []float32) float32 {
	var s float32
	for _, x := range v {
		s += x
	}
	return s / float32(len(v))
}

// found reports whether a detection of the label overlaps gt by IoU >= thr.
func found(d detection.Detections, gt []float32, label int32, thr float32) bool {
	iou := detection.BoxIoU(d.Boxes, gt, false)
	for i, l := range d.Labels {
		if l == label && iou[i] >= thr {
			return true
		}
	}
	return false
}

func TestPredictBoxesInsideOriginalImage(t *testing.T) {
	for _, typ := range allTypes {
		t.Run(typ, func(t *testing.T) {
			e := newEngine()
			d := buildTiny(t, e, typ, 3)
			items := tinyItems()
			dets, err := d.Predict(batch.Collate(e, items, 32))
			if err != nil {
				t.Fatal(err)
			}
			if len(dets) != len(items) {
				t.Fatalf("%d detection sets for %d images", len(dets), len(items))
			}
			total := 0
			for i, det := range dets {
				it := items[i]
				n := len(det.Scores)
				total += n
				if len(det.Boxes) != 4*n || len(det.Labels) != n {
					t.Fatalf("image %d: %d boxes values, %d labels for %d scores", i, len(det.Boxes), len(det.Labels), n)
				}
				if typ != zoo.ModelRPN && n > 100 {
					t.Errorf("image %d: %d detections, max 100", i, n)
				}
				for j := 0; j < n; j++ {
					b := det.Boxes[4*j : 4*j+4]
					if b[0] < 0 || b[1] < 0 || b[2] > float32(it.OrigW) || b[3] > float32(it.OrigH) || b[2] < b[0] || b[3] < b[1] {
						t.Fatalf("image %d: box %v outside the %dx%d original image", i, b, it.OrigW, it.OrigH)
					}
					if j > 0 && det.Scores[j] > det.Scores[j-1] {
						t.Fatalf("image %d: scores not decreasing at %d", i, j)
					}
					if typ != zoo.ModelRPN && det.Scores[j] <= 0.05 {
						t.Fatalf("image %d: score %g at or below the threshold", i, det.Scores[j])
					}
				}
			}
			if typ == zoo.ModelRPN && total == 0 {
				t.Error("the RPN proposed nothing")
			}
		})
	}
}

// TestDeterminism: the same seeds give the same initial weights, losses
// and gradients; another sampling seed gives other losses.
func TestDeterminism(t *testing.T) {
	run := func(initSeed, sampleSeed uint64) ([]float32, []float32) {
		e := newEngine()
		d := buildTiny(t, e, zoo.ModelFasterRCNN, initSeed)
		losses, err := d.Losses(batch.Collate(e, tinyItems(), 32), rngsFor(sampleSeed, 2))
		if err != nil {
			t.Fatal(err)
		}
		var vals []float32
		for _, k := range wantLosses[zoo.ModelFasterRCNN] {
			vals = append(vals, losses[k].Item())
		}
		TotalLoss(losses).Backward()
		return vals, nn.StateDict(d)["roi_head.bbox_head.fc_cls.weight"].Grad().Data()
	}
	l1, g1 := run(7, 9)
	l2, g2 := run(7, 9)
	if !slices.Equal(l1, l2) || !slices.Equal(g1, g2) {
		t.Fatalf("same seeds, different results: %v vs %v", l1, l2)
	}
	l3, _ := run(7, 10)
	if slices.Equal(l1, l3) {
		t.Errorf("another sampling seed gave identical losses %v", l1)
	}
}

// TestPerImageLossesAverage checks the replica property the trainer relies
// on: the loss of a two-image batch is the mean of the single-image losses
// (with BN in eval mode, so images do not interact through batch statistics).
func TestPerImageLossesAverage(t *testing.T) {
	for _, typ := range allTypes {
		t.Run(typ, func(t *testing.T) {
			e := newEngine()
			d := buildTiny(t, e, typ, 4)
			nn.SetTraining(d, false)
			items := tinyItems()
			rngs := func() []*rand.Rand { return rngsFor(11, 2) }
			both, err := d.Losses(batch.Collate(e, items, 32), rngs())
			if err != nil {
				t.Fatal(err)
			}
			r := rngs()
			one, err := d.Losses(batch.Collate(e, items[:1], 32), r[:1])
			if err != nil {
				t.Fatal(err)
			}
			two, err := d.Losses(batch.Collate(e, items[1:], 32), r[1:])
			if err != nil {
				t.Fatal(err)
			}
			for k := range both {
				want := (one[k].Item() + two[k].Item()) / 2
				if got := both[k].Item(); math.Abs(float64(got-want)) > 1e-4*(1+math.Abs(float64(want))) {
					t.Errorf("%s: batch %g, mean of images %g", k, got, want)
				}
			}
		})
	}
}

func TestCrowdBoxesAreNotTargets(t *testing.T) {
	it := tinyItems()[0]
	it.GTCrowd = []bool{true, false}
	g, err := splitGT(it, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.labels) != 1 || g.labels[0] != 2 || len(g.crowd) != 4 {
		t.Fatalf("split = %+v, want one non-crowd gt of label 2 and one crowd box", g)
	}
	e := newEngine()
	d := buildTiny(t, e, zoo.ModelFastRCNN, 1).(*FastRCNN)
	s, err := d.RoIHead.Sample([]*batch.Item{it}, [][]float32{it.GTBoxes}, rngsFor(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range s.Labels {
		if l == 0 {
			t.Errorf("roi %d (%v) got the crowd box's label", i, s.RoIs[5*i:5*i+5])
		}
	}
}

// TestEmptyImagesStillTrain: a batch with no gts and no proposals has zero
// RoI losses that Backward accepts.
func TestEmptyImagesStillTrain(t *testing.T) {
	e := newEngine()
	d := buildTiny(t, e, zoo.ModelFastRCNN, 1)
	it := tinyItems()[0]
	it.GTBoxes, it.GTLabels, it.GTCrowd, it.Proposals, it.ProposalScores = nil, nil, nil, nil, nil
	losses, err := d.Losses(batch.Collate(e, []*batch.Item{it}, 32), rngsFor(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	total := TotalLoss(losses)
	if v := total.Item(); v != 0 {
		t.Fatalf("total loss %g, want 0", v)
	}
	total.Backward()
	dets, err := d.Predict(batch.Collate(e, []*batch.Item{it}, 32))
	if err != nil {
		t.Fatal(err)
	}
	if len(dets) != 1 || len(dets[0].Scores) != 0 {
		t.Fatalf("detections %+v, want one empty set", dets)
	}
}

// TestLegacyPlusOne runs every detector with MMDetection v0's +1 pixel
// convention (legacy box coder, anchors, IoU and level mapping).
func TestLegacyPlusOne(t *testing.T) {
	for _, typ := range allTypes {
		t.Run(typ, func(t *testing.T) {
			cfg := tinyConfig(t, typ)
			cfg.Model.LegacyPlusOne = true
			e := newEngine()
			d, err := Build(e, cfg, rand.New(rand.NewPCG(1, 1)))
			if err != nil {
				t.Fatal(err)
			}
			b := batch.Collate(e, tinyItems(), 32)
			losses, err := d.Losses(b, rngsFor(1, 2))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range losses {
				if x := float64(v.Item()); math.IsNaN(x) || math.IsInf(x, 0) {
					t.Errorf("%s = %g", k, x)
				}
			}
			TotalLoss(losses).Backward()
			if _, err := d.Predict(b); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRoIHeadLossGradient checks the RoI head's loss assembly (per-RoI
// weights, class-specific column gather, smooth-L1) against central
// differences on the classifier's and regressor's weights.
func TestRoIHeadLossGradient(t *testing.T) {
	e := newEngine()
	d := buildTiny(t, e, zoo.ModelFastRCNN, 5).(*FastRCNN)
	nn.SetTraining(d, false) // deterministic: BN on running statistics
	items := tinyItems()
	lossAt := func() float64 {
		var l float64
		e.NoGrad(func() {
			losses, err := d.Losses(batch.Collate(e, items, 32), rngsFor(3, 2))
			if err != nil {
				t.Fatal(err)
			}
			l = float64(TotalLoss(losses).Item())
		})
		return l
	}
	losses, err := d.Losses(batch.Collate(e, items, 32), rngsFor(3, 2))
	if err != nil {
		t.Fatal(err)
	}
	TotalLoss(losses).Backward()
	for _, p := range []*tensor.Tensor{d.RoIHead.BBoxHead.FCCls.Weight, d.RoIHead.BBoxHead.FCReg.Weight, d.RoIHead.BBoxHead.FCReg.Bias} {
		grad := p.Grad().Data()
		vals := p.Data()
		for _, i := range []int{0, 7, len(vals) / 2, len(vals) - 1} {
			const h = 1e-2
			orig := vals[i]
			vals[i] = orig + h
			p.CopyFrom(vals)
			up := lossAt()
			vals[i] = orig - h
			p.CopyFrom(vals)
			down := lossAt()
			vals[i] = orig
			p.CopyFrom(vals)
			num := (up - down) / (2 * h)
			if math.Abs(float64(grad[i])-num) > 2e-3*(1+math.Abs(num)) {
				t.Errorf("%v[%d]: analytic %g, numeric %g", p.Shape(), i, grad[i], num)
			}
		}
	}
}

// TestRoIHeadLossValues recomputes the RoI head's losses on the host from
// the same sampled targets: cross-entropy averaged over the sampled RoIs,
// smooth-L1 of the positives' class deltas summed and divided by the
// number of sampled RoIs (MMDetection's avg_factor), for one image.
func TestRoIHeadLossValues(t *testing.T) {
	e := newEngine()
	d := buildTiny(t, e, zoo.ModelFastRCNN, 6).(*FastRCNN)
	nn.SetTraining(d, false)
	items := tinyItems()[:1]
	b := batch.Collate(e, items, 32)
	losses, err := d.Losses(b, rngsFor(8, 1))
	if err != nil {
		t.Fatal(err)
	}
	feats, err := d.features(b.Images)
	if err != nil {
		t.Fatal(err)
	}
	s, err := d.RoIHead.Sample(items, firstK(items, d.TopKTrain), rngsFor(8, 1))
	if err != nil {
		t.Fatal(err)
	}
	tg := d.RoIHead.boxTargets(s)
	pooled, err := d.RoIHead.Extractor.Forward(feats, tg.rois)
	if err != nil {
		t.Fatal(err)
	}
	logits, deltas := d.RoIHead.BBoxHead.Forward(pooled)
	lg, dl := logits.Data(), deltas.Data()
	k1 := d.RoIHead.opt.BBox.NumClasses + 1
	r := len(tg.labels)
	var ce, reg float64
	pos := 0
	for i := 0; i < r; i++ {
		row := lg[i*k1 : (i+1)*k1]
		mx := float64(slices.Max(row))
		var z float64
		for _, v := range row {
			z += math.Exp(float64(v) - mx)
		}
		ce += mx + math.Log(z) - float64(row[tg.labels[i]])
		if int(tg.labels[i]) == k1-1 {
			continue
		}
		pos++
		for c := 0; c < 4; c++ {
			diff := math.Abs(float64(dl[i*(k1-1)*4+4*int(tg.labels[i])+c] - tg.regTargets[4*i+c]))
			if diff < 1 {
				reg += 0.5 * diff * diff
			} else {
				reg += diff - 0.5
			}
		}
	}
	if pos == 0 {
		t.Fatal("no positive RoI sampled")
	}
	for name, want := range map[string]float64{"loss_cls": ce / float64(r), "loss_bbox": reg / float64(r)} {
		if got := float64(losses[name].Item()); math.Abs(got-want) > 1e-5*(1+want) {
			t.Errorf("%s = %g, host recomputation %g", name, got, want)
		}
	}
}

// TestRPNLossValues recomputes the RPN losses on the host: binary
// cross-entropy averaged over the sampled anchors, smooth-L1 (beta 1/9) of
// the positives summed and divided by the number of sampled anchors.
func TestRPNLossValues(t *testing.T) {
	e := newEngine()
	d := buildTiny(t, e, zoo.ModelRPN, 6).(*RPN)
	nn.SetTraining(d, false)
	items := tinyItems()[:1]
	b := batch.Collate(e, items, 32)
	losses, err := d.Losses(b, rngsFor(8, 1))
	if err != nil {
		t.Fatal(err)
	}
	feats, err := d.features(b.Images)
	if err != nil {
		t.Fatal(err)
	}
	out, err := d.RPNHead.Forward(feats)
	if err != nil {
		t.Fatal(err)
	}
	n := out.Logits.Dim(1)
	labels, clsW := make([]float32, n), make([]float32, n)
	targets, regW := make([]float32, 4*n), make([]float32, 4*n)
	if err := d.RPNHead.imageTargets(out, items[0], rngsFor(8, 1)[0], 1, labels, clsW, targets, regW); err != nil {
		t.Fatal(err)
	}
	lg, dl := out.Logits.Data(), out.Deltas.Data()
	sampled, pos := 0, 0
	var bce, reg float64
	for j := 0; j < n; j++ {
		if clsW[j] == 0 {
			continue
		}
		sampled++
		x, y := float64(lg[j]), float64(labels[j])
		bce += math.Max(x, 0) - x*y + math.Log1p(math.Exp(-math.Abs(x)))
		if labels[j] != 1 {
			continue
		}
		pos++
		for c := 0; c < 4; c++ {
			diff := math.Abs(float64(dl[4*j+c] - targets[4*j+c]))
			if diff < 1.0/9 {
				reg += 0.5 * diff * diff * 9
			} else {
				reg += diff - 0.5/9
			}
		}
	}
	if sampled != 256 || pos == 0 {
		t.Fatalf("%d sampled anchors (%d positive), want 256 with some positives", sampled, pos)
	}
	for name, want := range map[string]float64{"loss_rpn_cls": bce / float64(sampled), "loss_rpn_bbox": reg / float64(sampled)} {
		if got := float64(losses[name].Item()); math.Abs(got-want) > 1e-5*(1+want) {
			t.Errorf("%s = %g, host recomputation %g", name, got, want)
		}
	}
}

// TestOnAnotherDevice trains and runs each detector on a device that is not
// tensor.CPU (as on a GPU, custom operators such as RoIAlign then copy
// their operands through host memory) and checks that it computes exactly
// what the CPU device does: same kernels, same order, same bits.
func TestOnAnotherDevice(t *testing.T) {
	for _, typ := range allTypes {
		run := func(dev tensor.Device) ([]float32, []detection.Detections) {
			e := tensor.NewEngine(dev)
			d := buildTiny(t, e, typ, 3)
			losses := trainSteps(t, e, d, tinyItems(), 3, 0.02)
			nn.SetTraining(d, false)
			dets, err := d.Predict(batch.Collate(e, tinyItems(), 32))
			if err != nil {
				t.Fatal(err)
			}
			return losses, dets
		}
		lc, dc := run(tensor.NewCPU(1))
		lh, dh := run(tensortest.NewHostDevice(1))
		if !slices.Equal(lc, lh) {
			t.Fatalf("%s: losses %v on the CPU device, %v on the other", typ, lc, lh)
		}
		for i := range dc {
			if !slices.Equal(dc[i].Boxes, dh[i].Boxes) || !slices.Equal(dc[i].Scores, dh[i].Scores) || !slices.Equal(dc[i].Labels, dh[i].Labels) {
				t.Fatalf("%s: image %d detections differ between the CPU device and the other", typ, i)
			}
		}
	}
}
