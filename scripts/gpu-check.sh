#!/usr/bin/env bash
# gpu-check.sh: the one-shot check of detflow's CUDA backend on a lent GPU
# machine (driver + nvcc + PyTorch there, no Go, no network). Run from the
# repository root:
#
#     OUT=/some/dir scripts/gpu-check.sh
#
# Needs the test binaries built beforehand on a machine with Go, with
# `make gpu-check-binary` (.gpu/gpu.test, and tensordev, detector and train
# as .test.gz; CGO_ENABLED=0, stripped), and .gpu carried to the GPU machine.
#
# Steps, most valuable first, each named for GPU_CHECK_STEPS (default: all
# of them), each logged and never stopping the script:
#   ptx:      nvcc -ptx -arch=compute_80 every gpu/kernels/*.cu (in parallel;
#             a failing file is logged and the rest go on), then ptxas for the
#             local GPU as a second opinion, and a byte comparison with the
#             committed PTX. Without it the binaries' embedded PTX is used.
#   tests:    the kernel tests with DETFLOW_PTX_DIR at that PTX: gpu host
#             tests in one run, then every TestGPU* of gpu in its own process
#             (a kernel fault poisons its CUDA context, not the other tests),
#             then gpu/tensordev.
#   train:    every TestGPU* of detection/detector and stages/train, one
#             process each. GPU_CHECK_TESTS (a regexp, default ^TestGPU)
#             narrows the TestGPU* tests of this step and the last.
#   r50:      issue 9's figures: BenchmarkGPUR50FPN (Fast R-CNN R-50-FPN, 2
#             images of 1333x800 per step) and torchvision's equivalent
#             (bench_torchvision_r50.py --device cuda --batch 2, with
#             PyTorch's default TF32 settings and with --fp32), a ratio
#             table, and one more step of each side profiled
#             (DETFLOW_GPU_PROFILE=1, --profile): where the GPU time goes.
#   bench:    the kernel micro-benchmarks, Go and PyTorch
#             (scripts/gpu_torch_ref.py), briefly, with ratios.
#   variants: the R-50 benchmark again, profiled, with TF32 convolutions
#             (DETFLOW_TF32=1), the match for PyTorch's defaults; with the
#             batch norms' scale and shift trained as MMDetection's config
#             does (torch's side freezes them); with cuDNN's
#             algorithms ranked by running them (DETFLOW_CUDNN_BENCHMARK=1); with cuDNN
#             switched off (DETFLOW_CUDNN=0), for what cuDNN brings; and with
#             deterministic cuDNN algorithms (DETFLOW_CUDNN_DETERMINISTIC=1),
#             for what they cost.
#   precision: (only when named; needs .gpu/pipeline.gz from `make
#             gpu-check-pipeline`) issue 22's mixed-precision check: the
#             tiny Fast R-CNN experiment (fast_rcnn_tiny_synth) trained and
#             evaluated on cuda:0 with --precision fp32, tf32, fp16 and bf16,
#             each run's bbox mAP and train s/iter in the summary, and the
#             rule fp16/bf16 within 0.01 mAP of fp32 checked. The TF32-default
#             timing against torchvision is the `variants` step's tf32 table
#             (detflow's default is now tf32, as PyTorch's). Not yet scripted:
#             torch.cuda.amp side by side (bench_torchvision_r50.py has no
#             --amp pass).
#   pprof:    (only when named) Go CPU and allocation profiles of the R-50
#             benchmark's passes, for what the host spends its time on.
# $OUT ends up with three files (the device tool brings back at most 8):
# summary.txt, logs.tgz (logs/<step>.log, nvidia-smi) and ptx.tgz (ptx/, to
# unpack into gpu/kernels/ for committing), the archives refreshed after each
# step. Every step has its own time limit, and all of them share a budget of
# GPU_CHECK_BUDGET seconds (default 420) counted from the start: a step gets
# at most what is left, and one that would start with under 15 s left is
# skipped (said so in the summary), so the script ends within about 7
# minutes whatever hangs.

