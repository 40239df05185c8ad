package detector

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/detflow/detflow/tensor/tensortest"

	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/tensor"
)

func TestResNetShapes(t *testing.T) {
	tests := []struct {
		depth, base int
		style       string
		wantC       [4]int
	}{
		{18, 8, StylePyTorch, [4]int{8, 16, 32, 64}},
		{34, 4, StylePyTorch, [4]int{4, 8, 16, 32}},
		{50, 4, StylePyTorch, [4]int{16, 32, 64, 128}},
		{50, 4, StyleCaffe, [4]int{16, 32, 64, 128}},
		{101, 2, StylePyTorch, [4]int{8, 16, 32, 64}},
	}
	for _, tc := range tests {
		e := newEngine()
		r, err := NewResNet(e, ResNetOptions{Depth: tc.depth, BaseChannels: tc.base, Style: tc.style, FrozenStages: -1}, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		if r.OutChannels != tc.wantC {
			t.Errorf("R-%d: out channels %v, want %v", tc.depth, r.OutChannels, tc.wantC)
		}
		cs := r.Forward(e.Zeros(2, 3, 64, 96))
		for i, c := range cs {
			want := []int{2, tc.wantC[i], 64 >> (i + 2), 96 >> (i + 2)}
			if !slices.Equal(c.Shape(), want) {
				t.Errorf("R-%d %s: C%d shape %v, want %v", tc.depth, tc.style, i+2, c.Shape(), want)
			}
		}
	}
}

func TestResNetStrideStyle(t *testing.T) {
	for _, tc := range []struct {
		style        string
		conv1, conv2 int
	}{{StylePyTorch, 1, 2}, {StyleCaffe, 2, 1}} {
		r, err := NewResNet(newEngine(), ResNetOptions{Depth: 50, BaseChannels: 4, Style: tc.style, FrozenStages: -1}, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		blk := r.Layers[1].Layers[0].(*resBlock)
		if got := blk.convs[0].Opt.Stride[0]; got != tc.conv1 {
			t.Errorf("%s: first 1x1 stride %d, want %d", tc.style, got, tc.conv1)
		}
		if got := blk.convs[1].Opt.Stride[0]; got != tc.conv2 {
			t.Errorf("%s: 3x3 stride %d, want %d", tc.style, got, tc.conv2)
		}
	}
}

func TestResNetFreezing(t *testing.T) {
	tests := []struct {
		name      string
		opt       ResNetOptions
		frozen    []string // name prefixes that must not require grad
		trainable []string // name prefixes that must
		evalBN    []string // BN name prefixes in eval mode
		trainBN   []string
	}{
		{"none", ResNetOptions{Depth: 18, BaseChannels: 4, FrozenStages: -1}, nil, []string{"conv1.", "bn1.", "layer1.", "layer4."}, nil, []string{"bn1", "layer1.0.bn1", "layer4.1.bn2"}},
		{"stem", ResNetOptions{Depth: 18, BaseChannels: 4, FrozenStages: 0}, []string{"conv1.", "bn1."}, []string{"layer1.", "layer2."}, []string{"bn1"}, []string{"layer1.0.bn1"}},
		{"stem and layer1", ResNetOptions{Depth: 18, BaseChannels: 4, FrozenStages: 1, NormEval: true}, []string{"conv1.", "bn1.", "layer1."}, []string{"layer2.", "layer4."}, []string{"bn1", "layer1.0.bn1", "layer4.1.bn2"}, nil},
		{"fixed affine", ResNetOptions{Depth: 18, BaseChannels: 4, FrozenStages: -1, FixNormAffine: true}, []string{"bn1.", "layer2.0.bn1."}, []string{"conv1.", "layer2.0.conv1."}, nil, []string{"bn1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewResNet(newEngine(), tc.opt, rand.New(rand.NewPCG(1, 1)))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range nn.NamedParameters(r) {
				for _, f := range tc.frozen {
					if strings.HasPrefix(p.Name, f) && p.Tensor.RequiresGrad() {
						t.Errorf("%s requires grad, want frozen", p.Name)
					}
				}
				for _, f := range tc.trainable {
					if strings.HasPrefix(p.Name, f) && !p.Tensor.RequiresGrad() {
						t.Errorf("%s is frozen, want trainable", p.Name)
					}
				}
			}
			bns := map[string]*nn.BatchNorm2d{}
			collectBN(r, "", bns)
			for _, n := range tc.evalBN {
				if bns[n] == nil || bns[n].Training() {
					t.Errorf("BN %s in training mode, want eval", n)
				}
			}
			for _, n := range tc.trainBN {
				if bns[n] == nil || !bns[n].Training() {
					t.Errorf("BN %s in eval mode, want training", n)
				}
			}
		})
	}
}

func collectBN(m nn.Module, prefix string, out map[string]*nn.BatchNorm2d) {
	if b, ok := m.(*nn.BatchNorm2d); ok {
		out[strings.TrimSuffix(prefix, ".")] = b
	}
	for _, c := range m.Children() {
		collectBN(c.Module, prefix+c.Name+".", out)
	}
}

func TestResNetZeroInitResidual(t *testing.T) {
	r, err := NewResNet(newEngine(), ResNetOptions{Depth: 50, BaseChannels: 4, FrozenStages: -1, ZeroInitResidual: true}, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	sd := nn.StateDict(r)
	for _, k := range []string{"layer1.0.bn3.weight", "layer3.5.bn3.weight"} {
		for _, v := range sd[k].Data() {
			if v != 0 {
				t.Fatalf("%s = %v, want zeros", k, sd[k].Data())
			}
		}
	}
	if v := sd["layer1.0.bn2.weight"].Data()[0]; v != 1 {
		t.Errorf("layer1.0.bn2.weight[0] = %g, want 1", v)
	}
}

func TestFPNShapes(t *testing.T) {
	e := newEngine()
	rng := rand.New(rand.NewPCG(1, 1))
	r, err := NewResNet(e, ResNetOptions{Depth: 18, BaseChannels: 8, FrozenStages: -1}, rng)
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewFPN(e, FPNOptions{InChannels: r.OutChannels[:], OutChannels: 16, NumOuts: 5}, rng)
	if err != nil {
		t.Fatal(err)
	}
	cs := r.Forward(e.Zeros(1, 3, 64, 128))
	ps, err := f.Forward(cs[:])
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range ps {
		want := []int{1, 16, 64 >> (i + 2), 128 >> (i + 2)}
		if !slices.Equal(p.Shape(), want) {
			t.Errorf("P%d shape %v, want %v", i+2, p.Shape(), want)
		}
	}
	names := nn.StateDict(f)
	for _, k := range []string{"lateral_convs.0.conv.weight", "lateral_convs.3.conv.bias", "fpn_convs.2.conv.weight"} {
		if names[k] == nil {
			t.Errorf("FPN has no parameter %q", k)
		}
	}
	// A level that is not twice the next coarser one is an error, not a panic.
	bad := []*tensor.Tensor{e.Zeros(1, 8, 15, 15), e.Zeros(1, 16, 8, 8), e.Zeros(1, 32, 4, 4), e.Zeros(1, 64, 2, 2)}
	if _, err := f.Forward(bad); err == nil {
		t.Error("FPN accepted levels that are not powers of two apart")
	}
}

// TestResNetHandsBackActivations: a no-grad forward (inference) returns
// the intermediate activations to the engine's pool as soon as they are
// used, keeping only C2..C5, so its peak memory is a fraction of a forward
// that records a graph, with the same features; frozen stages run without
// a graph and hand theirs back in grad mode too.
func TestResNetHandsBackActivations(t *testing.T) {
	img := make([]float32, 2*3*64*64)
	for i := range img {
		img[i] = float32(i%97) / 97
	}
	run := func(frozen int, noGrad bool) ([4]*tensor.Tensor, int64) {
		dev := &countingDevice{HostDevice: tensortest.NewHostDevice(1)}
		e := tensor.NewEngine(dev)
		r, err := NewResNet(e, ResNetOptions{Depth: 50, BaseChannels: 4, FrozenStages: frozen}, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		weights := dev.live
		var cs [4]*tensor.Tensor
		fwd := func() { cs = r.Forward(e.FromData(img, 2, 3, 64, 64)) }
		if noGrad {
			e.NoGrad(fwd)
		} else {
			fwd()
		}
		return cs, dev.peak - weights
	}
	recorded, recordedPeak := run(-1, false)
	inference, inferencePeak := run(-1, true)
	_, frozenPeak := run(1, false)
	t.Logf("activation peaks (bytes): recorded %d, no-grad %d, stem and layer1 frozen %d", recordedPeak, inferencePeak, frozenPeak)
	// The recorded forward shares buffers too (BN, ReLU and the residual
	// addition write over their inputs where no backward reads them), so
	// no-grad's margin is two thirds, not the half it was before.
	if 3*inferencePeak > 2*recordedPeak || frozenPeak >= recordedPeak {
		t.Errorf("activation peaks: %d bytes recorded, %d no-grad, %d with stem and layer1 frozen; want no-grad under two thirds and frozen below recorded",
			recordedPeak, inferencePeak, frozenPeak)
	}
	for s := range 4 {
		if !slices.Equal(inference[s].Data(), recorded[s].Data()) {
			t.Fatalf("C%d differs between the no-grad and the recorded forward", s+2)
		}
	}
}
