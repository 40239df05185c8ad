package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/detflow/detflow/tensor"
	"github.com/detflow/detflow/tensor/tensortest"
)

func newEngine() *tensor.Engine { return tensor.NewEngine(tensor.NewCPU(0)) }

// tinyNet mirrors a torchvision layout: conv1, bn1, layer1 = Sequential of a
// block with conv and bn children, fc.
type tinyNet struct {
	Conv1  *Conv2d
	BN1    *BatchNorm2d
	Layer1 *Sequential
	FC     *Linear
}

func (n *tinyNet) Params() []Named  { return nil }
func (n *tinyNet) Buffers() []Named { return nil }
func (n *tinyNet) Children() []Child {
	return []Child{{"conv1", n.Conv1}, {"bn1", n.BN1}, {"layer1", n.Layer1}, {"fc", n.FC}}
}

func (n *tinyNet) Forward(x *tensor.Tensor) *tensor.Tensor {
	x = tensor.Relu(n.BN1.Forward(n.Conv1.Forward(x)))
	x = n.Layer1.Forward(x)
	return n.FC.Forward(tensor.AdaptiveAvgPool2d(x, 1, 1))
}

func newTinyNet(e *tensor.Engine, rng *rand.Rand) *tinyNet {
	n := &tinyNet{
		Conv1: NewConv2d(e, Conv2dConfig{In: 3, Out: 4, Kernel: 3, Padding: 1}),
		BN1:   NewBatchNorm2d(e, 4),
		Layer1: NewSequential(
			NewConv2d(e, Conv2dConfig{In: 4, Out: 4, Kernel: 3, Padding: 1, Bias: true}),
			NewBatchNorm2d(e, 4),
			ReLU{},
		),
		FC: NewLinear(e, 4, 2, true),
	}
	for _, p := range NamedParameters(n) {
		if p.Tensor.Rank() > 1 {
			KaimingNormal(p.Tensor, rng, FanOut)
		}
	}
	return n
}

func TestStateDictNames(t *testing.T) {
	n := newTinyNet(newEngine(), rand.New(rand.NewPCG(1, 1)))
	want := []string{
		"bn1.bias", "bn1.num_batches_tracked", "bn1.running_mean", "bn1.running_var", "bn1.weight",
		"conv1.weight", "fc.bias", "fc.weight",
		"layer1.0.bias", "layer1.0.weight",
		"layer1.1.bias", "layer1.1.num_batches_tracked", "layer1.1.running_mean", "layer1.1.running_var", "layer1.1.weight",
	}
	if got := sortedKeys(StateDict(n)); !slices.Equal(got, want) {
		t.Fatalf("state dict keys\n got %v\nwant %v", got, want)
	}
	var names []string
	for _, p := range NamedParameters(n) {
		names = append(names, p.Name)
	}
	wantParams := []string{"conv1.weight", "bn1.weight", "bn1.bias", "layer1.0.weight", "layer1.0.bias", "layer1.1.weight", "layer1.1.bias", "fc.weight", "fc.bias"}
	if !slices.Equal(names, wantParams) {
		t.Fatalf("parameter order %v, want %v", names, wantParams)
	}
}

func TestLoadStateDictRoundTripAndReport(t *testing.T) {
	e := newEngine()
	src := newTinyNet(e, rand.New(rand.NewPCG(1, 2)))
	dst := newTinyNet(e, rand.New(rand.NewPCG(3, 4)))
	sd := HostStateDict(src)
	delete(sd, "fc.bias")
	sd["fc.extra"] = HostTensor{Shape: []int{1}, Data: []float32{1}}
	sd["bn1.num_batches_tracked"] = HostTensor{Shape: []int{}, Data: []float32{7}}
	rep, err := LoadStateDict(dst, sd)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Missing, []string{"fc.bias"}) || !slices.Equal(rep.Unexpected, []string{"fc.extra"}) {
		t.Fatalf("report %v", rep)
	}
	if err := rep.Err(); err == nil || !strings.Contains(err.Error(), "fc.bias") || !strings.Contains(err.Error(), "fc.extra") {
		t.Fatalf("strict error = %v", err)
	}
	if !slices.Equal(dst.Conv1.Weight.Data(), src.Conv1.Weight.Data()) {
		t.Fatal("conv1.weight not loaded")
	}
	sd["conv1.weight"] = HostTensor{Shape: []int{4, 3, 1, 9}, Data: sd["conv1.weight"].Data}
	if _, err := LoadStateDict(dst, sd); err == nil || !strings.Contains(err.Error(), `"conv1.weight"`) {
		t.Fatalf("shape mismatch error = %v", err)
	}
	rep, err = LoadStateDict(dst, map[string]HostTensor{}, "num_batches_tracked")
	if err != nil || slices.Contains(rep.Missing, "bn1.num_batches_tracked") {
		t.Fatalf("ignored suffix still reported: %v %v", rep, err)
	}
}

