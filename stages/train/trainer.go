package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/tensor"
)

// Options configure a Trainer.
type Options struct {
	Replicas         int
	ImagesPerReplica int
	Schedule         nn.StepSchedule // BaseLR already scaled to the total batch
	Momentum         float64
	WeightDecay      float64
	GradClip         float64 // max global gradient norm; 0 disables clipping
	SizeDivisor      int
	Seed             int64
	// MaxLoss stops training when the total loss exceeds it (an exploding
	// run); NaN and Inf always stop it.
	MaxLoss float64
	// Devices holds one device per replica (GPUs, say); nil trains on CPU
	// engines that share the machine's cores.
	Devices []tensor.Device
	// Autocast is the number format of the models' convolutions and
	// matrix products (fp16 or bf16 mixed precision); the parameters stay
	// FP32 and the optimizer steps them in FP32 (master weights).
	Autocast tensor.Autocast
	// LossScaler scales the loss before backward and skips steps whose
	// gradients overflow (fp16); nil trains unscaled.
	LossScaler *nn.LossScaler
}

// replica is one data-parallel worker: its own engine and model copy.
type replica struct {
	eng    *tensor.Engine
	model  Model
	params []nn.Named
}

// Trainer runs synchronous data-parallel SGD. Replica 0 owns the optimizer:
// gradients are averaged into it, it steps, and its parameters and buffers
// are copied to the other replicas (as DDP broadcasts buffers from rank 0).
// The copies go through the devices' collective library (NCCL) when they
// have one, else through tensor.CopyAcross.
type Trainer struct {
	opts     Options
	replicas []*replica
	opt      *nn.SGD
	coll     tensor.Collective // nil: CopyAcross
	exchange string            // how replicas exchange gradients, for the log
}

// NewTrainer builds opts.Replicas identical models, on opts.Devices or on
// CPU engines that share the machine's cores.
func NewTrainer(build Builder, opts Options) (*Trainer, error) {
	if opts.Replicas < 1 || opts.ImagesPerReplica < 1 {
		return nil, fmt.Errorf("train: need at least one replica and one image per replica")
	}
	if opts.Devices != nil && len(opts.Devices) != opts.Replicas {
		return nil, fmt.Errorf("train: %d devices for %d replicas", len(opts.Devices), opts.Replicas)
	}
	workers := max(1, runtime.GOMAXPROCS(0)/opts.Replicas)
	t := &Trainer{opts: opts}
	for r := 0; r < opts.Replicas; r++ {
		var dev tensor.Device = tensor.NewCPU(workers)
		if opts.Devices != nil {
			dev = opts.Devices[r]
		}
		eng := tensor.NewEngine(dev)
		eng.SetFreeGraph(true) // forwardBackward reads the losses before Backward
		eng.SetAutocast(opts.Autocast)
		m, err := build(eng, seeded(opts.Seed, "init", 0, 0))
		if err != nil {
			return nil, fmt.Errorf("train: build model: %w", err)
		}
		nn.SetTraining(m, true)
		t.replicas = append(t.replicas, &replica{eng: eng, model: m, params: nn.TrainableParameters(m)})
	}
	p0 := t.replicas[0].params
	t.opt = nn.NewSGD(p0, float32(opts.Schedule.BaseLR), float32(opts.Momentum), float32(opts.WeightDecay))
	t.coll, t.exchange = newCollective(opts)
	return t, nil
}

// newCollective returns the devices' collective library when they can
// form one, nil (copies) otherwise, and says which the replicas use.
func newCollective(opts Options) (tensor.Collective, string) {
	switch {
	case opts.Replicas < 2:
		return nil, "none (one replica)"
	case len(opts.Devices) < 2:
		return nil, "shared memory (CPU replicas)"
	}
	m, ok := opts.Devices[0].(tensor.CollectiveMaker)
	if !ok {
		return nil, "copies through host memory"
	}
	c, err := m.NewCollective(opts.Devices)
	if err != nil {
		return nil, fmt.Sprintf("peer copies (%v)", err)
	}
	return c, c.String()
}

// Exchange says how the replicas exchange gradients and weights: a
// collective library such as "NCCL 2.27.3", or which copies and why.
func (t *Trainer) Exchange() string { return t.exchange }

// Close releases the collective library's communicators; the devices stay
// open for their owner to close.
func (t *Trainer) Close() error {
	if t.coll == nil {
		return nil
	}
	err := t.coll.Close()
	t.coll = nil
	return err
}

// Model is replica 0's model, the one checkpoints save and load.
func (t *Trainer) Model() Model { return t.replicas[0].model }

// Optimizer is replica 0's optimizer.
func (t *Trainer) Optimizer() *nn.SGD { return t.opt }