set -u
OUT="${OUT:-$(mktemp -d /tmp/gpu-check.XXXXXX)}"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
ROOT=$(pwd)
# Logs and PTX are written to a scratch folder and packed into $OUT as
# logs.tgz and ptx.tgz after every step (the device tool brings back at most
# 8 files), so a run cut short still returns what it did.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check-work.XXXXXX")
mkdir -p "$WORK/ptx" "$WORK/logs"
SUMMARY="$OUT/summary.txt"
: >"$SUMMARY"
T0=$(date +%s)
DEADLINE=$((T0 + ${GPU_CHECK_BUDGET:-420}))
STEPS=" ${GPU_CHECK_STEPS:-ptx tests train r50 bench variants} "
TESTS=${GPU_CHECK_TESTS:-^TestGPU}
want() { [[ $STEPS == *" $1 "* ]]; }
pack() {
	tar -czf "$OUT/.logs.tgz" -C "$WORK" logs && mv "$OUT/.logs.tgz" "$OUT/logs.tgz"
	tar -czf "$OUT/.ptx.tgz" -C "$WORK" ptx && mv "$OUT/.ptx.tgz" "$OUT/ptx.tgz"
}

say() { echo "[gpu-check +$(($(date +%s) - T0))s] $*" | tee -a "$SUMMARY"; }
# run_logged NAME TIMEOUT CMD...: runs CMD with a time limit (at most what
# is left of the budget), output to $WORK/logs/NAME.log, and reports the exit
# status; 125 when skipped for want of time.
run_logged() {
	local name=$1 limit=$2
	shift 2
	local left=$((DEADLINE - $(date +%s)))
	if [ $left -lt 15 ]; then
		echo "skipped: ${left}s of the budget left" >"$WORK/logs/$name.log"
		say "$name: SKIPPED (time budget spent)"
		return 125
	fi
	[ $left -lt "$limit" ] && limit=$left
	timeout -k 5 "$limit" "$@" >"$WORK/logs/$name.log" 2>&1
	local rc=$?
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		say "$name: TIMEOUT after ${limit}s (log: logs/$name.log)"
	elif [ $rc -ne 0 ]; then
		say "$name: exit $rc (log: logs/$name.log)"
	fi
	return $rc
}

say "output in $OUT"

# Test binaries: .gpu/NAME.test, or .gpu/NAME.test.gz (make gpu-check-binary
# gzips the big ones: the device tool carries 64 MiB) unpacked into a
# scratch folder, never into .gpu or $OUT.
BINTMP=$(mktemp -d "${TMPDIR:-/tmp}/detflow-gpu-bin.XXXXXX")
trap 'pack; rm -rf "$BINTMP" "$WORK"' EXIT
trap 'exit 143' TERM INT
testbin() { # testbin NAME: path of NAME's test binary ("" if none)
	local plain="$ROOT/.gpu/$1.test" z="$ROOT/.gpu/$1.test.gz" out="$BINTMP/$1.test"
	if [ -x "$plain" ]; then
		echo "$plain"
	elif [ -e "$z" ]; then
		if command -v gzip >/dev/null; then
			gzip -dc "$z" >"$out"
		else
			python3 -c 'import gzip, shutil, sys; shutil.copyfileobj(gzip.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$z" "$out"
		fi && chmod +x "$out" && echo "$out"
	fi
}
GPU_BIN=$(testbin gpu)
TENSORDEV_BIN=$(testbin tensordev)
DETECTOR_BIN=$(testbin detector)
TRAIN_BIN=$(testbin train)
say "test binaries: ${GPU_BIN:-no gpu} ${TENSORDEV_BIN:-no tensordev} ${DETECTOR_BIN:-no detector} ${TRAIN_BIN:-no train} (make gpu-check-binary, carry .gpu)"