func TestInitialisersStatistics(t *testing.T) {
	e := newEngine()
	rng := rand.New(rand.NewPCG(5, 6))
	w := e.NewPersistent(64, 32, 3, 3) // fan_in 288, fan_out 576
	tests := []struct {
		name    string
		init    func()
		wantStd float64
	}{
		{"kaiming normal fan_out", func() { KaimingNormal(w, rng, FanOut) }, math.Sqrt(2.0 / 576)},
		{"kaiming normal fan_in", func() { KaimingNormal(w, rng, FanIn) }, math.Sqrt(2.0 / 288)},
		{"kaiming uniform a=sqrt5", func() { KaimingUniform(w, rng, FanIn, math.Sqrt(5)) }, math.Sqrt(1.0/3) * math.Sqrt(3.0/288) / math.Sqrt(3)},
		{"xavier uniform", func() { XavierUniform(w, rng, 1) }, math.Sqrt(6.0/(288+576)) / math.Sqrt(3)},
		{"xavier normal", func() { XavierNormal(w, rng, 1) }, math.Sqrt(2.0 / (288 + 576))},
		{"normal 0.01", func() { Normal(w, rng, 0, 0.01) }, 0.01},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.init()
			var s, ss float64
			d := w.Data()
			for _, v := range d {
				s += float64(v)
				ss += float64(v) * float64(v)
			}
			mean := s / float64(len(d))
			std := math.Sqrt(ss/float64(len(d)) - mean*mean)
			if math.Abs(std-tc.wantStd) > 0.03*tc.wantStd || math.Abs(mean) > 0.05*tc.wantStd {
				t.Fatalf("mean %g std %g, want 0 and %g", mean, std, tc.wantStd)
			}
		})
	}
	Constant(w, 0.25)
	if d := w.Data(); d[0] != 0.25 || d[len(d)-1] != 0.25 {
		t.Fatal("constant init")
	}
	// Same seed, same weights.
	a, b := e.NewPersistent(10), e.NewPersistent(10)
	Normal(a, rand.New(rand.NewPCG(9, 9)), 0, 1)
	Normal(b, rand.New(rand.NewPCG(9, 9)), 0, 1)
	if !slices.Equal(a.Data(), b.Data()) {
		t.Fatal("seeded init not deterministic")
	}
}

func TestSGDMatchesPyTorchFormula(t *testing.T) {
	tests := []struct {
		name         string
		momentum, wd float32
		want         []float32 // p after each of two steps with grad 0.5, lr 0.1, p0 = 1
	}{
		{"momentum and decay", 0.9, 0.1, []float32{0.94, 0.8266}},
		{"decay only", 0, 0.1, []float32{0.94, 0.8806}},
		{"plain", 0, 0, []float32{0.95, 0.90}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine()
			p := e.NewPersistent(1).SetRequiresGrad(true)
			p.CopyFrom([]float32{1})
			opt := NewSGD([]Named{{"p", p}}, 0.1, tc.momentum, tc.wd)
			for step, want := range tc.want {
				m := e.Mark()
				tensor.Scale(p, 0.5).Backward() // grad 0.5
				opt.Step()
				if g := p.Grad().Data()[0]; g != 0.5 {
					t.Fatalf("step modified the gradient: %g", g)
				}
				p.ZeroGrad()
				e.Release(m)
				if got := p.Data()[0]; math.Abs(float64(got-want)) > 1e-6 {
					t.Fatalf("step %d: p = %g, want %g", step, got, want)
				}
			}
		})
	}
}

