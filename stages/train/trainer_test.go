package train

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/detflow/detflow/internal/team"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/stages/train/traintest"
	"github.com/detflow/detflow/tensor"
	"github.com/detflow/detflow/tensor/tensortest"
)

// toyItems makes count random 16x16 images with two boxes each.

func TestTwoReplicasOfOneImageMatchOneReplicaOfTwo(t *testing.T) {
	sched := nn.StepSchedule{BaseLR: 0.05, Gamma: 0.1}
	newT := func(replicas, per int) *Trainer {
		tr, err := NewTrainer(toyBuilder(3, 0), Options{Replicas: replicas, ImagesPerReplica: per, Schedule: sched,
			Momentum: 0.9, WeightDecay: 1e-4, GradClip: 35, SizeDivisor: 8, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	a, b := newT(2, 1), newT(1, 2)
	for k := 0; k < 6; k++ {
		items := traintest.Items(2, uint64(k))
		rngs := func() []*rand.Rand {
			return []*rand.Rand{seeded(5, "sample", uint64(k), 0), seeded(5, "sample", uint64(k), 1)}
		}
		ra, err := a.Step(items, rngs(), 0.05)
		if err != nil {
			t.Fatal(err)
		}
		rb, err := b.Step(items, rngs(), 0.05)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(ra.Total-rb.Total) > 1e-5 {
			t.Fatalf("step %d: loss %v (2x1) vs %v (1x2)", k, ra.Total, rb.Total)
		}
	}
	pa, pb := nn.NamedParameters(a.Model()), nn.NamedParameters(b.Model())
	for i := range pa {
		da, db := pa[i].Tensor.Data(), pb[i].Tensor.Data()
		for j := range da {
			if d := math.Abs(float64(da[j] - db[j])); d > 1e-5*(1+math.Abs(float64(db[j]))) {
				t.Fatalf("%s[%d]: %v (2 replicas x 1 image) vs %v (1 replica x 2 images)", pa[i].Name, j, da[j], db[j])
			}
		}
	}
	// Replica 1 of the two-replica trainer holds the same weights as replica 0.
	for i, p := range nn.NamedParameters(a.replicas[1].model) {
		if d0, d1 := pa[i].Tensor.Data(), p.Tensor.Data(); d0[0] != d1[0] {
			t.Fatalf("replicas diverged at %s", p.Name)
		}
	}
}

func TestTrainingReducesToyLoss(t *testing.T) {
	tr, err := NewTrainer(toyBuilder(3, 0), Options{Replicas: 1, ImagesPerReplica: 4,
		Schedule: nn.StepSchedule{BaseLR: 0.1, Gamma: 0.1}, Momentum: 0.9, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	items := traintest.Items(4, 99)
	var first, last float64
	for k := 0; k < 60; k++ {
		rngs := make([]*rand.Rand, 4)
		for i := range rngs {
			rngs[i] = seeded(1, "sample", 0, uint64(i)) // same choices each step: a fixed task
		}
		r, err := tr.Step(items, rngs, 0.1)
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			first = r.Total
		}
		last = r.Total
	}
	if last > 0.5*first {
		t.Errorf("loss went from %.4f to %.4f in 60 steps on 4 fixed images; want it at least halved", first, last)
	}
}

func TestNaNLossStopsNamingTheLoss(t *testing.T) {
	tr, err := NewTrainer(toyBuilder(3, 3), Options{Replicas: 1, ImagesPerReplica: 2,
		Schedule: nn.StepSchedule{BaseLR: 0.1, Gamma: 0.1}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 5; k++ {
		rngs := []*rand.Rand{seeded(1, "s", uint64(k), 0), seeded(1, "s", uint64(k), 1)}
		_, err := tr.Step(traintest.Items(2, uint64(k)), rngs, 0.1)
		if k < 2 && err != nil {
			t.Fatalf("step %d: %v", k, err)
		}
		if k == 2 {
			le, ok := err.(*LossError)
			if !ok || le.Name != "loss_bbox" {
				t.Fatalf("step %d: error %v, want a LossError naming loss_bbox", k, err)
			}
			return
		}
	}
}

// toyBuilder builds traintest.Toy models.
func toyBuilder(classes, nanAfter int) Builder {
	return func(e *tensor.Engine, rng *rand.Rand) (Model, error) {
		m := traintest.NewToy(e, rng, classes)
		m.NaNAfter = nanAfter
		return m, nil
	}
}

func newCPUEngine() *tensor.Engine { return tensor.NewEngine(tensor.NewCPU(1)) }

// TestReplicasOnOtherDevices trains two replicas on devices that are not
// tensor.CPU (as GPU replicas are): gradients and weights then move between
// replicas by CopyAcross's host path, or by the devices' collective library
// when they have one, and the run must match the CPU replicas' bit for
// bit, since the same kernels run in the same order.
func TestReplicasOnOtherDevices(t *testing.T) {
	sched := nn.StepSchedule{BaseLR: 0.05, Gamma: 0.1}
	newT := func(devs []tensor.Device) *Trainer {
		tr, err := NewTrainer(toyBuilder(3, 0), Options{Replicas: 2, ImagesPerReplica: 1, Schedule: sched,
			Momentum: 0.9, WeightDecay: 1e-4, GradClip: 35, SizeDivisor: 8, Seed: 5, Devices: devs})
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	comm := &hostComm{}
	cpu := newT(nil)
	others := map[string]*Trainer{
		"peer copies": newT([]tensor.Device{tensortest.NewHostDevice(1), tensortest.NewHostDevice(1)}),
		"collective":  newT([]tensor.Device{&collectiveDevice{tensortest.NewHostDevice(1), comm}, &collectiveDevice{tensortest.NewHostDevice(1), comm}}),
		"collective refused": newT([]tensor.Device{&collectiveDevice{tensortest.NewHostDevice(1), &hostComm{refuse: true}},
			&collectiveDevice{tensortest.NewHostDevice(1), nil}}),
	}
	if others["collective"].coll == nil || others["collective refused"].coll != nil {
		t.Fatal("the trainer must use a collective its devices offer, and fall back to peer copies when refused")
	}
	if got := others["collective refused"].Exchange(); got != "peer copies (no collective library here)" {
		t.Errorf("Exchange() = %q, want the fallback and its reason", got)
	}
	for k := 0; k < 4; k++ {
		items := traintest.Items(2, uint64(k))
		rngs := func() []*rand.Rand {
			return []*rand.Rand{seeded(5, "sample", uint64(k), 0), seeded(5, "sample", uint64(k), 1)}
		}
		rc, err := cpu.Step(items, rngs(), 0.05)
		if err != nil {
			t.Fatal(err)
		}
		for name, other := range others {
			ro, err := other.Step(items, rngs(), 0.05)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if rc.Total != ro.Total || rc.GradNorm != ro.GradNorm {
				t.Fatalf("step %d: loss %v, grad norm %v on CPU replicas; %v, %v with %s", k, rc.Total, rc.GradNorm, ro.Total, ro.GradNorm, name)
			}
		}
	}
	if comm.reduces != 4 || comm.broadcasts != 4 {
		t.Errorf("collective used for %d reductions and %d broadcasts in 4 steps, want 4 each", comm.reduces, comm.broadcasts)
	}
	for name, other := range others {
		for r := range 2 {
			pc, po := nn.NamedParameters(cpu.replicas[r].model), nn.NamedParameters(other.replicas[r].model)
			for i := range pc {
				if !slices.Equal(pc[i].Tensor.Data(), po[i].Tensor.Data()) {
					t.Fatalf("replica %d %s differs between CPU and %s", r, pc[i].Name, name)
				}
			}
		}
		if err := other.Close(); err != nil {
			t.Error(err)
		}
	}
	if !comm.closed {
		t.Error("Trainer.Close left the collective open")
	}
}

// collectiveDevice is a host device with a collective library: hostComm,
// which sums in rank order on the host as the peer-copy path does.
type collectiveDevice struct {
	*tensortest.HostDevice
	comm *hostComm
}

func (d *collectiveDevice) NewCollective(group []tensor.Device) (tensor.Collective, error) {
	if d.comm.refuse {
		return nil, errors.New("no collective library here")
	}
	return d.comm, nil
}

type hostComm struct {
	refuse, fail, closed bool
	reduces, broadcasts  int
}

func (c *hostComm) ReduceSum(bufs [][]tensor.Buffer) error {
	if c.fail {
		return errors.New("rank 1: unhandled system error")
	}
	c.reduces++
	for _, row := range bufs {
		dst := tensor.CPUData(row[0])
		for _, b := range row[1:] {
			for i, v := range tensor.CPUData(b) {
				dst[i] = v + dst[i]
			}
		}
	}
	return nil
}

func (c *hostComm) Broadcast(bufs [][]tensor.Buffer) error {
	c.broadcasts++
	for _, row := range bufs {
		for _, b := range row[1:] {
			copy(tensor.CPUData(b), tensor.CPUData(row[0]))
		}
	}
	return nil
}

func (c *hostComm) String() string { return "host collective" }
func (c *hostComm) Close() error   { c.closed = true; return nil }

// TestCollectiveFailureIsAnError: a failed all-reduce ends the step with
// an error naming the library, before the optimizer steps.
func TestCollectiveFailureIsAnError(t *testing.T) {
	comm := &hostComm{fail: true}
	tr, err := NewTrainer(toyBuilder(3, 0), Options{Replicas: 2, ImagesPerReplica: 1, Seed: 1,
		Schedule: nn.StepSchedule{BaseLR: 0.1, Gamma: 0.1},
		Devices:  []tensor.Device{&collectiveDevice{tensortest.NewHostDevice(1), comm}, &collectiveDevice{tensortest.NewHostDevice(1), comm}}})
	if err != nil {
		t.Fatal(err)
	}
	before := slices.Clone(nn.NamedParameters(tr.Model())[0].Tensor.Data())
	_, err = tr.Step(traintest.Items(2, 1), []*rand.Rand{seeded(1, "s", 0, 0), seeded(1, "s", 0, 1)}, 0.1)
	if err == nil || !strings.Contains(err.Error(), "sum gradients across replicas with host collective: rank 1") {
		t.Fatalf("err = %v, want the collective's failure", err)
	}
	if !slices.Equal(before, nn.NamedParameters(tr.Model())[0].Tensor.Data()) {
		t.Error("the weights changed in a step whose gradient sum failed")
	}
}

func TestDevicesMustMatchReplicas(t *testing.T) {
	_, err := NewTrainer(toyBuilder(3, 0), Options{Replicas: 2, ImagesPerReplica: 1, Seed: 1,
		Schedule: nn.StepSchedule{BaseLR: 0.1, Gamma: 0.1}, Devices: []tensor.Device{tensor.NewCPU(1)}})
	if err == nil || !strings.Contains(err.Error(), "1 devices for 2 replicas") {
		t.Fatalf("err = %v, want a devices/replicas mismatch", err)
	}
}

// failingDevice fails like a GPU once armed: it panics with value (an out
// of memory when nil), on a helper of a parallel loop where inLoop is set,
// as a kernel launched from a loop's body would.
type failingDevice struct {
	*tensortest.HostDevice
	armed  bool
	inLoop bool
	value  any
}

var errOutOfMemory = errors.New("cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY (out of memory)")

func (d *failingDevice) Alloc(n int) tensor.Buffer {
	if !d.armed {
		return d.HostDevice.Alloc(n)
	}
	v := d.value
	if v == nil {
		v = &tensor.DeviceError{Backend: "tensordev", Err: errOutOfMemory}
	}
	if !d.inLoop {
		panic(v)
	}
	// The caller's share waits until the helper's has started, so the
	// panic is the helper's.
	started := make(chan struct{})
	team.For(2, 2, func(w, _ int) {
		if w == 0 {
			<-started
			return
		}
		close(started)
		panic(v)
	})
	panic("unreachable")
}

// failingStep runs one step of two replicas, the second on d armed.
func failingStep(t *testing.T, d *failingDevice) error {
	t.Helper()
	d.HostDevice = tensortest.NewHostDevice(1)
	tr, err := NewTrainer(toyBuilder(3, 0), Options{Replicas: 2, ImagesPerReplica: 1, Seed: 1,
		Schedule: nn.StepSchedule{BaseLR: 0.1, Gamma: 0.1}, Devices: []tensor.Device{tensortest.NewHostDevice(1), d}})
	if err != nil {
		t.Fatal(err)
	}
	d.armed = true
	_, err = tr.Step(traintest.Items(2, 1), []*rand.Rand{seeded(1, "s", 0, 0), seeded(1, "s", 0, 1)}, 0.1)
	return err
}

// TestDeviceFailureIsAnError: a replica's device failing mid-step, on the
// replica's goroutine or on a pool helper running a loop for it, ends the
// step with an error that holds the failure, not a crash of the process.
func TestDeviceFailureIsAnError(t *testing.T) {
	for _, inLoop := range []bool{false, true} {
		err := failingStep(t, &failingDevice{inLoop: inLoop})
		var de *tensor.DeviceError
		if !errors.As(err, &de) || !errors.Is(err, errOutOfMemory) {
			t.Fatalf("in loop %v: err = %v, want the device's *tensor.DeviceError", inLoop, err)
		}
		if !strings.HasPrefix(err.Error(), "train: tensordev: cuMemAlloc_v2") {
			t.Errorf("in loop %v: err = %q", inLoop, err)
		}
	}
}

// TestShapeErrorInHelperIsAnError: an engine's bad-input panic on a pool
// helper becomes the step's error too, with the original value.
func TestShapeErrorInHelperIsAnError(t *testing.T) {
	want := &tensor.InputError{Msg: "tensor: matmul [2 3] by [4 5]"}
	err := failingStep(t, &failingDevice{inLoop: true, value: want})
	var got *tensor.InputError
	if !errors.As(err, &got) || got != want {
		t.Fatalf("err = %v, want the helper's *tensor.InputError", err)
	}
}

// TestOtherPanicsInHelperPropagate: a panic that is not an engine error is
// a bug, whatever its message says: it ends the process (the replica's
// goroutine has no caller to recover it), so the test reruns itself.
func TestOtherPanicsInHelperPropagate(t *testing.T) {
	if os.Getenv("DETFLOW_TEST_CRASH") == "1" {
		err := failingStep(t, &failingDevice{inLoop: true, value: "tensordev: a bug"})
		t.Fatalf("Step returned %v, want a crash", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestOtherPanicsInHelperPropagate$")
	cmd.Env = append(os.Environ(), "DETFLOW_TEST_CRASH=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || !strings.Contains(string(out), "panic: team: loop body panicked: tensordev: a bug") {
		t.Fatalf("rerun: %v, want a crash with the helper's panic; output:\n%s", err, out)
	}
}
