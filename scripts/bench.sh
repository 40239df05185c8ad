#!/usr/bin/env bash
# make bench: detflow's benchmarks, each beside a reference timed in the same
# run on the same cores where the reference is installed (PyTorch and numpy
# from Debian's python3-torch / python3-numpy, pycocotools built locally and
# reachable through PYTHONPATH). Figures go to stdout; BENCHMARKS.md records
# what was measured and when.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
section() { printf '\n=== %s\n' "$*"; }
have() { "$PY" -c "import $1" 2>/dev/null; }

section "machine"
lscpu | grep -E '^(Model name|CPU\(s\)|L2 cache|L3 cache)' || true
go version

section "FP32 FMA peak and SGEMM (tensor/gemm): GFLOP/s and fraction of single-core peak"
go test -run '^$' -bench 'PeakFMA|Sgemm$' -benchtime 1s ./tensor/gemm/
if have numpy; then
	section "numpy SGEMM on the same cores (reference)"
	for t in 1 $(nproc); do "$PY" tensor/gemm/testdata/bench_numpy.py --threads "$t"; done
fi

section "ResNet-18/50 forward and train step, batch 2x3x224x224 (nn), vs PyTorch: medians of 9 alternating rounds"
THREADS=$(nproc) ROUNDS=9 nn/testdata/bench_resnet.sh 3

section "COCO bbox evaluation, 5000 images x 80 categories (coco), vs pycocotools"
bench=$(mktemp -d)
COCO_BENCH_DIR=$bench go test ./coco -run TestWriteBenchData -count=1 >/dev/null
go test ./coco -run '^$' -bench 'EvaluateFiles/images=5000' -benchtime 3x
if have pycocotools; then
	"$PY" coco/testdata/bench_pycocotools.py "$bench"
else
	echo "pycocotools not importable: no side-by-side figure (set PYTHONPATH to a local cocoapi build)"
fi
rm -rf "$bench"

section "COCO segm evaluation, 5000 images x 80 categories, polygon ground truth, RLE results (coco), vs pycocotools"
bench=$(mktemp -d)
COCO_BENCH_DIR=$bench go test ./coco -run TestWriteSegmBenchData -count=1 >/dev/null
go test ./coco -run '^$' -bench 'EvaluateFilesSegm/images=5000' -benchtime 3x
if have pycocotools; then
	"$PY" coco/testdata/bench_pycocotools.py "$bench" segm
	COCO_BENCH_DIR=$bench go test ./coco -run TestSegmBenchDataParity -count=1
else
	echo "pycocotools not importable: no side-by-side figure (set PYTHONPATH to a local cocoapi build)"
fi
rm -rf "$bench"

section "synthetic data set generation (stages/dataset)"
go test ./stages/dataset -run '^$' -bench 'Synthesize' -benchtime 3x

if [ -d detection ]; then
	section "detection ops: RoIAlign and NMS (detection), vs torchvision"
	go test ./detection -run '^$' -bench . -benchtime 3x
	if have torchvision; then "$PY" detection/testdata/bench_torchvision_ops.py; fi
fi

section "Fast R-CNN tiny (default config) train step and predict (detection/detector), vs torchvision"
go test ./detection/detector -run '^$' -bench 'TrainStep|Predict' -benchtime 5x
if have torchvision; then "$PY" detection/detector/testdata/bench_torchvision_tiny.py; fi

section "Fast R-CNN R-50-FPN at 1333x800, 1000 proposals: predict and train step with 512 RoIs (detection/detector), vs torchvision"
detection/detector/testdata/bench_r50.sh

section "RetinaNet R-50-FPN at 1333x800 (P6 on P5), 7 boxes: predict and train step over every anchor (detection/detector), vs torchvision"
MODEL=retinanet detection/detector/testdata/bench_r50.sh

section "data loader on real photos, 4:2:0 and 4:4:4 JPEGs at COCO sizes: decode, resize to 1333x800, flip, normalise, pad (batch), vs torchvision DataLoader + PIL"
photos=/tmp/detflow-loader-photos # kept: the photos come from a Debian package download
if have PIL && "$PY" batch/testdata/loader_photos.py "$photos"; then
	go test -c -o "$photos/batch.test" ./batch
	for sub in 420 444; do
		echo "--- $sub, 1 core (taskset -c 0)"
		(cd batch && LOADER_PHOTOS=$photos taskset -c 0 "$photos/batch.test" -test.run '^$' -test.bench "Loader/$sub\$" -test.cpu 1 -test.benchtime 112x | grep images/s)
		if have torchvision; then taskset -c 0 "$PY" batch/testdata/bench_torchvision_loader.py "$photos" "$sub" 0 112; fi
		echo "--- $sub, 2 cores"
		(cd batch && LOADER_PHOTOS=$photos "$photos/batch.test" -test.run '^$' -test.bench "Loader/$sub\$" -test.cpu 2 -test.benchtime 224x | grep images/s)
		if have torchvision; then
			for w in 1 2; do "$PY" batch/testdata/bench_torchvision_loader.py "$photos" "$sub" "$w" 224; done
		fi
	done
else
	echo "PIL or the photos unavailable: no data loader figure (see batch/testdata/loader_photos.py)"
fi

section "Mask R-CNN R-50-FPN at 1333x800, 7 boxes with masks: predict (100 detections pasted) and train step (RPN, 512 RoIs, masks) (detection/detector), vs torchvision"
MODEL=mask_rcnn detection/detector/testdata/bench_r50.sh

section "Faster R-CNN R-50-FPN end to end on a real photo (grace_hopper.jpg of python3-matplotlib, 800x937), 3 boxes: predict (RPN, 1000 proposals, 100 detections) and train step (RPN, 2000 proposals, 512 RoIs) (detection/detector), vs torchvision"
MODEL=faster_rcnn detection/detector/testdata/bench_r50.sh

section "train stage, default config, 1 and 2 CPU replicas (200 images, 1 epoch): s/iter, images/s, peak memory"
go build -o /tmp/detflow-bench-pipeline ./cmd/pipeline
work=$(mktemp -d)
for n in 1 2; do
	/tmp/detflow-bench-pipeline run fast_rcnn_with_proposals --workdir "$work" --run "replicas$n" --progress never \
		--devices "cpu:$n" --set dataset.synthetic.train=200 --set dataset.synthetic.val=20 \
		--set train.epochs=1 --set train.lr_steps=[1] >/dev/null 2>&1 || echo "replicas $n: run failed"
	echo "--- $n replica(s), $((4 * n)) images per iteration"
	/tmp/detflow-bench-pipeline metrics --workdir "$work" --run "replicas$n" | grep -E 'train_(s_per_iter|images_per_s|peak_memory_mb)'
done
rm -rf "$work" /tmp/detflow-bench-pipeline