# --- environment ------------------------------------------------------------
{
	echo "date: $(date -u)"
	echo "host: $(uname -a)"
	nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv 2>&1
} >"$WORK/logs/env.log" 2>&1
CC=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')
SM="sm_${CC:-90}"
say "GPU: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1) (ptxas target $SM)"

NVCC=""
for c in "$(command -v nvcc 2>/dev/null)" /usr/local/cuda/bin/nvcc /usr/local/cuda-13*/bin/nvcc /usr/local/cuda-12*/bin/nvcc; do
	if [ -n "$c" ] && [ -x "$c" ]; then NVCC=$c; break; fi
done
PTXAS=""
[ -n "$NVCC" ] && [ -x "$(dirname "$NVCC")/ptxas" ] && PTXAS="$(dirname "$NVCC")/ptxas"

# --- a. PTX -----------------------------------------------------------------
if ! want ptx; then
	say "ptx: not in GPU_CHECK_STEPS; the binaries' embedded PTX is used"
elif [ -z "$NVCC" ]; then
	say "nvcc: NOT FOUND; no PTX compiled (tests will report missing PTX)"
else
	say "nvcc: $NVCC ($("$NVCC" --version 2>&1 | grep -o 'release [0-9.]*' | head -1))"
	for f in gpu/kernels/*.cu; do
		m=$(basename "$f" .cu)
		(
			timeout -k 5 120 "$NVCC" -ptx -arch=compute_80 -O3 -o "$WORK/ptx/$m.ptx" "$f" \
				>"$WORK/logs/nvcc-$m.log" 2>&1
			echo $? >"$WORK/logs/nvcc-$m.rc"
		) &
	done
	wait
	ok=0
	bad=""
	for f in gpu/kernels/*.cu; do
		m=$(basename "$f" .cu)
		rc=$(cat "$WORK/logs/nvcc-$m.rc" 2>/dev/null || echo missing)
		if [ "$rc" = 0 ] && [ -s "$WORK/ptx/$m.ptx" ]; then
			ok=$((ok + 1))
			if [ -n "$PTXAS" ]; then
				if ! "$PTXAS" -arch="$SM" -v -o /dev/null "$WORK/ptx/$m.ptx" >"$WORK/logs/ptxas-$m.log" 2>&1; then
					say "ptxas $m.ptx for $SM: FAILED (logs/ptxas-$m.log)"
				fi
			fi
		else
			bad="$bad $m"
			rm -f "$WORK/ptx/$m.ptx"
			say "nvcc $f: FAILED (rc $rc):"
			head -20 "$WORK/logs/nvcc-$m.log" | sed 's/^/    /' | tee -a "$SUMMARY"
		fi
	done
	# Hashes of the sources the PTX came from: gpu/ptx_test.go fails on
	# committed PTX whose .cu has changed since.
	(cd gpu/kernels && for p in "$WORK"/ptx/*.ptx; do
		[ -e "$p" ] && sha256sum "$(basename "$p" .ptx).cu"
	done) >"$WORK/ptx/SOURCES.sha256"
	say "nvcc: $ok PTX files in ptx/;${bad:+ failed:$bad}"
	# Committed PTX may have been edited by hand (entries removed without
	# nvcc): name the files this nvcc would write differently, to commit.
	differ=""
	for p in "$WORK"/ptx/*.ptx; do
		[ -e "$p" ] || continue
		cmp -s "$p" "gpu/kernels/ptx/$(basename "$p")" || differ="$differ $(basename "$p")"
	done
	say "ptx: ${differ:+differs from the committed copy:$differ}${differ:-all byte-identical to the committed copy}"
fi

# --- libraries ----------------------------------------------------------------
# The binary finds libcuda by itself; cuBLAS, cuDNN and NCCL may live in the
# CUDA toolkit or in PyTorch's pip wheels (site-packages/nvidia/..., and
# nvidia/cu13/lib for CUDA 13 wheels), which the loader does not search:
# point the overrides at what is there, and put each folder on
# LD_LIBRARY_PATH (cuDNN 9's dispatcher loads its sub-libraries by soname).
SITES=$(python3 -c 'import site; print(" ".join(site.getsitepackages()))' 2>/dev/null || true)
find_lib() { # find_lib PATTERN: newest-looking match in the toolkit, then pip wheels
	local hit d s
	for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda-13*/lib64; do
		hit=$(ls -1 "$d"/$1 2>/dev/null | sort -V | tail -1)
		[ -n "$hit" ] && { echo "$hit"; return; }
	done
	for s in $SITES; do
		hit=$(find "$s/nvidia" "$s/torch/lib" -maxdepth 4 -name "$1" 2>/dev/null | sort -V | tail -1)
		[ -n "$hit" ] && { echo "$hit"; return; }
	done
}
use_lib() { # use_lib VAR PATH: export the override and the folder
	[ -z "$2" ] && return
	export "$1=$2"
	export LD_LIBRARY_PATH="$(dirname "$2")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
}
CUBLAS=$(find_lib 'libcublas.so.1[0-9]')
CUDNN=$(find_lib 'libcudnn.so.[89]')
NCCL=$(find_lib 'libnccl.so.2')
use_lib DETFLOW_LIBCUBLAS "$CUBLAS"
use_lib DETFLOW_LIBCUDNN "$CUDNN"
use_lib DETFLOW_LIBNCCL "$NCCL"
say "cuBLAS: ${CUBLAS:-not found (binary searches the default paths)}; cuDNN: ${CUDNN:-not found}; NCCL: ${NCCL:-not found}"

