package detector

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/pickle"
)

// Detectron (MSRA caffe-style) ResNet blob names, e.g. "res3_1_branch2b_w",
// "res3_1_branch2b_bn_s", "res2_0_branch1_bn_b", "res_conv1_bn_s".
var (
	detectronBlock = regexp.MustCompile(`^res([2-5])_(\d+)_branch(1|2a|2b|2c)(_bn)?_([wsb])$`)
	detectronStem  = map[string]string{
		"conv1_w":        "conv1.weight",
		"res_conv1_bn_s": "bn1.weight",
		"res_conv1_bn_b": "bn1.bias",
	}
)

// DetectronResNetStateDict maps a Detectron ResNet's blobs (the "blobs"
// dict of an ImageNet R-50.pkl) onto torchvision/ResNet names:
//
//	conv1_w, res_conv1_bn_{s,b}          -> conv1.weight, bn1.{weight,bias}
//	resS_I_branch2{a,b,c}_w              -> layer(S-1).I.conv{1,2,3}.weight
//	resS_I_branch2{a,b,c}_bn_{s,b}       -> layer(S-1).I.bn{1,2,3}.{weight,bias}
//	resS_0_branch1_w, _bn_{s,b}          -> layer(S-1).0.downsample.{0.weight,1.weight,1.bias}
//
// Detectron's BNs are AffineChannel layers (scale and shift only), so each
// BN also gets running_mean 0 and running_var 1: with eps 1e-5 that is the
// same affine map up to a factor 1/sqrt(1+1e-5). Blobs matching no rule
// (fc1000_*, *_momentum) are returned as unmapped. Build the backbone with
// the caffe style (stride in the first 1x1) and frozen BN for these weights.
func DetectronResNetStateDict(blobs map[string]nn.HostTensor) (map[string]nn.HostTensor, []string) {
	out := map[string]nn.HostTensor{}
	var unmapped []string
	addStats := func(bn string, c int) {
		mean, variance := make([]float32, c), make([]float32, c)
		for i := range variance {
			variance[i] = 1
		}
		out[bn+".running_mean"] = nn.HostTensor{Shape: []int{c}, Data: mean}
		out[bn+".running_var"] = nn.HostTensor{Shape: []int{c}, Data: variance}
	}
	for k, v := range blobs {
		if name, ok := detectronStem[k]; ok {
			out[name] = v
			if name == "bn1.weight" {
				addStats("bn1", len(v.Data))
			}
			continue
		}
		m := detectronBlock.FindStringSubmatch(k)
		if m == nil {
			unmapped = append(unmapped, k)
			continue
		}
		stage, _ := strconv.Atoi(m[1])
		prefix := fmt.Sprintf("layer%d.%s.", stage-1, m[2])
		var conv, bn string
		switch m[3] {
		case "1":
			conv, bn = prefix+"downsample.0", prefix+"downsample.1"
		default:
			i := strings.Index("abc", m[3][1:]) + 1
			conv, bn = fmt.Sprintf("%sconv%d", prefix, i), fmt.Sprintf("%sbn%d", prefix, i)
		}
		switch {
		case m[4] == "" && m[5] == "w":
			out[conv+".weight"] = v
		case m[4] == "_bn" && m[5] == "s":
			out[bn+".weight"] = v
			addStats(bn, len(v.Data))
		case m[4] == "_bn" && m[5] == "b":
			out[bn+".bias"] = v
		default:
			unmapped = append(unmapped, k)
		}
	}
	return out, unmapped
}

// readDetectronBlobs reads a Detectron or Detectron2 weights pickle: a
// dict of numpy arrays, or such a dict under "blobs" (Detectron) or "model"
// (Detectron2's model zoo).
func readDetectronBlobs(ctx context.Context, path string) (map[string]nn.HostTensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	v, err := pickle.DecodeContext(ctx, f, pickle.Options{})
	if err != nil {
		return nil, err
	}
	d, ok := v.(*pickle.Dict)
	if !ok {
		return nil, fmt.Errorf("top level is %T, want a dict of blobs", v)
	}
	for _, key := range []string{"blobs", "model"} { // Detectron, Detectron2
		if inner, ok := d.Get(key); ok {
			if d, ok = inner.(*pickle.Dict); !ok {
				return nil, fmt.Errorf("%q is %T, want a dict", key, inner)
			}
			break
		}
	}
	out := map[string]nn.HostTensor{}
	for _, en := range d.Entries {
		name, ok := en.Key.(string)
		if !ok {
			return nil, fmt.Errorf("blob key %v is not a string", en.Key)
		}
		a, ok := en.Value.(*pickle.Array)
		if !ok {
			continue // scalars and metadata
		}
		if len(a.Str) > 0 {
			continue
		}
		out[name] = nn.HostTensor{Shape: append([]int(nil), a.Shape...), Data: a.Float32s()}
	}
	return out, nil
}

// LoadDetectronBackboneWeights loads a Detectron/MSRA caffe-style ResNet
// (R-50.pkl) into the detector's backbone; see DetectronResNetStateDict.
func LoadDetectronBackboneWeights(ctx context.Context, d Detector, path string) (nn.LoadReport, error) {
	r, err := Backbone(d)
	if err != nil {
		return nn.LoadReport{}, fmt.Errorf("load detectron weights %s: %w", path, err)
	}
	blobs, err := readDetectronBlobs(ctx, path)
	if err != nil {
		return nn.LoadReport{}, fmt.Errorf("load detectron weights %s: %w", path, err)
	}
	sd, unmapped := DetectronResNetStateDict(blobs)
	rep, err := nn.LoadStateDict(r, sd, "num_batches_tracked")
	if err != nil {
		return nn.LoadReport{}, fmt.Errorf("load detectron weights %s: %w", path, err)
	}
	for _, k := range unmapped {
		if !strings.HasSuffix(k, "_momentum") {
			rep.Unexpected = append(rep.Unexpected, k)
		}
	}
	return rep, nil
}
