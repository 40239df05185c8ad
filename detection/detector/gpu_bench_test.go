package detector

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/gpu"
	"github.com/detflow/detflow/gpu/tensordev"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/tensor"
	"github.com/detflow/detflow/tensor/tensortest"
)

// r50ImagesPerStep is issue 9's GPU workload: 2 images per GPU.
const r50ImagesPerStep = 2

// r50Items makes n images of 1333x800 (zero pixels; the time does not
// depend on them) with 7 random ground-truth boxes of 80 classes and 1000
// random proposals each. Image 0 is BenchmarkR50FPN's single image.
func r50Items(n int) []*batch.Item {
	rng := rand.New(rand.NewPCG(2, 2))
	items := make([]*batch.Item, n)
	for i := range items {
		var boxes []float32
		var labels []int32
		for j := 0; j < 7; j++ {
			x, y := rng.Float32()*1100, rng.Float32()*600
			boxes = append(boxes, x, y, x+40+rng.Float32()*180, y+40+rng.Float32()*180)
			labels = append(labels, int32(rng.IntN(80)))
		}
		it := &batch.Item{ImageID: int64(i), OrigW: 1333, OrigH: 800, W: 1333, H: 800, ScaleX: 1, ScaleY: 1,
			Pixels: make([]float32, 3*800*1333), GTBoxes: boxes, GTLabels: labels, GTCrowd: make([]bool, 7)}
		for j := 0; j < 1000; j++ {
			x, y := rng.Float32()*1300, rng.Float32()*780
			it.Proposals = append(it.Proposals, x, y, x+8+rng.Float32()*(1325-x), y+8+rng.Float32()*(792-y))
		}
		items[i] = it
	}
	return items
}

// r50Config is the R-50 benchmarks' model: fast_rcnn_r50_fpn_1x_coco with
// the batch norms' scale and shift frozen too, as torchvision's
// FrozenBatchNorm2d on the torch side (MMDetection's config trains them:
// DETFLOW_BENCH_SET=model.backbone.norm_cfg.requires_grad=true measures
// that). DETFLOW_BENCH_SET takes config sets separated by ';'.
func r50Config(b *testing.B) *configs.Config {
	sets := []string{"model.backbone.norm_cfg.requires_grad=false"}
	if v := os.Getenv("DETFLOW_BENCH_SET"); v != "" {
		sets = append(sets, strings.Split(v, ";")...)
	}
	cfg, err := configs.Load("fast_rcnn_r50_fpn_1x_coco", sets)
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

// r50Bench is one pass's model on its own device. Each pass opens a fresh
// GPU so that the allocator's peak is that pass's alone (the model's
// weights included, as torch.cuda.max_memory_allocated after
// reset_peak_memory_stats counts them).
type r50Bench struct {
	name  string
	g     *gpu.Device       // nil on the host device
	td    *tensordev.Device // nil on the host device
	host  *countingDevice   // the host device, nil on the GPU
	e     *tensor.Engine
	d     Detector
	opt   *nn.SGD
	items []*batch.Item
	// padded is items padded on the host once: a training loop's data
	// loader prepares batches off the step's path (bench_torchvision_r50.py
	// --upload likewise), so a step uploads the images but does not pad them.
	padded *batch.Padded
	iters  int // steps run so far, warm-up included (seeds the samplers)

	profiled bool // profileR50 ran
}

// benchDeviceKind reads DETFLOW_BENCH_DEVICE: "" or "cuda" for cuda:0,
// "host" for a CPU dry run on a device that is not *tensor.CPU (the GPU
// code paths of the detector, with CPU kernels).
func benchDeviceKind(b *testing.B) string {
	switch v := os.Getenv("DETFLOW_BENCH_DEVICE"); v {
	case "", "cuda", "cuda:0":
		return "cuda"
	case "host":
		return "host"
	default:
		b.Fatalf("DETFLOW_BENCH_DEVICE=%q: want cuda or host", v)
		return ""
	}
}

// openR50Bench builds the R-50-FPN model on a fresh device and runs step
// once untimed: the first step grows the allocator's cache and the
// engine's pool, loads the kernels and creates the cuBLAS handle.
func openR50Bench(b *testing.B, kind string, cfg *configs.Config, train bool, step func(*r50Bench) error) *r50Bench {
	s := &r50Bench{items: r50Items(r50ImagesPerStep)}
	s.padded = batch.Pad(s.items, 32)
	var dev tensor.Device
	if kind == "host" {
		s.host = &countingDevice{HostDevice: tensortest.NewHostDevice(0)}
		dev = s.host
	} else {
		g, err := gpu.Open(0)
		if err != nil {
			b.Fatalf("open cuda:0: %v", err)
		}
		s.g, s.td = g, tensordev.New(g, "cuda:0")
		dev = s.td
	}
	s.name = dev.Name()
	s.e = tensor.NewEngine(dev)
	s.e.SetFreeGraph(true) // as the trainer; trainStep reads the loss first
	d, err := Build(s.e, cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	s.d = d
	if train {
		s.opt = nn.NewSGD(nn.TrainableParameters(d), 0.01, 0.9, 1e-4)
	}
	if err := step(s); err != nil {
		b.Fatalf("warm-up on %s: %v", s.name, err)
	}
	return s
}

// predictStep runs inference on the batch; the detections come back to the
// host, which waits for the device.
func predictStep(s *r50Bench) error {
	defer s.e.ReleaseAll()
	s.iters++
	_, err := s.d.Predict(s.padded.Upload(s.e))
	return err
}

// trainStep is one SGD step as the trainer runs it: losses (read back, as
// training loops log them), backward, update.
func trainStep(s *r50Bench) error {
	defer s.e.ReleaseAll()
	nn.ZeroGrad(s.d)
	losses, err := s.d.Losses(s.padded.Upload(s.e), rngsFor(uint64(s.iters), len(s.items)))
	s.iters++
	if err != nil {
		return err
	}
	total := TotalLoss(losses)
	if v := total.Item(); math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		return fmt.Errorf("loss is %v", v)
	}
	total.Backward()
	s.opt.Step()
	return nil
}

// sync waits for the device's queued work (nothing to wait for on the host).
func (s *r50Bench) sync() error {
	if s.g == nil {
		return nil
	}
	return s.g.Synchronize()
}

// close frees the device and everything the model holds on it.
func (s *r50Bench) close() error {
	if s.g == nil {
		return nil
	}
	return s.g.Discard()
}

// fallbacks lists the operators that ran on the host, with their call
// counts over every step run on the device so far (warm-up included).
func (s *r50Bench) fallbacks() string {
	if s.td == nil {
		return "n/a"
	}
	counts := s.td.Fallbacks()
	if len(counts) == 0 {
		return "none"
	}
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s:%d", n, counts[n])
	}
	return strings.Join(parts, ",")
}