# --- b. kernel tests ---------------------------------------------------------
want ptx && export DETFLOW_PTX_DIR="$WORK/ptx"
pack

# run_gpu_tests LABEL DIR BIN LIMIT: every test of BIN named TestGPU*, each
# in its own process run from DIR (Go test binaries expect their package
# folder: testdata, gpu/kernels/*.cu), logged as logs/LABEL-TEST.log.
run_gpu_tests() {
	local label=$1 dir=$2 bin=$3 limit=$4 t rc res tests
	if [ -z "$bin" ]; then
		say "$label: test binary MISSING; build it with make gpu-check-binary (and carry .gpu)"
		return
	fi
	tests=$(cd "$dir" && "$bin" -test.list "$TESTS" 2>/dev/null | grep '^TestGPU')
	if [ -z "$tests" ]; then
		say "$label: no TestGPU* tests matching $TESTS in $(basename "$bin")"
		return
	fi
	for t in $tests; do
		(cd "$dir" && run_logged "$label-$t" "$limit" "$bin" -test.v -test.run "^$t\$" -test.timeout "$((limit - 10))s")
		rc=$?
		[ $rc -eq 125 ] && continue # skipped for want of time, said so
		res=PASS
		[ $rc -ne 0 ] && res=FAIL
		grep -q "^--- SKIP: $t" "$WORK/logs/$label-$t.log" && res=SKIP
		case $res in
		PASS) say "$label $t: PASS" ;;
		SKIP) say "$label $t: SKIP: $(grep -m1 -E '_test\.go:[0-9]+: ' "$WORK/logs/$label-$t.log" | sed -E 's/^.*_test\.go:[0-9]+: //')" ;;
		FAIL)
			say "$label $t: FAIL"
			grep -E -- '--- FAIL|_test.go:[0-9]+:|^panic|CUDA_ERROR|PTX|^gpu:|tensordev:' "$WORK/logs/$label-$t.log" | head -25 | sed 's/^/    /' | tee -a "$SUMMARY"
			;;
		esac
	done
}

BIN=$GPU_BIN
if ! want tests; then
	say "kernel tests: not in GPU_CHECK_STEPS"
