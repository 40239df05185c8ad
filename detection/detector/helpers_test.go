package detector

import (
	"math/rand/v2"
	"testing"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/tensor"
	"github.com/detflow/detflow/zoo"
)

// classColors are the RGB colours (normalised) of the synthetic classes.
var classColors = [][3]float32{{1.5, -1, -1}, {-1, 1.5, -1}, {-1, -1, 1.5}}

// synthItem draws an h x w image with one filled rectangle per gt box
// (coloured by class) on a dim noisy background. Proposals are the gts
// jittered plus random boxes, as a proposal method would give.
func synthItem(rng *rand.Rand, id int64, h, w int, boxes []float32, labels []int32) *batch.Item {
	pix := make([]float32, 3*h*w)
	for i := range pix {
		pix[i] = 0.2 * (rng.Float32() - 0.5)
	}
	for b := range labels {
		x1, y1, x2, y2 := int(boxes[4*b]), int(boxes[4*b+1]), int(boxes[4*b+2]), int(boxes[4*b+3])
		col := classColors[labels[b]%int32(len(classColors))]
		for c := 0; c < 3; c++ {
			for y := y1; y < y2; y++ {
				for x := x1; x < x2; x++ {
					pix[c*h*w+y*w+x] = col[c]
				}
			}
		}
	}
	var props []float32
	for b := range labels {
		for j := 0; j < 8; j++ {
			for k := 0; k < 4; k++ {
				props = append(props, boxes[4*b+k]+float32(rng.IntN(9)-4))
			}
		}
	}
	for j := 0; j < 40; j++ {
		x1, y1 := rng.Float32()*float32(w-16), rng.Float32()*float32(h-16)
		props = append(props, x1, y1, x1+8+rng.Float32()*(float32(w)-x1-8), y1+8+rng.Float32()*(float32(h)-y1-8))
	}
	for i := range props {
		props[i] = max(props[i], 0)
	}
	return &batch.Item{
		ImageID: id, OrigW: 2 * w, OrigH: 2 * h, W: w, H: h, ScaleX: 0.5, ScaleY: 0.5,
		Pixels: pix, GTBoxes: boxes, GTLabels: labels, GTCrowd: make([]bool, len(labels)),
		Proposals: props, ProposalScores: make([]float32, len(props)/4),
	}
}

// tinyItems returns two fixed synthetic images of 64 x 96.
func tinyItems() []*batch.Item {
	rng := rand.New(rand.NewPCG(3, 4))
	return []*batch.Item{
		synthItem(rng, 1, 64, 96, []float32{8, 8, 40, 36, 50, 20, 90, 60}, []int32{0, 2}),
		synthItem(rng, 2, 64, 96, []float32{30, 10, 70, 50}, []int32{1}),
	}
}

// tinyConfig is the default tiny config shrunk further for unit tests:
// a ResNet-18 of base width 8, a 16-channel FPN, 32-wide FCs, 3 classes
// (and for the mask models 16-channel mask convs, 28x28 masks).
func tinyConfig(t testing.TB, modelType string) *configs.Config {
	t.Helper()
	name := map[string]string{
		zoo.ModelFastRCNN:     "fast_rcnn_tiny_synth",
		zoo.ModelRPN:          "rpn_tiny_synth",
		zoo.ModelFasterRCNN:   "faster_rcnn_tiny_synth",
		zoo.ModelRetinaNet:    "retinanet_tiny_synth",
		zoo.ModelMaskRCNN:     "mask_rcnn_tiny_synth",
		zoo.ModelFastMaskRCNN: "fast_mask_rcnn_tiny_synth",
	}[modelType]
	sets := []string{
		"model.backbone.base_channels=8",
		"model.neck.in_channels=[8,16,32,64]",
		"model.neck.out_channels=16",
		"model.rpn_head.feat_channels=16",
		"model.rpn_head.anchor_scales=[4]",
		"model.roi_head.bbox_head.fc_out_channels=32",
		"model.roi_head.bbox_head.num_classes=3",
		"train_cfg.rcnn.sampler.num=64",
		"model.roi_head.mask_head.conv_out_channels=16",
		"model.roi_head.mask_head.num_classes=3",
		// FCNMaskHead's own 28x28 masks, not the tiny configs' 14x14.
		"model.roi_head.mask_roi_extractor.output_size=14",
		"train_cfg.rcnn.mask_size=28",
	}
	if modelType == zoo.ModelRetinaNet {
		sets = append(sets, "model.neck.in_channels=[16,32,64]",
			"model.bbox_head.feat_channels=16", "model.bbox_head.num_classes=3")
	}
	cfg, err := configs.Load(name, sets)
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	return cfg
}

func newEngine() *tensor.Engine { return tensor.NewEngine(tensor.NewCPU(0)) }

func rngsFor(seed uint64, n int) []*rand.Rand {
	out := make([]*rand.Rand, n)
	for i := range out {
		out[i] = rand.New(rand.NewPCG(seed, uint64(i)))
	}
	return out
}
