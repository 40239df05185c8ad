#!/usr/bin/env bash
# gpu-check.sh: the one-shot check of detflow's CUDA backend on a lent GPU
# machine (driver + nvcc + PyTorch there, no Go, no network). Run from the
# repository root:
#
#     OUT=/some/dir scripts/gpu-check.sh
#
# Needs the test binaries built beforehand on a machine with Go:
#
#     CGO_ENABLED=0 go test -c -o .gpu/gpu.test ./gpu
#     CGO_ENABLED=0 go test -c -o .gpu/tensordev.test ./gpu/tensordev   (optional)
#
# and .gpu carried to the GPU machine.
#
# Steps, each logged under $OUT/logs and never stopping the script:
#   a. nvcc -ptx -arch=compute_80 every gpu/kernels/*.cu into $OUT/ptx
#      (in parallel; a failing file is logged and the rest go on), then
#      ptxas for the local GPU as a second opinion.
#   b. the Go tests with DETFLOW_PTX_DIR=$OUT/ptx: host tests in one run,
#      then every GPU test in its own process (a kernel fault poisons its
#      CUDA context, not the other tests).
#   c. the Go GPU benchmarks, briefly.
#   d. the same sizes in PyTorch (scripts/gpu_torch_ref.py), for ratios
#      measured side by side.
#   e. nvidia-smi and a summary ($OUT/summary.txt); the PTX stays in
#      $OUT/ptx for committing to gpu/kernels/ptx/.
# Target: well under 4 minutes on an H100/H200.

set -u
OUT="${OUT:-$(mktemp -d /tmp/gpu-check.XXXXXX)}"
mkdir -p "$OUT/ptx" "$OUT/logs"
OUT=$(cd "$OUT" && pwd)
ROOT=$(pwd)
SUMMARY="$OUT/summary.txt"
: >"$SUMMARY"
T0=$(date +%s)

say() { echo "[gpu-check +$(($(date +%s) - T0))s] $*" | tee -a "$SUMMARY"; }
# run_logged NAME TIMEOUT CMD...: runs CMD with a time limit, output to
# $OUT/logs/NAME.log, and reports the exit status.
run_logged() {
	local name=$1 limit=$2
	shift 2
	timeout -k 5 "$limit" "$@" >"$OUT/logs/$name.log" 2>&1
	local rc=$?
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		say "$name: TIMEOUT after ${limit}s (log: logs/$name.log)"
	elif [ $rc -ne 0 ]; then
		say "$name: exit $rc (log: logs/$name.log)"
	fi
	return $rc
}

say "output in $OUT"

# --- environment ------------------------------------------------------------
{
	echo "date: $(date -u)"
	echo "host: $(uname -a)"
	nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv 2>&1
} >"$OUT/logs/env.log" 2>&1
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
if [ -z "$NVCC" ]; then
	say "nvcc: NOT FOUND; no PTX compiled (tests will report missing PTX)"
else
	say "nvcc: $NVCC ($("$NVCC" --version 2>&1 | grep -o 'release [0-9.]*' | head -1))"
	for f in gpu/kernels/*.cu; do
		m=$(basename "$f" .cu)
		(
			timeout -k 5 120 "$NVCC" -ptx -arch=compute_80 -O3 -o "$OUT/ptx/$m.ptx" "$f" \
				>"$OUT/logs/nvcc-$m.log" 2>&1
			echo $? >"$OUT/logs/nvcc-$m.rc"
		) &
	done
	wait
	ok=0
	bad=""
	for f in gpu/kernels/*.cu; do
		m=$(basename "$f" .cu)
		rc=$(cat "$OUT/logs/nvcc-$m.rc" 2>/dev/null || echo missing)
		if [ "$rc" = 0 ] && [ -s "$OUT/ptx/$m.ptx" ]; then
			ok=$((ok + 1))
			if [ -n "$PTXAS" ]; then
				if ! "$PTXAS" -arch="$SM" -v -o /dev/null "$OUT/ptx/$m.ptx" >"$OUT/logs/ptxas-$m.log" 2>&1; then
					say "ptxas $m.ptx for $SM: FAILED (logs/ptxas-$m.log)"
				fi
			fi
		else
			bad="$bad $m"
			rm -f "$OUT/ptx/$m.ptx"
			say "nvcc $f: FAILED (rc $rc):"
			head -20 "$OUT/logs/nvcc-$m.log" | sed 's/^/    /' | tee -a "$SUMMARY"
		fi
	done
	# Hashes of the sources the PTX came from: gpu/ptx_test.go fails on
	# committed PTX whose .cu has changed since.
	(cd gpu/kernels && for p in "$OUT"/ptx/*.ptx; do
		[ -e "$p" ] && sha256sum "$(basename "$p" .ptx).cu"
	done) >"$OUT/ptx/SOURCES.sha256"
	say "nvcc: $ok PTX files in ptx/;${bad:+ failed:$bad}"
fi

# --- libraries ----------------------------------------------------------------
# The binary finds libcuda by itself; cuBLAS and NCCL may live in the CUDA
# toolkit or in PyTorch's pip wheels (site-packages/nvidia/...), which the
# loader does not search: point the overrides at what is there.
SITES=$(python3 -c 'import site; print(" ".join(site.getsitepackages()))' 2>/dev/null || true)
find_lib() { # find_lib PATTERN: newest-looking match in the toolkit, then pip wheels
	local hit
	for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda-13*/lib64; do
		hit=$(ls -1 "$d"/$1 2>/dev/null | sort -V | tail -1)
		[ -n "$hit" ] && { echo "$hit"; return; }
	done
	for s in $SITES; do
		hit=$(find "$s/nvidia" "$s/torch/lib" -maxdepth 4 -name "$1" 2>/dev/null | sort -V | tail -1)
		[ -n "$hit" ] && { echo "$hit"; return; }
	done
}
CUBLAS=$(find_lib 'libcublas.so.1[0-9]')
NCCL=$(find_lib 'libnccl.so.2')
if [ -n "$CUBLAS" ]; then
	export DETFLOW_LIBCUBLAS="$CUBLAS"
	export LD_LIBRARY_PATH="$(dirname "$CUBLAS")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