func TestSGDStateDictRoundTrip(t *testing.T) {
	e := newEngine()
	run := func(opt *SGD, p *tensor.Tensor) {
		m := e.Mark()
		tensor.Sum(tensor.Square(p)).Backward()
		opt.Step()
		p.ZeroGrad()
		e.Release(m)
	}
	p1 := e.NewPersistent(3).SetRequiresGrad(true)
	p1.CopyFrom([]float32{1, -2, 3})
	o1 := NewSGD([]Named{{"w", p1}}, 0.1, 0.9, 1e-4)
	run(o1, p1)
	saved := map[string]HostTensor{}
	for k, v := range o1.StateDict() {
		saved[k] = HostTensor{Shape: v.Shape(), Data: v.Data()}
	}
	p2 := e.NewPersistent(3).SetRequiresGrad(true)
	p2.Assign(p1)
	o2 := NewSGD([]Named{{"w", p2}}, 0.1, 0.9, 1e-4)
	if err := o2.LoadStateDict(saved); err != nil {
		t.Fatal(err)
	}
	run(o1, p1)
	run(o2, p2)
	if !slices.Equal(p1.Data(), p2.Data()) {
		t.Fatalf("resumed optimizer diverged: %v vs %v", p1.Data(), p2.Data())
	}
	if err := o2.LoadStateDict(map[string]HostTensor{"momentum_buffer.nope": {Data: []float32{1}}}); err == nil {
		t.Fatal("unknown parameter accepted")
	}
}

func TestClipGradNorm(t *testing.T) {
	e := newEngine()
	a, b := e.NewPersistent(1).SetRequiresGrad(true), e.NewPersistent(1).SetRequiresGrad(true)
	tensor.Add(tensor.Scale(a, 3), tensor.Scale(b, 4)).Backward() // grads 3, 4: norm 5
	ps := []Named{{"a", a}, {"b", b}}
	if n := ClipGradNorm(ps, 10); math.Abs(n-5) > 1e-6 || a.Grad().Data()[0] != 3 {
		t.Fatalf("no-op clip: norm %g, grad %g", n, a.Grad().Data()[0])
	}
	if n := ClipGradNorm(ps, 1); math.Abs(n-5) > 1e-6 {
		t.Fatalf("norm %g, want 5", n)
	}
	ga, gb := a.Grad().Data()[0], b.Grad().Data()[0]
	if math.Abs(float64(ga)-0.6) > 1e-5 || math.Abs(float64(gb)-0.8) > 1e-5 {
		t.Fatalf("clipped grads %g, %g; want 0.6, 0.8", ga, gb)
	}
}

