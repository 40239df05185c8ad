package tensor

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// torchFixture is one file written by testdata/gen_torch_fixtures.py.
type torchFixture struct {
	Op    string `json:"op"`
	Cases []struct {
		Name    string                     `json:"name"`
		Params  map[string]json.RawMessage `json:"params"`
		Tensors map[string]struct {
			Shape []int     `json:"shape"`
			Data  []float64 `json:"data"`
		} `json:"tensors"`
	} `json:"cases"`
}

func loadFixture(t *testing.T, op string) torchFixture {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "torch_"+op+".json"))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	var fx torchFixture
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatalf("decode fixture %q: %v", op, err)
	}
	if len(fx.Cases) == 0 {
		t.Fatalf("fixture %q has no cases", op)
	}
	return fx
}

// fixtureCase gives typed access to one case's tensors and params.
type fixtureCase struct {
	t       *testing.T
	e       *Engine
	tensors map[string]struct {
		Shape []int     `json:"shape"`
		Data  []float64 `json:"data"`
	}
	params map[string]json.RawMessage
}

func (c fixtureCase) data(name string) []float32 {
	c.t.Helper()
	v, ok := c.tensors[name]
	if !ok {
		c.t.Fatalf("fixture has no tensor %q", name)
	}
	out := make([]float32, len(v.Data))
	for i, x := range v.Data {
		out[i] = float32(x)
	}
	return out
}

// leaf uploads a fixture tensor as a leaf that requires grad.
func (c fixtureCase) leaf(name string) *Tensor {
	return c.e.FromData(c.data(name), c.tensors[name].Shape...).SetRequiresGrad(true)
}

func (c fixtureCase) param(name string, dst any) {
	c.t.Helper()
	if err := json.Unmarshal(c.params[name], dst); err != nil {
		c.t.Fatalf("param %q: %v", name, err)
	}
}

// backwardR runs out.Backward with the fixture's upstream gradient r.
func (c fixtureCase) backwardR(out *Tensor) {
	r := c.data("r")
	seed := c.e.get(len(r))
	c.e.dev.Upload(seed, r)
	out.backwardFrom(seed)
}

func (c fixtureCase) expect(what string, got *Tensor, want string) {
	c.t.Helper()
	if got == nil {
		c.t.Fatalf("%s: no tensor", what)
	}
	checkClose(c.t, what, got.Data(), c.data(want), 1e-4, 1e-4)
}

func forCases(t *testing.T, op string, fn func(c fixtureCase)) {
	fx := loadFixture(t, op)
	for _, tc := range fx.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			fn(fixtureCase{t: t, e: NewEngine(NewCPU(0)), tensors: tc.Tensors, params: tc.Params})
		})
	}
}

func TestTorchConv2d(t *testing.T) {
	forCases(t, "conv2d", func(c fixtureCase) {
		var opt ConvOptions
		c.param("stride", &opt.Stride)
		c.param("padding", &opt.Padding)
		c.param("dilation", &opt.Dilation)
		c.checkConv(func(x, w, b *Tensor) *Tensor { return Conv2d(x, w, b, opt) })
	})
}

// checkConv runs a convolution-like op on the case's x, w and optional b
// and compares its output and gradients with the fixture's.
func (c fixtureCase) checkConv(op func(x, w, b *Tensor) *Tensor) {
	x, w := c.leaf("x"), c.leaf("w")
	var b *Tensor
	if _, ok := c.tensors["b"]; ok {
		b = c.leaf("b")
	}
	out := op(x, w, b)
	c.expect("out", out, "out")
	c.backwardR(out)
	c.expect("d_x", x.Grad(), "d_x")
	c.expect("d_w", w.Grad(), "d_w")
	if b != nil {
		c.expect("d_b", b.Grad(), "d_b")
	}
}

func TestTorchLinear(t *testing.T) {
	forCases(t, "linear", func(c fixtureCase) {
		x, w, b := c.leaf("x"), c.leaf("w"), c.leaf("b")
		out := Linear(x, w, b)
		c.expect("out", out, "out")
		c.backwardR(out)
		c.expect("d_x", x.Grad(), "d_x")
		c.expect("d_w", w.Grad(), "d_w")
		c.expect("d_b", b.Grad(), "d_b")
	})
}

