package detector

import (
	"bufio"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/detflow/detflow/batch"
	"github.com/detflow/detflow/configs"
	"github.com/detflow/detflow/nn"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/stages"
	"github.com/detflow/detflow/zoo"
)

// cpuSeconds is the process's user+system CPU time: on a shared machine
// wall time depends on the neighbours, CPU time much less.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// peakRSSMiB is the process's peak resident set (VmHWM in /proc/self/status)
// in MiB, and false where that file is absent (not Linux). The peak is per
// process, so it is only the figure of one benchmark when that benchmark runs
// alone (-run '^$' -bench R50FPN); within it, sub-benchmarks run in order and
// each reports the peak so far.
func peakRSSMiB() (float64, bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		// The line reads "VmHWM:   123456 kB".
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, false
		}
		kb, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return 0, false
		}
		return kb / 1024, true
	}
	return 0, false
}

// reportPeakRSS adds the process's peak resident set so far as peak-MiB.
func reportPeakRSS(b *testing.B) {
	if mib, ok := peakRSSMiB(); ok {
		b.ReportMetric(mib, "peak-MiB")
	}
}

// benchItems makes n images of the default synthetic size (320x240) with
// six objects and 2000 proposals each, the default config's workload.
func benchItems(n int) []*batch.Item {
	rng := rand.New(rand.NewPCG(1, 1))
	items := make([]*batch.Item, n)
	for i := range items {
		var boxes []float32
		var labels []int32
		for j := 0; j < 6; j++ {
			x, y := rng.Float32()*260, rng.Float32()*180
			boxes = append(boxes, x, y, x+20+rng.Float32()*40, y+20+rng.Float32()*40)
			labels = append(labels, int32(rng.IntN(3)))
		}
		it := synthItem(rng, int64(i), 240, 320, boxes, labels)
		it.Proposals = it.Proposals[:0]
		for j := 0; j < 2000; j++ {
			x, y := rng.Float32()*300, rng.Float32()*220
			it.Proposals = append(it.Proposals, x, y, x+4+rng.Float32()*(316-x), y+4+rng.Float32()*(236-y))
		}
		it.ProposalScores = make([]float32, 2000)
		items[i] = it
	}
	return items
}

// maskBenchItems gives benchItems ellipse masks, and the first 256 of each
// image's proposals jittered copies of its gt boxes, so a Fast R-CNN
// samples its full 25% of positives as late in training.
func maskBenchItems(items []*batch.Item) []*batch.Item {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, it := range items {
		withEllipses(it)
		n := len(it.GTLabels)
		for j := 0; j < 256; j++ {
			g := it.GTBoxes[4*(j%n) : 4*(j%n)+4]
			w, h := g[2]-g[0], g[3]-g[1]
			for k, side := range []float32{w, h, w, h} {
				it.Proposals[4*j+k] = max(g[k]+side*0.2*(rng.Float32()-0.5), 0)
			}
		}
	}
	return items
}

func defaultConfig(b *testing.B, typ string) *configs.Config {
	name := map[string]string{zoo.ModelFastRCNN: configs.Default, zoo.ModelFasterRCNN: "faster_rcnn_tiny_synth", zoo.ModelRetinaNet: "retinanet_tiny_synth",
		zoo.ModelMaskRCNN: "mask_rcnn_tiny_synth", zoo.ModelFastMaskRCNN: "fast_mask_rcnn_tiny_synth"}[typ]
	cfg, err := configs.Load(name, nil)
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

// BenchmarkTrainStep times one training step (Losses + Backward + SGD) of
// the default tiny configs on imgs_per_gpu images of 320x240 (the mask
// models' with maskBenchItems).
func BenchmarkTrainStep(b *testing.B) {
	for _, typ := range []string{zoo.ModelFastRCNN, zoo.ModelFasterRCNN, zoo.ModelRetinaNet, zoo.ModelMaskRCNN, zoo.ModelFastMaskRCNN} {
		b.Run(typ, func(b *testing.B) {
			cfg := defaultConfig(b, typ)
			e := newEngine()
			d, err := Build(e, cfg, rand.New(rand.NewPCG(1, 1)))
			if err != nil {
				b.Fatal(err)
			}
			items := benchItems(cfg.Data.ImgsPerGPU)
			if cfg.Model.Type == zoo.ModelFastMaskRCNN || cfg.Model.Type == zoo.ModelMaskRCNN {
				items = maskBenchItems(items)
			}
			opt := nn.NewSGD(nn.TrainableParameters(d), 0.01, 0.9, 1e-4)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuSeconds()
			for i := 0; i < b.N; i++ {
				mark := e.Mark()
				nn.ZeroGrad(d)
				bt := batch.Collate(e, items, cfg.Data.SizeDivisor)
				losses, err := d.Losses(bt, rngsFor(uint64(i), len(items)))
				if err != nil {
					b.Fatal(err)
				}
				TotalLoss(losses).Backward()
				opt.Step()
				e.Release(mark)
			}
			b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(len(items)*b.N)/b.Elapsed().Seconds(), "img/s")
		})
	}
}