const mib = 1 << 20

// BenchmarkGPUR50FPN is issue 9's GPU figure: Fast R-CNN R-50-FPN
// (fast_rcnn_r50_fpn_1x_coco, random weights) at 2 images of 1333x800 with
// 1000 proposals each per step, on cuda:0: inference (Predict) and an SGD
// training step with 512 sampled RoIs per image (TrainStep). Each pass
// opens its own device, builds the model and runs one untimed warm-up step;
// the timed loop ends with a device synchronise. Besides ns/op it reports
// img/s, peak-MiB (the caching allocator's peak of memory handed out,
// weights, optimizer state and the engine's pooled buffers included) and
// reserved-MiB (what the allocator holds from the driver at the end: it
// only grows, so it is the pass's peak reservation), and prints one line
// per pass for scripts/gpu-check.sh:
//
//	detflow-r50 pass=train device=cuda:0 batch=2 s=<s/iter> img_s=<img/s> peak_mib=<MiB> reserved_mib=<MiB>
//
// detection/detector/testdata/bench_torchvision_r50.py --device cuda
// --batch 2 prints the same for torchvision. Without a CUDA driver the
// benchmark skips; DETFLOW_BENCH_DEVICE=host runs it on the CPU kernels
// through a non-CPU device (a dry run of the code path; no memory figures).
func BenchmarkGPUR50FPN(b *testing.B) {
	kind := benchDeviceKind(b)
	if kind == "cuda" {
		if _, err := gpu.LoadDriver(); err != nil {
			var nd *gpu.NoDriverError
			if errors.As(err, &nd) {
				b.Skipf("no GPU: %v (DETFLOW_BENCH_DEVICE=host runs it on the CPU)", err)
			}
			b.Fatal(err)
		}
	}
	cfg := r50Config(b)
	passes := []struct {
		name, tag string
		train     bool
		step      func(*r50Bench) error
	}{
		{"Predict", "predict", false, predictStep},
		{"TrainStep", "train", true, trainStep},
	}
	for _, p := range passes {
		// go test calls a sub-benchmark's function more than once (b.N = 1,
		// then the -benchtime count): the model is built on the first call
		// and kept for the others, then closed.
		var s *r50Bench
		b.Run(p.name, func(b *testing.B) {
			if s == nil {
				s = openR50Bench(b, kind, cfg, p.train, p.step)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := p.step(s); err != nil {
					b.Fatalf("%s on %s: %v", p.tag, s.name, err)
				}
			}
			if err := s.sync(); err != nil {
				b.Fatalf("synchronise %s: %v", s.name, err)
			}
			b.StopTimer()
			reportR50(b, s, p.tag)
			profileR50(b, s, p.tag, p.step)
		})
		if s != nil {
			if err := s.close(); err != nil {
				b.Errorf("close %s: %v", s.name, err)
			}
		}
	}
}

