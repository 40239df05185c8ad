package detector

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/zoo"
)

// TestLoadDetectronBackbone loads a tiny Detectron-style R-50.pkl into a
// caffe-style backbone: every backbone tensor is filled, the classifier is
// reported unexpected, momentum blobs are skipped, and values land where
// the name mapping says.
func TestLoadDetectronBackbone(t *testing.T) {
	cfg, err := configs.Load("fast_rcnn_r50_caffe_fpn_1x_coco", []string{
		"model.backbone.base_channels=2",
		"model.neck.in_channels=[8,16,32,64]",
		"model.neck.out_channels=8",
		"model.roi_head.bbox_head.fc_out_channels=8",
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := Build(newEngine(), cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	const path = "testdata/detectron_r50_tiny.pkl"
	rep, err := LoadBackboneWeights(context.Background(), d, path)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(rep.Unexpected)
	if len(rep.Missing) != 0 || !slices.Equal(rep.Unexpected, []string{"fc1000_b", "fc1000_w"}) {
		t.Fatalf("report %v, want only fc1000_* unexpected", rep)
	}
	blobs, err := readDetectronBlobs(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	sd := nn.StateDict(d)
	for blob, name := range map[string]string{
		"conv1_w":              "backbone.conv1.weight",
		"res_conv1_bn_s":       "backbone.bn1.weight",
		"res3_2_branch2b_w":    "backbone.layer2.2.conv2.weight",
		"res4_0_branch1_bn_b":  "backbone.layer3.0.downsample.1.bias",
		"res5_1_branch2c_bn_s": "backbone.layer4.1.bn3.weight",
	} {
		if !slices.Equal(sd[name].Data(), blobs[blob].Data) {
			t.Errorf("%s does not hold %s", name, blob)
		}
	}
	if v := sd["backbone.layer4.1.bn3.running_var"].Data(); v[0] != 1 {
		t.Errorf("running_var = %g, want 1 for an affine-channel BN", v[0])
	}
	// The caffe style puts the stride in the first 1x1 conv.
	if s := d.(*FastRCNN).Backbone.Layers[1].Layers[0].(*resBlock).convs[0].Opt.Stride[0]; s != 2 {
		t.Errorf("caffe-style first 1x1 stride %d, want 2", s)
	}
}

func TestBuildRejectsBadConfigs(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*configs.Config)
	}{
		{"unknown type", func(c *configs.Config) { c.Model.Type = "CascadeRCNN" }},
		{"paste", func(c *configs.Config) {
			c.Model.Type = zoo.ModelFastMaskRCNN
			c.Model.RoIHead.MaskHead.Paste = "grid_sample"
		}},
		{"target", func(c *configs.Config) {
			c.Model.Type = zoo.ModelFastMaskRCNN
			c.Model.RoIHead.MaskHead.Target = "grid_sample"
		}},
		{"mask classes", func(c *configs.Config) {
			c.Model.Type = zoo.ModelFastMaskRCNN
			c.Model.RoIHead.MaskHead.NumClasses = 80
		}},
		{"neck channels", func(c *configs.Config) { c.Model.Neck.InChannels = []int{8, 16, 32, 65} }},
		{"depth", func(c *configs.Config) { c.Model.Backbone.Depth = 20 }},
		{"loss", func(c *configs.Config) { c.Model.RoIHead.BBoxHead.LossBBox.Type = "giou" }},
		{"means", func(c *configs.Config) { c.Model.RoIHead.BBoxHead.TargetMeans = []float64{0} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tinyConfig(t, zoo.ModelFastRCNN)
			tc.mutate(cfg)
			if _, err := Build(newEngine(), cfg, rand.New(rand.NewPCG(1, 1))); err == nil {
				t.Fatal("built a detector from a bad config")
			}
		})
	}
}

// TestLoadBackboneFromDetectorCheckpoint loads the backbone part of the
// torchvision fixture detector ("backbone.body.*") into a FastRCNN's
// backbone and checks a value.
func TestLoadBackboneFromDetectorCheckpoint(t *testing.T) {
	cfg := tvConfig(t)
	cfg.Model.Type = zoo.ModelFastRCNN
	d, err := Build(newEngine(), cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	const path = "testdata/tv_faster_rcnn_tiny.pth"
	rep, err := LoadBackboneWeights(context.Background(), d, path)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Clean() {
		t.Fatalf("report %v, want clean", rep)
	}
	sd, err := readPth(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	got := nn.StateDict(d)["backbone.layer3.1.conv2.weight"].Data()
	if !slices.Equal(got, sd["backbone.body.layer3.1.conv2.weight"].Data) {
		t.Error("backbone.layer3.1.conv2.weight does not hold the checkpoint's values")
	}
}

// TestBuildEveryShippedConfig builds the detector of every embedded config.
func TestBuildEveryShippedConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("builds full-size R-50 detectors")
	}
	for _, name := range configs.Names() {
		t.Run(name, func(t *testing.T) {
			cfg, err := configs.Load(name, nil)
			if err != nil {
				t.Fatal(err)
			}
			d, err := Build(newEngine(), cfg, rand.New(rand.NewPCG(1, 1)))
			if err != nil {
				t.Fatal(err)
			}
			if len(nn.TrainableParameters(d)) == 0 {
				t.Error("no trainable parameters")
			}
		})
	}
}