func TestStepScheduleMMDetection1x(t *testing.T) {
	s := StepSchedule{BaseLR: 0.02, Steps: []int{8, 11}, Gamma: 0.1, Warmup: WarmupLinear, WarmupIters: 500, WarmupRatio: 1.0 / 3}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		epoch, iter int
		want        float64
	}{
		{0, 0, 0.02 / 3},
		{0, 250, 0.02 * (1 - 0.5*(2.0/3))},
		{0, 499, 0.02 * (1 - (1.0/500)*(2.0/3))},
		{0, 500, 0.02},
		{7, 60000, 0.02},
		{8, 70000, 0.002},
		{10, 80000, 0.002},
		{11, 90000, 0.0002},
	}
	for _, tc := range tests {
		if got := s.LR(tc.epoch, tc.iter); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("LR(epoch %d, iter %d) = %g, want %g", tc.epoch, tc.iter, got, tc.want)
		}
	}
	exp := StepSchedule{BaseLR: 0.1, Gamma: 0.1, Warmup: WarmupExp, WarmupIters: 100, WarmupRatio: 0.001}
	if got := exp.LR(0, 50); math.Abs(got-0.1*math.Pow(0.001, 0.5)) > 1e-12 {
		t.Errorf("exp warmup LR = %g", got)
	}
	con := StepSchedule{BaseLR: 0.1, Gamma: 0.1, Warmup: WarmupConstant, WarmupIters: 100, WarmupRatio: 0.25}
	if got := con.LR(0, 99); got != 0.025 {
		t.Errorf("constant warmup LR = %g", got)
	}
	for _, bad := range []StepSchedule{
		{Warmup: "cosine"},
		{Warmup: WarmupLinear, WarmupIters: 0, WarmupRatio: 0.1},
		{Warmup: WarmupLinear, WarmupIters: 10, WarmupRatio: 0},
		{Steps: []int{11, 8}},
	} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestFreezeAndFrozenBatchNorm(t *testing.T) {
	e := newEngine()
	n := newTinyNet(e, rand.New(rand.NewPCG(7, 8)))
	Freeze(n.Layer1)
	n.BN1.Frozen = true
	x := e.Full(0.5, 2, 3, 5, 5)
	before := n.BN1.RunningMean.Data()
	tensor.Sum(n.Forward(x)).Backward()
	if n.Layer1.Layers[0].(*Conv2d).Weight.Grad() != nil {
		t.Fatal("frozen parameter got a gradient")
	}
	if n.Conv1.Weight.Grad() == nil {
		t.Fatal("unfrozen parameter got no gradient")
	}
	if !slices.Equal(n.BN1.RunningMean.Data(), before) {
		t.Fatal("frozen batch norm updated its running mean")
	}
	if n.Layer1.Layers[1].(*BatchNorm2d).NumBatchesTracked.Item() != 1 {
		t.Fatal("training batch norm did not count the batch")
	}
	if got := len(TrainableParameters(n)); got != 5 {
		t.Fatalf("%d trainable parameters, want 5", got)
	}
}

func TestContainerNames(t *testing.T) {
	e := newEngine()
	type head struct {
		Container
		fc *Linear
	}
	h := &head{}
	h.fc = NewLinear(e, 3, 2, true)
	h.Add("fc_cls", h.fc)
	h.Add("shared", NewSequential(NewLinear(e, 2, 2, false)))
	want := []string{"fc_cls.bias", "fc_cls.weight", "shared.0.weight"}
	if got := sortedKeys(StateDict(h)); !slices.Equal(got, want) {
		t.Fatalf("keys %v, want %v", got, want)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("duplicate child name accepted")
		}
	}()
	h.Add("fc_cls", h.fc)
}

// squareSummer is a host device that sums squares for many buffers at
// once, counting the calls, as a GPU device does with one wait.
type squareSummer struct {
	*tensortest.HostDevice
	calls, bufs int
}

func (d *squareSummer) SumSquaresEach(bufs []tensor.Buffer) []float64 {
	d.calls++
	d.bufs += len(bufs)
	out := make([]float64, len(bufs))
	for i, b := range bufs {
		out[i] = d.SumSquares(b)
	}
	return out
}

// TestClipGradNormAsksForAllSquaresAtOnce: on a tensor.SquareSummer the
// gradient norm takes one call for every gradient, and equals the norm
// summed one buffer at a time.
func TestClipGradNormAsksForAllSquaresAtOnce(t *testing.T) {
	norm := func(dev tensor.Device) float64 {
		e := tensor.NewEngine(dev)
		var ps []Named
		var terms []*tensor.Tensor
		for i := range 5 {
			p := e.NewPersistent(3).SetRequiresGrad(true)
			ps = append(ps, Named{Name: fmt.Sprint("p", i), Tensor: p})
			terms = append(terms, tensor.Scale(tensor.Sum(p), float32(i+1)))
		}
		unused := e.NewPersistent(2).SetRequiresGrad(true) // no gradient: skipped
		ps = append(ps, Named{Name: "unused", Tensor: unused})
		total := terms[0]
		for _, x := range terms[1:] {
			total = tensor.Add(total, x)
		}
		total.Backward()
		return ClipGradNorm(ps, 1)
	}
	want := norm(tensor.NewCPU(1))
	dev := &squareSummer{HostDevice: tensortest.NewHostDevice(1)}
	if got := norm(dev); got != want || dev.calls != 1 || dev.bufs != 5 {
		t.Errorf("norm %v in %d calls for %d buffers; want %v in 1 call for 5", got, dev.calls, dev.bufs, want)
	}
}