// Sync copies replica 0's parameters and buffers to the other replicas,
// after loading a checkpoint into it.
func (t *Trainer) Sync() error {
	if t.coll != nil {
		if err := t.coll.Broadcast(t.stateRows()); err != nil {
			return fmt.Errorf("train: broadcast replica 0's weights with %s: %w", t.coll, err)
		}
		return nil
	}
	src := t.replicas[0].model
	for _, r := range t.replicas[1:] {
		copyState(src, r.model)
	}
	return nil
}

// stateRows lists every non-empty parameter and buffer as one row of
// buffers, one per replica.
func (t *Trainer) stateRows() [][]tensor.Buffer {
	var rows [][]tensor.Buffer
	for _, named := range []func(nn.Module) []nn.Named{nn.NamedParameters, nn.NamedBuffers} {
		lists := make([][]nn.Named, len(t.replicas))
		for k, r := range t.replicas {
			lists[k] = named(r.model)
		}
		for i := range lists[0] {
			if lists[0][i].Tensor.Len() == 0 {
				continue
			}
			row := make([]tensor.Buffer, len(lists))
			for k := range lists {
				row[k] = lists[k][i].Tensor.Buffer()
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// StepResult is what one iteration measured.
type StepResult struct {
	Losses   map[string]float64 // averaged over replicas
	Total    float64
	GradNorm float64 // of the unscaled gradients; Inf or NaN when Skipped
	LR       float64
	// LossScale is the scale the loss was multiplied by (0: no scaler).
	LossScale float64
	// Skipped says the scaler skipped the optimizer step: the gradients
	// overflowed (Inf or NaN) although every loss was finite.
	Skipped bool
}

// Step trains one iteration on items (Replicas x ImagesPerReplica of them,
// in global order) with learning rate lr. rngs has one generator per item.
func (t *Trainer) Step(items []*batch.Item, rngs []*rand.Rand, lr float64) (res StepResult, err error) {
	// Bad shapes and device failures (out of memory, a faulted kernel)
	// panic, in replicas and in the pool's helpers alike; the step fails.
	defer tensor.Recover(&err, "train")
	k := t.opts.ImagesPerReplica
	if len(items) != k*len(t.replicas) {
		return StepResult{}, fmt.Errorf("train: step got %d images, want %d", len(items), k*len(t.replicas))
	}
	losses := make([]map[string]float64, len(t.replicas))
	errs := make([]error, len(t.replicas))
	marks := make([]tensor.Mark, len(t.replicas))
	var wg sync.WaitGroup
	for i, r := range t.replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer tensor.Recover(&errs[i], "train")
			marks[i] = r.eng.Mark()
			losses[i], errs[i] = r.forwardBackward(items[i*k:(i+1)*k], rngs[i*k:(i+1)*k], t.opts.SizeDivisor, t.lossScale())
		}()
	}
	wg.Wait()
	defer func() {
		for i, r := range t.replicas {
			r.eng.Release(marks[i])
			r.eng.TrimIdle() // the pool keeps what this step reused
		}
	}()
	for _, err := range errs {
		if err != nil {
			return StepResult{}, err
		}
	}
	res = StepResult{Losses: map[string]float64{}, LR: lr}
	if t.opts.LossScaler != nil {
		res.LossScale = t.opts.LossScaler.Scale
	}
	for _, l := range losses {
		for name, v := range l {
			res.Losses[name] += v / float64(len(t.replicas))
		}
	}
	for _, v := range res.Losses {
		res.Total += v
	}
	// The losses are the unscaled forward values: a NaN or infinite loss
	// stops training here, whatever the scaler would do with its gradients.
	if err := t.checkLoss(res); err != nil {
		return res, err
	}
	if err := t.averageGrads(); err != nil {
		return res, err
	}
	t.unscaleGrads()
	if t.opts.GradClip > 0 {
		res.GradNorm = nn.ClipGradNorm(t.replicas[0].params, t.opts.GradClip)
	} else {
		res.GradNorm = nn.ClipGradNorm(t.replicas[0].params, math.Inf(1))
	}
	if sc := t.opts.LossScaler; sc != nil {
		res.Skipped = nn.Overflowed(res.GradNorm)
		sc.Update(res.Skipped)
		if res.Skipped {
			return res, t.Sync() // the weights did not change; buffers may have
		}
	}
	t.opt.LR = float32(lr)
	t.opt.Step()
	return res, t.Sync()
}

// lossScale is the factor the losses are multiplied by before backward.
func (t *Trainer) lossScale() float32 {
	if t.opts.LossScaler == nil {
		return 1
	}
	return float32(t.opts.LossScaler.Scale)
}

// unscaleGrads divides replica 0's (averaged) gradients by the loss scale,
// before clipping and the step, as GradScaler.unscale_.
func (t *Trainer) unscaleGrads() {
	s := t.lossScale()
	if s == 1 {
		return
	}
	for _, p := range t.replicas[0].params {
		if g := p.Tensor.Grad(); g != nil {
			p.Tensor.Engine().Device().Unary(tensor.UnaryScale, 1/s, g.Buffer(), g.Buffer())
		}
	}
}

// forwardBackward runs the model on a replica's share and backpropagates
// the sum of its losses times scale; it returns the (unscaled) loss values.
func (r *replica) forwardBackward(items []*batch.Item, rngs []*rand.Rand, div int, scale float32) (map[string]float64, error) {
	nn.ZeroGrad(r.model)
	b := batch.Collate(r.eng, items, div)
	named, err := r.model.Losses(b, rngs)
	if err != nil {
		return nil, err
	}
	if err := checkLossNames(named); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(named))
	for n := range named {
		names = append(names, n)
	}
	sort.Strings(names) // a fixed order keeps float sums reproducible
	var total *tensor.Tensor
	out := make(map[string]float64, len(named))
	for _, n := range names {
		l := named[n]
		out[n] = float64(l.Item())
		if total == nil {
			total = l
		} else {
			total = tensor.Add(total, l)
		}
	}
	if total == nil {
		return nil, fmt.Errorf("train: the model returned no losses")
	}
	if scale != 1 {
		total = tensor.Scale(total, scale)
	}
	total.Backward()
	return out, nil
}

// checkLossNames accepts any loss name a model returns except an empty one
// or a field of the train log line, which the loss would overwrite there.
func checkLossNames(named map[string]*tensor.Tensor) error {
	for n := range named {
		if n == "" || logFields[n] {
			return fmt.Errorf("train: the model returned a loss named %q, which the train log cannot hold", n)
		}
	}
	return nil
}

// checkLoss stops on NaN, Inf or an exploding loss, naming the loss.
func (t *Trainer) checkLoss(res StepResult) error {
	names := make([]string, 0, len(res.Losses))
	for n := range res.Losses {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := res.Losses[n]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return &LossError{Name: n, Value: v}
		}
	}
	if t.opts.MaxLoss > 0 && res.Total > t.opts.MaxLoss {
		return &LossError{Name: "loss", Value: res.Total, Limit: t.opts.MaxLoss}
	}
	return nil
}