// BenchmarkPredict times inference of the default tiny Fast R-CNN on one
// batch of evaluate.batch images with 1000 proposals each.
func BenchmarkPredict(b *testing.B) {
	cfg := defaultConfig(b, zoo.ModelFastRCNN)
	e := newEngine()
	d, err := Build(e, cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	items := benchItems(cfg.Evaluate.Batch)
	b.ResetTimer()
	cpu0 := cpuSeconds()
	for i := 0; i < b.N; i++ {
		mark := e.Mark()
		if _, err := d.Predict(batch.Collate(e, items, cfg.Data.SizeDivisor)); err != nil {
			b.Fatal(err)
		}
		e.Release(mark)
	}
	b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(len(items)*b.N)/b.Elapsed().Seconds(), "img/s")
}

// BenchmarkR50FPN times the MMDetection-size model: Fast R-CNN R-50-FPN
// (80 classes, frozen stem and BN as fast_rcnn_r50_fpn_1x_coco, BN scale
// and shift frozen as torchvision's; r50Config) on one
// 1333x800 image with 1000 proposals: inference, and a training step with
// 512 sampled RoIs (the issue's `make bench` figure). Weights are random;
// the time does not depend on them. peak-MiB is the process's peak resident
// set after each pass (Predict runs first, so TrainStep's is the larger of
// the two); run this benchmark alone for it to mean anything
// (detection/detector/testdata/bench_r50.sh does).
func BenchmarkR50FPN(b *testing.B) { benchR50(b, r50Config(b), r50Items(1)) }

// BenchmarkRetinaNetR50FPN is BenchmarkR50FPN for RetinaNet
// (retinanet_r50_fpn_1x_coco with BN frozen as r50Config, and P6 on P5 as
// torchvision's retinanet_resnet50_fpn: add_extra_convs on_output) on one
// 1333x800 image with 7 boxes: inference, and a training step over every
// anchor. Its torchvision side is bench_torchvision_retinanet_r50.py;
// MODEL=retinanet bench_r50.sh runs both.
func BenchmarkRetinaNetR50FPN(b *testing.B) {
	cfg, err := configs.Load("retinanet_r50_fpn_1x_coco", []string{"model.backbone.norm_cfg.requires_grad=false",
		"model.neck.add_extra_convs=on_output", "model.neck.relu_before_extra_convs=true"})
	if err != nil {
		b.Fatal(err)
	}
	benchR50(b, cfg, r50Items(1))
}

// BenchmarkMaskRCNNR50FPN is BenchmarkR50FPN for Mask R-CNN
// (mask_rcnn_r50_fpn_1x_coco with BN frozen as r50Config) on one 1333x800
// image with 7 boxes and their inscribed ellipses as masks: a training step
// (RPN, 512 RoIs, the mask head on the positives) and inference with the
// box score threshold at 0, so that 100 detections reach the mask head and
// are pasted (with random weights every score is about 1/81, under the
// config's 0.05: no mask would be predicted). Its torchvision side is
// bench_torchvision_mask_r50.py; MODEL=mask_rcnn bench_r50.sh runs both.
func BenchmarkMaskRCNNR50FPN(b *testing.B) {
	cfg, err := configs.Load("mask_rcnn_r50_fpn_1x_coco", []string{"model.backbone.norm_cfg.requires_grad=false",
		"test_cfg.rcnn.score_thr=0"})
	if err != nil {
		b.Fatal(err)
	}
	items := r50Items(1)
	for _, it := range items {
		withEllipses(it)
	}
	benchR50(b, cfg, items)
}

