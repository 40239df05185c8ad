package detector

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/coco"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/zoo"
)

// withEllipses turns each gt rectangle of a synthItem into the ellipse
// inscribed in it (outside pixels back to background) and sets GTMasks to
// the ellipses, so a mask is not its box.
func withEllipses(it *batch.Item) *batch.Item {
	h, w := it.H, it.W
	it.GTMasks = nil
	for g := range it.GTLabels {
		b := it.GTBoxes[4*g : 4*g+4]
		cx, cy := (b[0]+b[2])/2, (b[1]+b[3])/2
		rx, ry := (b[2]-b[0])/2, (b[3]-b[1])/2
		m := make([]byte, h*w) // column-major
		for y := int(b[1]); y < int(b[3]); y++ {
			for x := int(b[0]); x < int(b[2]); x++ {
				dx, dy := (float32(x)+0.5-cx)/rx, (float32(y)+0.5-cy)/ry
				if dx*dx+dy*dy <= 1 {
					m[x*h+y] = 1
					continue
				}
				for c := 0; c < 3; c++ {
					it.Pixels[c*h*w+y*w+x] = 0
				}
			}
		}
		it.GTMasks = append(it.GTMasks, coco.EncodeMask(m, h, w))
	}
	return it
}

func maskItems() []*batch.Item {
	items := tinyItems()
	for _, it := range items {
		withEllipses(it)
	}
	return items
}

// TestMaskTargetsCropAndResizeAsMMDetectionV1: a RoI 16 wide and 10 tall
// over an 8x8 square at x 4..11, y 2..9 gives the 28x28 target that
// bilinear resizing and rounding give by hand: columns 7..20 (source x
// from 3.5 to 11.5) and rows 6..27 (source y from 1.5, the square reaching
// the crop's last row).
func TestMaskTargetsCropAndResizeAsMMDetectionV1(t *testing.T) {
	const h, w = 16, 20
	m := make([]byte, h*w)
	for x := 4; x <= 11; x++ {
		for y := 2; y <= 9; y++ {
			m[x*h+y] = 1
		}
	}
	it := &batch.Item{ImageID: 7, W: w, H: h, GTLabels: []int32{0}, GTMasks: []coco.RLE{coco.EncodeMask(m, h, w)}}
	pos := PositiveRoIs{RoIs: []float32{0, 0, 0, 15.7, 9.2, 0, 4, 2, 11, 9}, GTIndex: []int{0, 0}, Labels: []int32{0, 0}}
	got, err := maskTargets([]*batch.Item{it}, pos, 28, TargetMMDet)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 28; i++ {
		for j := 0; j < 28; j++ {
			want := float32(0)
			if j >= 7 && j <= 20 && i >= 6 {
				want = 1
			}
			if v := got[i*28+j]; v != want {
				t.Fatalf("wide roi target[%d][%d] = %v, want %v", i, j, v, want)
			}
		}
	}
	for i, v := range got[28*28:] {
		if v != 1 {
			t.Fatalf("exact roi target[%d] = %v, want 1 (the roi is the square)", i, v)
		}
	}
}

func TestMaskTargetsNameWhatIsMissing(t *testing.T) {
	pos := PositiveRoIs{RoIs: []float32{0, 1, 1, 5, 5}, GTIndex: []int{0}, Labels: []int32{0}}
	for _, tc := range []struct {
		it   *batch.Item
		want string
	}{
		{&batch.Item{ImageID: 3, W: 8, H: 8, GTLabels: []int32{0}}, "image 3: no instance masks"},
		{&batch.Item{ImageID: 4, W: 8, H: 8, GTLabels: []int32{0, 1}, GTMasks: []coco.RLE{{H: 8, W: 8, Counts: []uint32{64}}}}, "image 4: 1 gt masks for 2 objects"},
		{&batch.Item{ImageID: 5, W: 8, H: 8, GTLabels: []int32{0}, GTMasks: []coco.RLE{{H: 4, W: 8, Counts: []uint32{32}}}}, "image 5: gt mask 0 is 4x8, the image 8x8"},
	} {
		_, err := maskTargets([]*batch.Item{tc.it}, pos, 28, TargetMMDet)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want it to contain %q", err, tc.want)
		}
	}
}