elif [ -z "$BIN" ]; then
	say "gpu test binary MISSING; build it with make gpu-check-binary (and carry .gpu)"
else
	# Host-side tests (everything not named TestGPU*) in one process.
	(cd gpu && run_logged go-host-tests 60 "$BIN" -test.v -test.run '^Test[^G]' -test.timeout 50s)
	say "host tests: $(grep -c '^--- PASS' "$WORK/logs/go-host-tests.log") passed, $(grep -c '^--- FAIL' "$WORK/logs/go-host-tests.log") failed, $(grep -c '^--- SKIP' "$WORK/logs/go-host-tests.log") skipped"
	grep -E '^(--- FAIL|--- SKIP)' "$WORK/logs/go-host-tests.log" | sed 's/^/    /' | tee -a "$SUMMARY"
	run_gpu_tests go gpu "$BIN" 45
fi
pack
# tensor.Device conformance of gpu/tensordev.
if ! want tests; then
	:
elif [ -n "$TENSORDEV_BIN" ]; then
	(cd gpu/tensordev && run_logged go-tensordev 90 "$TENSORDEV_BIN" -test.v -test.timeout 80s)
	say "tensordev: $(grep -c '^--- PASS' "$WORK/logs/go-tensordev.log") passed, $(grep -c '^--- FAIL' "$WORK/logs/go-tensordev.log") failed, $(grep -c '^--- SKIP' "$WORK/logs/go-tensordev.log") skipped"
	grep -E -- '--- FAIL|_test.go:[0-9]+:|^panic' "$WORK/logs/go-tensordev.log" | head -20 | sed 's/^/    /' | tee -a "$SUMMARY"
else
	say "tensordev test binary MISSING (make gpu-check-binary)"
fi

# --- c. training checks -------------------------------------------------------
if want train; then
	run_gpu_tests detector detection/detector "$DETECTOR_BIN" 120
	run_gpu_tests train stages/train "$TRAIN_BIN" 120
	pack
fi

# --- d. R-50-FPN vs torchvision ----------------------------------------------
# Same workload both sides: 2 images of 1333x800 per step, 1000 proposals
# each, padded in host memory beforehand (a data loader's work) and copied
# to the GPU in every step (torch: --upload, from pinned memory); a warm-up
# step, then 10 timed steps per pass (go test also runs one b.N=1 round
# first and reports the 10x one).
if ! want r50; then
	:
elif [ -n "$DETECTOR_BIN" ]; then
	(export DETFLOW_GPU_PROFILE=1 && cd detection/detector && run_logged r50-go 180 "$DETECTOR_BIN" -test.v -test.run '^$' \
		-test.bench GPUR50FPN -test.benchtime 10x -test.timeout 170s)
else
	say "detector test binary MISSING; no detflow R-50 figures"