// profileR50 runs one more step of the pass with the GPU profiler on, once
// per pass when DETFLOW_GPU_PROFILE=1, and prints where its GPU time went
// (lines "detflow-prof pass=<tag> ..."; bench_torchvision_r50.py --profile
// prints torch's as "torch-prof" lines).
func profileR50(b *testing.B, s *r50Bench, tag string, step func(*r50Bench) error) {
	if s.g == nil || s.profiled || os.Getenv("DETFLOW_GPU_PROFILE") != "1" {
		return
	}
	s.profiled = true
	if err := s.g.StartProfile(); err != nil {
		b.Fatal(err)
	}
	if err := step(s); err != nil {
		b.Fatalf("profiled %s step: %v", tag, err)
	}
	p, err := s.g.StopProfile()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(p.Table(30)), "\n") {
		fmt.Printf("detflow-prof pass=%s %s\n", tag, line)
	}
}

// reportR50 adds the pass's metrics and prints its parsable line.
func reportR50(b *testing.B, s *r50Bench, tag string) {
	sec := b.Elapsed().Seconds() / float64(b.N)
	imgs := float64(len(s.items)) / sec
	b.ReportMetric(imgs, "img/s")
	line := fmt.Sprintf("detflow-r50 pass=%s device=%s batch=%d iters=%d s=%.4f img_s=%.2f",
		tag, s.name, len(s.items), b.N, sec, imgs)
	if s.g != nil {
		st := s.g.MemStats()
		peak, reserved := float64(st.Peak)/mib, float64(st.Reserved)/mib
		b.ReportMetric(peak, "peak-MiB")
		b.ReportMetric(reserved, "reserved-MiB")
		line += fmt.Sprintf(" peak_mib=%.1f reserved_mib=%.1f", peak, reserved)
	}
	if s.host != nil { // what a GPU allocator would count, size classes aside
		peak := float64(s.host.peak) / mib
		b.ReportMetric(peak, "peak-MiB")
		line += fmt.Sprintf(" peak_mib=%.1f", peak)
	}
	fmt.Println(line)
	fmt.Printf("detflow-r50 pass=%s steps=%d host_fallbacks=%s conv=%s\n", tag, s.iters, s.fallbacks(), s.convPath())
}

// convPath says how the pass convolved: the cuDNN version, or why not and
// how many convolutions were composed from im2col and GEMM.
func (s *r50Bench) convPath() string {
	if s.g == nil {
		return "host"
	}
	dn, err := s.g.DNN()
	if err != nil {
		fmt.Printf("detflow-r50 info no cuDNN: %v\n", err)
		return fmt.Sprintf("composed(%d)", s.td.ConvComposed())
	}
	return fmt.Sprintf("%s(composed=%d)", strings.ReplaceAll(dn.String(), " ", "-"), s.td.ConvComposed())
}

// countingDevice is the host device with a count of the bytes its buffers
// hold and their peak: on the host dry run, the figure a GPU's caching
// allocator would report as allocated (size-class rounding aside).
type countingDevice struct {
	*tensortest.HostDevice
	live, peak int64
}

func (d *countingDevice) add(n int) {
	d.live += int64(n)
	d.peak = max(d.peak, d.live)
}

func (d *countingDevice) Alloc(n int) tensor.Buffer { d.add(4 * n); return d.HostDevice.Alloc(n) }
func (d *countingDevice) Free(b tensor.Buffer)      { d.add(-4 * b.Len()); d.HostDevice.Free(b) }
func (d *countingDevice) AllocIndex(n int) tensor.IndexBuffer {
	d.add(4 * n)
	return d.HostDevice.AllocIndex(n)
}
func (d *countingDevice) FreeIndex(b tensor.IndexBuffer) {
	d.add(-4 * b.Len())
	d.HostDevice.FreeIndex(b)
}