// TestPasteMMDetFillsTheTruncatedInclusiveBox: confident probabilities
// paste to the box truncated to integers with +1 sides (8 x 7 here), and
// clipped at the image's edge.
func TestPasteMMDetFillsTheTruncatedInclusiveBox(t *testing.T) {
	probs := make([]float32, 28*28)
	for i := range probs {
		probs[i] = 0.9
	}
	p, err := newPaster(PasteMMDet, 0.5, 16, 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		box  []float32
		area uint32
		bbox coco.Box
	}{
		{[]float32{3.7, 2.2, 10.9, 8.5}, 56, coco.Box{3, 2, 8, 7}},
		{[]float32{15, 10, 25, 20}, 30, coco.Box{15, 10, 5, 6}},
		{[]float32{3.7, 2.2, 10.9, 8.5}, 56, coco.Box{3, 2, 8, 7}}, // the buffer was cleared
	} {
		r := p.paste(probs, 28, tc.box)
		if r.Area() != tc.area || r.BBox() != tc.bbox {
			t.Errorf("box %v: area %d bbox %+v, want %d %+v", tc.box, r.Area(), r.BBox(), tc.area, tc.bbox)
		}
	}
	if _, err := newPaster("grid_sample", 0.5, 1, 1); err == nil || !strings.Contains(err.Error(), `"grid_sample"`) {
		t.Errorf("unknown mode: %v", err)
	}
}

// TestMaskModelsLoseAndPredictMasks: the mask models return loss_mask
// beside their box losses, it reaches the mask head's parameters, and
// Predict gives one original-sized mask per detection.
func TestMaskModelsLoseAndPredictMasks(t *testing.T) {
	for _, typ := range []string{zoo.ModelMaskRCNN, zoo.ModelFastMaskRCNN} {
		t.Run(typ, func(t *testing.T) {
			e := newEngine()
			d := buildTiny(t, e, typ, 1)
			items := maskItems()
			losses, err := d.Losses(batch.Collate(e, items, 32), rngsFor(5, 2))
			if err != nil {
				t.Fatal(err)
			}
			l, ok := losses["loss_mask"]
			if !ok || math.IsNaN(float64(l.Item())) || l.Item() <= 0 {
				t.Fatalf("losses %v: want a positive loss_mask", losses)
			}
			TotalLoss(losses).Backward()
			h := roiHeadOf(d)
			if g := h.MaskHead.ConvLogits.Weight.Grad(); g == nil || slices.Max(absAll(g.Data())) == 0 {
				t.Error("loss_mask does not reach the mask head")
			}
			dets, err := d.Predict(batch.Collate(e, items, 32))
			if err != nil {
				t.Fatal(err)
			}
			for i, dt := range dets {
				if dt.Masks == nil || len(dt.Masks) != dt.Len() {
					t.Fatalf("image %d: %d masks for %d detections", i, len(dt.Masks), dt.Len())
				}
				for _, m := range dt.Masks {
					if m.H != items[i].OrigH || m.W != items[i].OrigW {
						t.Fatalf("image %d: mask %dx%d, original image %dx%d", i, m.H, m.W, items[i].OrigH, items[i].OrigW)
					}
				}
			}
		})
	}
}

func roiHeadOf(d Detector) *RoIHead {
	switch m := d.(type) {
	case *FastRCNN:
		return m.RoIHead
	case *FasterRCNN:
		return m.RoIHead
	}
	return nil
}

func absAll(v []float32) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(math.Abs(float64(x)))
	}
	return out
}