fi
want r50 && run_logged r50-torch 150 python3 -B detection/detector/testdata/bench_torchvision_r50.py --device cuda --batch 2 --upload --profile 10
want r50 && run_logged r50-torch-fp32 150 python3 -B detection/detector/testdata/bench_torchvision_r50.py --device cuda --batch 2 --upload --fp32 10
want r50 && {
	echo "== R-50-FPN Fast R-CNN, 2 img/step at 1333x800, 1000 proposals/img (ratio = detflow / torch) =="
	python3 - "$WORK/logs/r50-go.log" "$WORK/logs/r50-torch.log" "$WORK/logs/r50-torch-fp32.log" <<'PY' 2>&1
import sys

def read(path, prefix):
    """pass -> {key: value} from the "<prefix> pass=..." lines of a log."""
    out = {}
    try:
        for line in open(path):
            f = line.split()
            if not f or f[0] != prefix or len(f) < 2:
                continue
            if f[1] == "info" or not f[1].startswith("pass="):
                print("   ", line.rstrip())
                continue
            kv = dict(x.split("=", 1) for x in f[1:] if "=" in x)
            out.setdefault(kv["pass"], {}).update(kv)
    except OSError as e:
        print("    cannot read", path, e)
    return out

go = read(sys.argv[1], "detflow-r50")
tv = read(sys.argv[2], "torch-r50")
tv32 = read(sys.argv[3], "torch-r50")

def get(d, p, k):
    try:
        return float(d[p][k])
    except (KeyError, ValueError):
        return None

def cell(v):
    return f"{v:.4g}" if v is not None else "n/a"

def ratio(a, b):
    return f"{a / b:.2f}x" if a is not None and b else "n/a"

rows = [
    ("train s/iter (lower better)", "train", "s"),
    ("predict s/iter (lower better)", "predict", "s"),
    ("predict img/s (higher better)", "predict", "img_s"),
    ("train img/s (higher better)", "train", "img_s"),
    ("train peak MiB allocated", "train", "peak_mib"),
    ("predict peak MiB allocated", "predict", "peak_mib"),
    ("train peak MiB reserved", "train", "reserved_mib"),
    ("predict peak MiB reserved", "predict", "reserved_mib"),
]
print(f"{'':32s}{'detflow':>10s}{'torch':>10s}{'ratio':>8s}{'torch fp32':>12s}{'ratio':>8s}")
for name, p, k in rows:
    g, t, t32 = get(go, p, k), get(tv, p, k), get(tv32, p, k)
    print(f"{name:32s}{cell(g):>10s}{cell(t):>10s}{ratio(g, t):>8s}{cell(t32):>12s}{ratio(g, t32):>8s}")
for p in ("predict", "train"):
    fb = go.get(p, {}).get("host_fallbacks")
    if fb:
        print(f"detflow {p} host fallbacks (calls in {go[p].get('steps', '?')} steps): {fb}")
    if go.get(p, {}).get("conv"):
        print(f"detflow {p} convolutions: {go[p]['conv']}")
print("(torch: PyTorch's default TF32 settings; torch fp32: --fp32, IEEE FP32 as detflow. detflow's")
print(" allocated peak counts the engine's pooled buffers, so it lies between torch's allocated and reserved.)")
PY
	grep -E -- '--- (FAIL|SKIP)|^panic|_test.go:[0-9]+:' "$WORK/logs/r50-go.log" 2>/dev/null | head -10 | sed 's/^/    /'
	echo "== where one step's GPU time goes (an extra step each, profiled; detflow FP32, torch TF32 defaults) =="
	grep -h -E '^(detflow|torch)-prof ' "$WORK/logs/r50-go.log" "$WORK/logs/r50-torch.log" 2>/dev/null
	grep -E 'Error|error' "$WORK/logs/r50-torch.log" "$WORK/logs/r50-torch-fp32.log" 2>/dev/null | head -6 | sed 's/^/    /'
} | tee -a "$SUMMARY"

# --- e. kernel micro-benchmarks -----------------------------------------------
pack
if want bench && [ -n "$BIN" ]; then
	(cd gpu && run_logged go-bench 120 "$BIN" -test.run '^$' -test.bench 'GPU' -test.benchtime 20x -test.timeout 110s)
fi
grep -E '^(BENCH|Benchmark)' "$WORK/logs/go-bench.log" >"$WORK/logs/bench-go.txt" 2>/dev/null
want bench && run_logged torch-ref 90 python3 -B scripts/gpu_torch_ref.py
grep -E '^(BENCH|INFO)' "$WORK/logs/torch-ref.log" >"$WORK/logs/bench-torch.txt" 2>/dev/null