func TestTorchBatchNorm(t *testing.T) {
	forCases(t, "batch_norm", func(c fixtureCase) {
		var opt BatchNormOptions
		c.param("training", &opt.Training)
		c.param("momentum", &opt.Momentum)
		c.param("eps", &opt.Eps)
		x, w, b := c.leaf("x"), c.leaf("w"), c.leaf("b")
		rm := c.e.FromData(c.data("running_mean"), 4)
		rv := c.e.FromData(c.data("running_var"), 4)
		out := BatchNorm(x, w, b, rm, rv, opt)
		c.expect("out", out, "out")
		c.expect("running mean", rm, "running_mean_after")
		c.expect("running var", rv, "running_var_after")
		c.backwardR(out)
		c.expect("d_x", x.Grad(), "d_x")
		c.expect("d_w", w.Grad(), "d_w")
		c.expect("d_b", b.Grad(), "d_b")
	})
}

func TestTorchMaxPool2d(t *testing.T) {
	forCases(t, "max_pool2d", func(c fixtureCase) {
		var k, s, p int
		c.param("kernel", &k)
		c.param("stride", &s)
		c.param("padding", &p)
		x := c.leaf("x")
		out := MaxPool2d(x, k, s, p)
		c.expect("out", out, "out")
		c.backwardR(out)
		c.expect("d_x", x.Grad(), "d_x")
	})
}

func TestTorchCrossEntropy(t *testing.T) {
	forCases(t, "cross_entropy", func(c fixtureCase) {
		var ignore int32
		c.param("ignore_index", &ignore)
		x := c.leaf("x")
		lf := c.data("labels")
		labels := make([]int32, len(lf))
		for i, v := range lf {
			labels[i] = int32(v)
		}
		idx := c.e.NewIndex(labels, len(labels))
		c.expect("per sample", SoftmaxCrossEntropy(x.Detach(), idx, ignore), "per_sample")
		w := c.e.FromData(c.data("weights"), len(labels))
		out := CrossEntropyMean(x, idx, w, ignore)
		c.expect("out", out, "out")
		c.backwardR(out)
		c.expect("d_x", x.Grad(), "d_x")
	})
}

func TestTorchSmoothL1(t *testing.T) {
	forCases(t, "smooth_l1", func(c fixtureCase) {
		var beta float32
		c.param("beta", &beta)
		x := c.leaf("x")
		target := c.e.FromData(c.data("target"), c.tensors["target"].Shape...)
		out := SmoothL1Loss(x, target, beta)
		c.expect("out", out, "out")
		c.backwardR(out)
		c.expect("d_x", x.Grad(), "d_x")
	})
}

func TestTorchPooling(t *testing.T) {
	forCases(t, "pooling", func(c fixtureCase) {
		var op string
		c.param("op", &op)
		x := c.leaf("x")
		var out *Tensor
		switch op {
		case "avg":
			var k, s, p int
			c.param("kernel", &k)
			c.param("stride", &s)
			c.param("padding", &p)
			out = AvgPool2d(x, k, s, p)
		case "adaptive":
			var o [2]int
			c.param("out", &o)
			out = AdaptiveAvgPool2d(x, o[0], o[1])
		case "nearest":
			var s int
			c.param("scale", &s)
			out = UpsampleNearest(x, s)
		default:
			t.Fatalf("unknown pooling op %q", op)
		}
		c.expect("out", out, "out")
		c.backwardR(out)
		c.expect("d_x", x.Grad(), "d_x")
	})
}

func TestTorchBCEWithLogits(t *testing.T) {
	forCases(t, "bce_with_logits", func(c fixtureCase) {
		x := c.leaf("x")
		target := c.e.FromData(c.data("target"), c.tensors["target"].Shape...)
		out := BCEWithLogits(x, target)
		c.expect("out", out, "out")
		c.backwardR(out)
		c.expect("d_x", x.Grad(), "d_x")
	})
}