// TestMaskBranchLearns is the mask learning test: 60 SGD steps on two
// images of ellipses must cut loss_mask clearly below its start, and the
// trained model's masks, pasted into the original frame (twice the item's
// size), must match each ellipse better than filling its box does (IoU >=
// 0.8 > pi/4; 0.85 to 0.95 measured).
func TestMaskBranchLearns(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for 60 steps")
	}
	e := newEngine()
	d := buildTiny(t, e, zoo.ModelFastMaskRCNN, 2)
	items := maskItems()
	opt := nn.NewSGD(nn.TrainableParameters(d), 0.02, 0.9, 1e-4)
	var hist []float32
	for s := 0; s < 60; s++ {
		mark := e.Mark()
		nn.ZeroGrad(d)
		losses, err := d.Losses(batch.Collate(e, items, 32), rngsFor(uint64(100+s), len(items)))
		if err != nil {
			t.Fatal(err)
		}
		hist = append(hist, losses["loss_mask"].Item())
		TotalLoss(losses).Backward()
		nn.ClipGradNorm(nn.TrainableParameters(d), 35)
		opt.Step()
		e.Release(mark)
	}
	first, last := hist[0], mean(hist[len(hist)-5:])
	t.Logf("loss_mask: first %.4f, mean of last 5 %.4f", first, last)
	if !(last < 0.6*first) {
		t.Errorf("loss_mask went from %.4f to %.4f: not learning", first, last)
	}
	dets, err := d.Predict(batch.Collate(e, items, 32))
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range items {
		for g, l := range it.GTLabels {
			gt := upscale2(it.GTMasks[g])
			best := 0.0
			for j, dl := range dets[i].Labels {
				if dl == l {
					best = max(best, coco.MaskIoU(dets[i].Masks[j], gt, false))
				}
			}
			if best < 0.8 {
				t.Errorf("image %d gt %d: best mask IoU %.3f with the ellipse in the original frame, want >= 0.8", i, g, best)
			}
		}
	}
}

// upscale2 doubles a mask's sides (the items' original frame).
func upscale2(r coco.RLE) coco.RLE {
	m := r.Decode()
	out := make([]byte, 4*len(m))
	h := 2 * r.H
	for x := 0; x < 2*r.W; x++ {
		for y := 0; y < h; y++ {
			out[x*h+y] = m[(x/2)*r.H+y/2]
		}
	}
	return coco.EncodeMask(out, h, 2*r.W)
}

// TestMaskHeadStateDictNames: the mask head's tensors carry MMDetection's
// names under roi_head (v2's layout, as the box head's), with
// class-specific logits.
func TestMaskHeadStateDictNames(t *testing.T) {
	sd := nn.StateDict(buildTiny(t, newEngine(), zoo.ModelMaskRCNN, 1))
	for name, shape := range map[string][]int{
		"roi_head.mask_head.convs.0.conv.weight": {16, 16, 3, 3},
		"roi_head.mask_head.convs.1.conv.bias":   {16},
		"roi_head.mask_head.upsample.weight":     {16, 16, 2, 2},
		"roi_head.mask_head.conv_logits.weight":  {3, 16, 1, 1},
		"roi_head.mask_head.conv_logits.bias":    {3},
	} {
		if sd[name] == nil {
			t.Errorf("no tensor named %q", name)
		} else if got := sd[name].Shape(); !slices.Equal(got, shape) {
			t.Errorf("%s has shape %v, want %v", name, got, shape)
		}
	}
	if sd["roi_head.mask_head.convs.2.conv.weight"] != nil {
		t.Error("the tiny config's head has 2 convs, found a third")
	}
}

// TestTorchvisionTargetModeTrains: model.roi_head.mask_head.target
// torchvision reaches the mask branch (soft targets give another loss than
// the v1 binary ones from the same weights and sample).
func TestTorchvisionTargetModeTrains(t *testing.T) {
	loss := func(target string) float32 {
		cfg := tinyConfig(t, zoo.ModelFastMaskRCNN)
		cfg.Model.RoIHead.MaskHead.Target = target
		e := newEngine()
		d, err := Build(e, cfg, rand.New(rand.NewPCG(1, 0)))
		if err != nil {
			t.Fatal(err)
		}
		l, err := d.Losses(batch.Collate(e, maskItems(), 32), rngsFor(5, 2))
		if err != nil {
			t.Fatal(err)
		}
		return l["loss_mask"].Item()
	}
	v1, tv := loss(TargetMMDet), loss(TargetTorchvision)
	if math.IsNaN(float64(tv)) || tv <= 0 || tv == v1 {
		t.Errorf("loss_mask %v with torchvision targets, %v with v1's", tv, v1)
	}
}