# --- e2. R-50-FPN with cuDNN off, and with TF32 convolutions -----------------
# The same benchmark composing convolutions from im2col and cuBLAS
# (DETFLOW_CUDNN=0), for the gain cuDNN brings, and with TF32 tensor cores
# in cuDNN's convolutions (DETFLOW_TF32=1), PyTorch's default, the pair to
# compare with the "torch" column above. Last: they run only when the
# budget has time left.
pack
if want variants && [ -n "$DETECTOR_BIN" ] && [ -n "$CUDNN" ]; then
	for variant in "tf32 DETFLOW_TF32=1" "mmdetbn DETFLOW_BENCH_SET=model.backbone.norm_cfg.requires_grad=true" \
		"find DETFLOW_CUDNN_BENCHMARK=1" "nocudnn DETFLOW_CUDNN=0" "det DETFLOW_CUDNN_DETERMINISTIC=1"; do
		set -- $variant
		(export "$2" DETFLOW_GPU_PROFILE=1 && cd detection/detector && run_logged "r50-go-$1" 150 "$DETECTOR_BIN" -test.v -test.run '^$' \
			-test.bench GPUR50FPN -test.benchtime 10x -test.timeout 140s)
		{
			echo "== R-50-FPN with $2 =="
			grep -E '^detflow-(r50|prof) pass=' "$WORK/logs/r50-go-$1.log" 2>/dev/null | sed 's/^/    /'
		} | tee -a "$SUMMARY"
	done
	# Like for like with PyTorch's defaults: detflow with TF32 convolutions
	# against the "torch" column.
	python3 - "$WORK/logs/r50-go-tf32.log" "$WORK/logs/r50-torch.log" <<'PY' 2>&1 | tee -a "$SUMMARY"
import sys
def read(path, prefix):
    out = {}
    try:
        for line in open(path):
            f = line.split()
            if len(f) > 2 and f[0] == prefix and f[1].startswith("pass=") and "device=" in line:
                kv = dict(x.split("=", 1) for x in f[1:] if "=" in x)
                out[kv["pass"]] = kv
    except OSError as e:
        print("    cannot read", path, e)
    return out
go, tv = read(sys.argv[1], "detflow-r50"), read(sys.argv[2], "torch-r50")
print("== TF32 both sides (detflow DETFLOW_TF32=1, torch defaults; ratio = detflow / torch) ==")
for p, k, name in (("train", "s", "train s/iter"), ("predict", "s", "predict s/iter"), ("predict", "img_s", "predict img/s"),
                   ("train", "peak_mib", "train peak MiB"), ("predict", "peak_mib", "predict peak MiB")):
    try:
        g, t = float(go[p][k]), float(tv[p][k])
        print(f"    {name:20s} {g:10.4g} {t:10.4g} {g / t:6.2f}x")
    except (KeyError, ValueError):
        print(f"    {name:20s} n/a")
PY
fi

# --- precision: fp32 / tf32 / fp16 / bf16 on the tiny experiment ------------
# Mixed precision here is the CPU path's emulation (rounded operands on TF32
# tensor cores, FP32 accumulation); the mAP rule is issue 22's: fp16 and
# bf16 within 0.01 of fp32.
if want precision; then
	PIPE="$WORK/pipeline"
	if [ -f .gpu/pipeline.gz ] && gzip -dc .gpu/pipeline.gz >"$PIPE" && chmod +x "$PIPE"; then
		for prec in fp32 tf32 fp16 bf16; do
			run_logged "precision-$prec" 300 "$PIPE" run fast_rcnn_tiny_synth --devices cuda:0 --precision "$prec" \
				--run "tiny-$prec" --workdir "$WORK/runs" --progress never
			"$PIPE" metrics --run "tiny-$prec" --workdir "$WORK/runs" >"$WORK/logs/precision-$prec-metrics.txt" 2>&1
			say "precision $prec: $(grep -m1 -E 'Average Precision .*IoU=0.50:0.95 .*all .*maxDets=100' "$WORK/logs/precision-$prec-metrics.txt" | sed 's/.*= //') bbox mAP; $(grep -m1 -E 'train_s_per_iter|s/iter' "$WORK/logs/precision-$prec-metrics.txt")"
		done
		python3 - "$WORK"/logs/precision-{fp32,fp16,bf16}-metrics.txt <<'PY' 2>&1 | tee -a "$SUMMARY"