// LossError reports a NaN, infinite or exploding loss.
type LossError struct {
	Name  string
	Value float64
	Limit float64
}

func (e *LossError) Error() string {
	if e.Limit > 0 {
		return fmt.Sprintf("%s = %g exceeds %g: training diverged", e.Name, e.Value, e.Limit)
	}
	return fmt.Sprintf("%s is %g", e.Name, e.Value)
}

// averageGrads replaces replica 0's gradients by the mean over replicas:
// the gradients are summed into replica 0's, by the collective library or
// by copying each to replica 0's device and adding there in replica order
// (so the sum does not depend on timing), then scaled by 1/n.
func (t *Trainer) averageGrads() error {
	n := len(t.replicas)
	if n == 1 {
		return nil
	}
	rows := t.gradRows()
	r0 := t.replicas[0]
	dev := r0.eng.Device()
	if t.coll != nil {
		bufs := make([][]tensor.Buffer, len(rows))
		for i, row := range rows {
			bufs[i] = make([]tensor.Buffer, n)
			for k, g := range row {
				bufs[i][k] = g.Buffer()
			}
		}
		if err := t.coll.ReduceSum(bufs); err != nil {
			return fmt.Errorf("train: sum gradients across replicas with %s: %w", t.coll, err)
		}
	} else {
		for _, row := range rows {
			for _, g := range row[1:] {
				other := r0.eng.Empty(g.Shape()...) // step scratch, released with the step's mark
				tensor.CopyAcross(other, g)
				dev.Axpby(1, other.Buffer(), 1, row[0].Buffer())
			}
		}
	}
	for _, row := range rows {
		dev.Unary(tensor.UnaryScale, 1/float32(n), row[0].Buffer(), row[0].Buffer())
	}
	return nil
}

// gradRows lists, for every parameter that has a gradient on some
// replica, its gradient on each replica; a replica whose step left the
// parameter without one (a branch it did not use) contributes zeros.
func (t *Trainer) gradRows() [][]*tensor.Tensor {
	var rows [][]*tensor.Tensor
	for i := range t.replicas[0].params {
		used := false
		for _, r := range t.replicas {
			used = used || r.params[i].Tensor.Grad() != nil
		}
		if !used {
			continue
		}
		row := make([]*tensor.Tensor, len(t.replicas))
		for k, r := range t.replicas {
			p := r.params[i].Tensor
			p.EnsureGrad()
			row[k] = p.Grad()
		}
		rows = append(rows, row)
	}
	return rows
}

// copyState copies every parameter and buffer of src into dst (same
// architecture, other engine).
func copyState(src, dst nn.Module) {
	copyNamed(nn.NamedParameters(src), nn.NamedParameters(dst))
	copyNamed(nn.NamedBuffers(src), nn.NamedBuffers(dst))
}

func copyNamed(src, dst []nn.Named) {
	for i := range src {
		tensor.CopyAcross(dst[i].Tensor, src[i].Tensor)
	}
}