if [ -n "$NCCL" ]; then
	export DETFLOW_LIBNCCL="$NCCL"
	export LD_LIBRARY_PATH="$(dirname "$NCCL"):$LD_LIBRARY_PATH"
fi
say "cuBLAS: ${CUBLAS:-not found (binary searches the default paths)}; NCCL: ${NCCL:-not found}"

# --- b. Go tests --------------------------------------------------------------
export DETFLOW_PTX_DIR="$OUT/ptx"
# Go test binaries expect to run in their package folder (the tests read
# gpu/kernels/*.cu), so the runs below cd into gpu/.
BIN="$ROOT/.gpu/gpu.test"
if [ ! -x "$BIN" ]; then
	say "$BIN: MISSING; build it with: CGO_ENABLED=0 go test -c -o .gpu/gpu.test ./gpu (and carry .gpu)"
else
	# Host-side tests (everything not named TestGPU*) in one process.
	(cd gpu && run_logged go-host-tests 60 "$BIN" -test.v -test.run '^Test[^G]' -test.timeout 50s)
	say "host tests: $(grep -c '^--- PASS' "$OUT/logs/go-host-tests.log") passed, $(grep -c '^--- FAIL' "$OUT/logs/go-host-tests.log") failed, $(grep -c '^--- SKIP' "$OUT/logs/go-host-tests.log") skipped"
	grep -E '^(--- FAIL|--- SKIP)' "$OUT/logs/go-host-tests.log" | sed 's/^/    /' | tee -a "$SUMMARY"
	# GPU tests, one process each.
	for t in $("$BIN" -test.list '^TestGPU' 2>/dev/null); do
		(cd gpu && run_logged "go-$t" 90 "$BIN" -test.v -test.run "^$t\$" -test.timeout 80s)
		rc=$?
		res=PASS
		[ $rc -ne 0 ] && res=FAIL
		grep -q "^--- SKIP: $t" "$OUT/logs/go-$t.log" && res=SKIP
		case $res in
		PASS) say "$t: PASS" ;;
		SKIP) say "$t: SKIP:$(grep -m1 -o 'skipped: .*' "$OUT/logs/go-$t.log" | cut -c9-)" ;;
		FAIL)
			say "$t: FAIL"
			grep -E -- '--- FAIL|_test.go:[0-9]+:|^panic|CUDA_ERROR|PTX|^gpu:' "$OUT/logs/go-$t.log" | head -25 | sed 's/^/    /' | tee -a "$SUMMARY"
			;;
		esac
	done
	# tensor.Device conformance of gpu/tensordev, when its binary was built:
	#   CGO_ENABLED=0 go test -c -o .gpu/tensordev.test ./gpu/tensordev
	if [ -x "$ROOT/.gpu/tensordev.test" ]; then
		(cd gpu/tensordev && run_logged go-tensordev 90 "$ROOT/.gpu/tensordev.test" -test.v -test.timeout 80s)
		say "tensordev: $(grep -c '^--- PASS' "$OUT/logs/go-tensordev.log") passed, $(grep -c '^--- FAIL' "$OUT/logs/go-tensordev.log") failed, $(grep -c '^--- SKIP' "$OUT/logs/go-tensordev.log") skipped"
		grep -E -- '--- FAIL|_test.go:[0-9]+:|^panic' "$OUT/logs/go-tensordev.log" | head -20 | sed 's/^/    /' | tee -a "$SUMMARY"
	fi
	# --- c. Go benchmarks ---
	(cd gpu && run_logged go-bench 150 "$BIN" -test.run '^$' -test.bench 'GPU' -test.benchtime 20x -test.timeout 140s)
	grep -E '^(BENCH|Benchmark)' "$OUT/logs/go-bench.log" >"$OUT/logs/bench-go.txt"
fi

# --- d. PyTorch side by side --------------------------------------------------
run_logged torch-ref 120 python3 scripts/gpu_torch_ref.py
grep -E '^(BENCH|INFO)' "$OUT/logs/torch-ref.log" >"$OUT/logs/bench-torch.txt"

# --- e. summary ---------------------------------------------------------------
nvidia-smi >"$OUT/logs/nvidia-smi.txt" 2>&1
{
	echo "== benchmarks (ms; ratio = detflow / torch, lower is better) =="
	python3 - "$OUT/logs/bench-go.txt" "$OUT/logs/bench-torch.txt" <<'PY' 2>&1
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
	grep -h -E 'TFLOP/s|launch_overhead' "$OUT/logs/bench-go.txt" "$OUT/logs/bench-torch.txt" 2>/dev/null
} | tee -a "$SUMMARY"
say "PTX for commit (copy $OUT/ptx/* to gpu/kernels/ptx/): $(ls "$OUT/ptx" 2>/dev/null | tr '\n' ' ')"
say "done in $(($(date +%s) - T0))s; logs in $OUT/logs, summary in $SUMMARY"
exit 0