import re, sys
def mAP(path):
    try:
        for line in open(path):
            if re.search(r"Average Precision .*IoU=0.50:0.95 .*all .*maxDets=100", line):
                return float(line.rsplit("=", 1)[1])
    except (OSError, ValueError):
        pass
    return None
base = mAP(sys.argv[1])
for name, path in (("fp16", sys.argv[2]), ("bf16", sys.argv[3])):
    m = mAP(path)
    ok = base is not None and m is not None and abs(m - base) <= 0.01
    print(f"== {name} bbox mAP {m} vs fp32 {base}: {'within' if ok else 'NOT within'} 0.01 ==")
PY
	else
		say "precision: no .gpu/pipeline.gz (make gpu-check-pipeline); skipped"
	fi
fi

# --- pprof: where the host's time goes --------------------------------------
# Go CPU and allocation profiles of the R-50 benchmark's passes (TF32, 20
# steps each), for `go tool pprof -top logs/pprof-<pass>-cpu.prof` on a
# machine with Go: the runtime writes symbolised profiles, so the stripped
# test binary is not needed there. Not in the default steps.
if want pprof && [ -n "$DETECTOR_BIN" ]; then
	for pass in Predict TrainStep; do
		(export DETFLOW_TF32=1 && cd detection/detector && run_logged "pprof-$pass" 120 "$DETECTOR_BIN" -test.run '^$' \
			-test.bench "GPUR50FPN/$pass\$" -test.benchtime 20x -test.timeout 110s \
			-test.cpuprofile "$WORK/logs/pprof-$pass-cpu.prof" -test.memprofile "$WORK/logs/pprof-$pass-mem.prof")
		say "pprof $pass: $(grep -E '^detflow-r50 pass=[a-z]+ device' "$WORK/logs/pprof-$pass.log" | tail -1)"
	done
	# torch's figures when it, too, copies the images to the GPU every step.
	run_logged torch-upload 120 python3 -B detection/detector/testdata/bench_torchvision_r50.py --device cuda --batch 2 --upload 10
	grep '^torch-r50 pass' "$WORK/logs/torch-upload.log" | tee -a "$SUMMARY"
	pack
fi

# --- f. summary ---------------------------------------------------------------
nvidia-smi >"$WORK/logs/nvidia-smi.txt" 2>&1
want bench && {
	echo "== benchmarks (ms; ratio = detflow / torch, lower is better) =="
	python3 - "$WORK/logs/bench-go.txt" "$WORK/logs/bench-torch.txt" <<'PY' 2>&1
import re, sys
def read(path):
    out = {}
    try:
        for line in open(path):
            m = re.match(r"BENCH (\w+) (\w+)[^:]*: ([0-9.]+) ms", line)
            if m:
                out[m.group(2)] = float(m.group(3))
            if line.startswith("INFO"):
                print(line.rstrip())
    except OSError as e:
        print("cannot read", path, e)
    return out
go, torch = read(sys.argv[1]), read(sys.argv[2])
for k in sorted(set(go) | set(torch)):
    g, t = go.get(k), torch.get(k)
    ratio = f"{g / t:.2f}x" if g and t else "n/a"
    print(f"{k:22s} detflow {g if g is not None else 'n/a':>10} torch {t if t is not None else 'n/a':>10} ratio {ratio}")
PY
	grep -h -E 'TFLOP/s|launch_overhead' "$WORK/logs/bench-go.txt" "$WORK/logs/bench-torch.txt" 2>/dev/null
} | tee -a "$SUMMARY"
say "PTX for commit (unpack $OUT/ptx.tgz into gpu/kernels/): $(ls "$WORK/ptx" 2>/dev/null | tr '\n' ' ')"
say "done in $(($(date +%s) - T0))s; $OUT holds summary.txt, logs.tgz and ptx.tgz"
exit 0