// benchR50 times Predict and a training step of cfg's detector on the
// 1333x800 items (r50Items), with the memory settings of the evaluate and
// train stages: their heap goal (stages.TightHeap), their pool trimming
// (TrimIdle after each batch or step, and Trim when inference is done, as
// an evaluate shard ends), and in the training step Backward handing
// activations back as it goes (SetFreeGraph), so that the peak is the one
// a pipeline run reaches.
func benchR50(b *testing.B, cfg *configs.Config, items []*batch.Item) {
	defer stages.TightHeap()()
	e := newEngine()
	d, err := Build(e, cfg, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Predict", func(b *testing.B) {
		cpu0 := cpuSeconds()
		for i := 0; i < b.N; i++ {
			if _, err := d.Predict(batch.Collate(e, items, 32)); err != nil {
				b.Fatal(err)
			}
			e.ReleaseAll()
			e.TrimIdle()
		}
		b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
		reportPeakRSS(b)
	})
	e.Trim() // the evaluate shard is done
	b.Run("TrainStep", func(b *testing.B) {
		opt := nn.NewSGD(nn.TrainableParameters(d), 0.01, 0.9, 1e-4)
		e.SetFreeGraph(true)
		defer e.SetFreeGraph(false)
		cpu0 := cpuSeconds()
		for i := 0; i < b.N; i++ {
			nn.ZeroGrad(d)
			losses, err := d.Losses(batch.Collate(e, items, 32), rngsFor(uint64(i), 1))
			if err != nil {
				b.Fatal(err)
			}
			TotalLoss(losses).Backward()
			opt.Step()
			e.ReleaseAll()
			e.TrimIdle()
		}
		b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
		reportPeakRSS(b)
	})
}

// hopperPhoto is the real photo of BenchmarkFasterRCNNR50FPN: a public-domain
// US Navy portrait of Grace Hopper (512x600) that Debian's python3-matplotlib
// installs. It is read at benchmark time, not committed.
const hopperPhoto = "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg"

// hopperGT are the photo's ground-truth boxes (xyxy in photo pixels) and
// their 0-based COCO classes: the person, her head (person) and her tie.
// bench_torchvision_faster_r50.py uses the same boxes, labels + 1.
var hopperGT = struct {
	boxes  []float32
	labels []int32
}{
	boxes:  []float32{10, 20, 512, 600, 150, 25, 375, 335, 215, 405, 300, 470},
	labels: []int32{0, 0, 27},
}

// BenchmarkFasterRCNNR50FPN is BenchmarkR50FPN for Faster R-CNN end to end
// (faster_rcnn_r50_fpn_1x_coco with BN frozen as r50Config, and torchvision's
// fasterrcnn_resnet50_fpn conventions: model.conventions=torchvision, every
// anchor in the RPN loss as allowed_border -1) on a real photo, hopperPhoto,
// resized by the data pipeline to 800x937 and padded to 800x960: the RPN's
// proposals and their NMS depend on image content, which zero pixels lack.
// Inference: 1000 anchors per level before NMS, 1000 proposals, RoI heads
// with the box score threshold at 0, so that class-wise NMS sees all 80000
// (RoI, class) pairs and keeps 100 detections (with random weights every
// score is about 1/81, under the config's 0.05); a training step: the RPN loss over 256 sampled anchors,
// 2000 per level and 2000 proposals, 512 sampled RoIs on hopperGT. Its
// torchvision side is bench_torchvision_faster_r50.py; MODEL=faster_rcnn
// bench_r50.sh runs both.
func BenchmarkFasterRCNNR50FPN(b *testing.B) {
	img, err := os.ReadFile(hopperPhoto)
	if errors.Is(err, fs.ErrNotExist) {
		b.Skipf("%s is missing: install Debian's python3-matplotlib for the photo", hopperPhoto)
	}
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := configs.Load("faster_rcnn_r50_fpn_1x_coco", []string{"model.backbone.norm_cfg.requires_grad=false",
		"model.conventions=torchvision", "train_cfg.rpn.allowed_border=-1", "test_cfg.rcnn.score_thr=0"})
	if err != nil {
		b.Fatal(err)
	}
	opts, err := batch.FromConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	rec := &schemas.Record{FileName: filepath.Base(hopperPhoto), Width: 512, Height: 600, Image: img,
		GTBoxes: hopperGT.boxes, GTLabels: hopperGT.labels, GTCrowd: make([]bool, len(hopperGT.labels))}
	it, err := batch.Prepare(rec, opts, false, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: %dx%d resized to %dx%d", rec.FileName, it.OrigW, it.OrigH, it.W, it.H)
	benchR50(b, cfg, []*batch.Item{it})
}