// TestPasteEncodesOnlyItsColumns: the paster's encoding of the columns a
// mask touches equals coco.EncodeMask of the whole frame, and boxes partly
// or wholly outside the image paste what lies inside.
func TestPasteEncodesOnlyItsColumns(t *testing.T) {
	const h, w = 7, 9
	rng := rand.New(rand.NewPCG(8, 9))
	p, err := newPaster(PasteTorchvision, 0.5, h, w)
	if err != nil {
		t.Fatal(err)
	}
	for range 200 {
		x0 := rng.IntN(w + 1)
		x1 := x0 + rng.IntN(w-x0+1)
		clear(p.buf)
		for i := x0 * h; i < x1*h; i++ {
			p.buf[i] = byte(rng.IntN(2))
		}
		got, want := p.encode(x0, x1), coco.EncodeMask(p.buf, h, w)
		if got.H != want.H || got.W != want.W || !slices.Equal(got.Counts, want.Counts) {
			t.Fatalf("columns %d..%d: %+v, want %+v", x0, x1, got, want)
		}
	}
	clear(p.buf)
	ones := make([]float32, 28*28)
	for i := range ones {
		ones[i] = 1
	}
	for _, box := range [][]float32{{-20, -20, -5, -5}, {12, 10, 30, 30}, {-3, 2, 4, 20}} {
		r := p.paste(ones, 28, box)
		if err := r.Validate(); err != nil {
			t.Errorf("box %v: %v", box, err)
		}
		if inside := box[2] > 0 && box[0] < w && box[3] > 0 && box[1] < h; (r.Area() > 0) != inside {
			t.Errorf("box %v: area %d", box, r.Area())
		}
	}
}

// TestMaskRoICapDrawsEachImagesSubset: with train_cfg.rcnn.mask_max_rois
// the mask branch trains on at most that many of each image's positives,
// drawn among them; without it on every positive, with the sample itself
// unchanged by the cap.
func TestMaskRoICapDrawsEachImagesSubset(t *testing.T) {
	sample := func(maxRoIs int) *SampledRoIs {
		cfg := tinyConfig(t, zoo.ModelFastMaskRCNN)
		cfg.TrainCfg.RCNN.MaskMaxRoIs = maxRoIs
		d, err := Build(newEngine(), cfg, rand.New(rand.NewPCG(1, 0)))
		if err != nil {
			t.Fatal(err)
		}
		items := maskItems()
		props := make([][]float32, len(items))
		for i, it := range items {
			props[i] = it.Proposals
		}
		s, err := d.(*FastRCNN).RoIHead.Sample(items, props, rngsFor(5, len(items)))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	all, capped := sample(0), sample(3)
	if !slices.Equal(all.MaskRows, all.Positives().Rows) {
		t.Fatalf("no cap: mask rows %v, positives %v", all.MaskRows, all.Positives().Rows)
	}
	if !slices.Equal(all.RoIs, capped.RoIs) {
		t.Fatal("the cap changed the box branch's sample")
	}
	perImage := map[int]int{}
	for _, r := range capped.MaskRows {
		if capped.GTIndex[r] < 0 {
			t.Fatalf("mask row %d is a negative", r)
		}
		perImage[int(capped.RoIs[5*r])]++
	}
	for img, n := range perImage {
		if n != 3 {
			t.Errorf("image %d: %d mask RoIs, want the cap 3", img, n)
		}
	}
	if len(perImage) != 2 || !slices.IsSorted(capped.MaskRows) {
		t.Errorf("mask rows %v over images %v", capped.MaskRows, perImage)
	}
}
