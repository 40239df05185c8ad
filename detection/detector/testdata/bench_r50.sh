#!/usr/bin/env bash
# The issue's `make bench` figure: Fast R-CNN R-50-FPN at 1333x800 with 1000
# proposals, inference and a training step with 512 sampled RoIs, on 2 CPU
# threads. Runs detflow's BenchmarkR50FPN alone (its peak-MiB is the whole
# process's VmHWM, so nothing else may share the process) and, where Debian's
# torchvision imports, bench_torchvision_r50.py on the same cores, then prints
# one table: wall and CPU seconds per pass, the detflow/torch ratios, and
# each process's peak resident set after the pass (Predict runs first, so the
# train row's peak covers both passes).
#
#     detection/detector/testdata/bench_r50.sh [iterations]
#     MODEL=retinanet detection/detector/testdata/bench_r50.sh [iterations]
#     MODEL=mask_rcnn detection/detector/testdata/bench_r50.sh [iterations]
#     MODEL=faster_rcnn detection/detector/testdata/bench_r50.sh [iterations]
#
# MODEL=retinanet times RetinaNet R-50-FPN instead (BenchmarkRetinaNetR50FPN
# beside bench_torchvision_retinanet_r50.py: one image with 7 boxes, every
# anchor in the loss); MODEL=mask_rcnn Mask R-CNN R-50-FPN
# (BenchmarkMaskRCNNR50FPN beside bench_torchvision_mask_r50.py: RPN,
# boxes and masks, 100 detections pasted at inference); MODEL=faster_rcnn
# Faster R-CNN R-50-FPN end to end on a real photo, grace_hopper.jpg of
# python3-matplotlib resized to 800x937 (BenchmarkFasterRCNNR50FPN beside
# bench_torchvision_faster_r50.py: RPN proposals, 512 RoIs, 3 boxes).
#
# Both sides run each pass once to warm up, then ITERS timed passes (default
# 2): with -benchtime Nx (N > 1) go test first runs b.N=1 and reports only the
# b.N=N run. The warm-up matters: detflow's first pass in a process grows the
# engine's memory (page faults, zeroing) and measured ~8x slower wall and ~5x
# more CPU for Predict than later passes on the 2-core dev machine.
set -uo pipefail
cd "$(dirname "$0")/../../.."
PY=/usr/bin/python3
ITERS=${1:-2}
case ${MODEL:-fast_rcnn} in
fast_rcnn) BENCH=R50FPN TVSCRIPT=bench_torchvision_r50.py ;;
retinanet) BENCH=RetinaNetR50FPN TVSCRIPT=bench_torchvision_retinanet_r50.py ;;
mask_rcnn) BENCH=MaskRCNNR50FPN TVSCRIPT=bench_torchvision_mask_r50.py ;;
faster_rcnn) BENCH=FasterRCNNR50FPN TVSCRIPT=bench_torchvision_faster_r50.py ;;
*)
	echo "MODEL must be fast_rcnn, retinanet, mask_rcnn or faster_rcnn, got \"$MODEL\"" >&2
	exit 2
	;;
esac

gofile=$(mktemp)
tvfile=$(mktemp)
trap 'rm -f "$gofile" "$tvfile"' EXIT

case $ITERS in
'' | *[!0-9]* | 0 | 1)
	echo "iterations must be an integer of at least 2, got \"$ITERS\"" >&2
	exit 2
	;;
esac

echo "detflow: GOMAXPROCS=2 go test ./detection/detector -run '^\$' -bench '^Benchmark$BENCH\$' -benchtime ${ITERS}x"
GOMAXPROCS=2 go test ./detection/detector -run '^$' -bench "^Benchmark$BENCH\$" -benchtime "${ITERS}x" -timeout 30m | tee "$gofile"

if "$PY" -c 'import torchvision' 2>/dev/null; then
	echo "torch: $PY detection/detector/testdata/$TVSCRIPT $ITERS"
	"$PY" -B "detection/detector/testdata/$TVSCRIPT" "$ITERS" | tee "$tvfile"
else
	echo "torchvision not importable with $PY: no side-by-side figure"
fi

# goField PASS UNIT: the value before UNIT on Benchmark$BENCH/PASS's line.
goField() {
	awk -v pass="Benchmark$BENCH/$1" -v unit="$2" '
		index($1, pass) == 1 { for (i = 2; i <= NF; i++) if ($i == unit) print $(i - 1) }' "$gofile"
}

# tvField PASS KEY: KEY=value from the torch script's line for PASS.
tvField() {
	awk -v pass="pass=$1" -v key="$2=" '
		$1 == "torch-r50" && $2 == pass { for (i = 3; i <= NF; i++) if (index($i, key) == 1) print substr($i, length(key) + 1) }' "$tvfile"
}

# ratio A B: A/B to two decimals, or "-" where either is missing.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f\n", a / b }'
}

orDash() { if [ -n "$1" ]; then echo "$1"; else echo "-"; fi; }

echo
printf '%-8s %10s %8s %6s %13s %11s %9s %16s %14s\n' \
	pass "detflow s" "torch s" ratio "detflow cpu-s" "torch cpu-s" "cpu ratio" "detflow peak MiB" "torch peak MiB"
for pass in Predict TrainStep; do
	tvpass=predict
	[ "$pass" = TrainStep ] && tvpass=train
	ns=$(goField "$pass" ns/op)
	gs=$([ -n "$ns" ] && awk -v ns="$ns" 'BEGIN { printf "%.2f\n", ns / 1e9 }')
	gcpu=$(goField "$pass" cpu-s/op)
	gpeak=$(goField "$pass" peak-MiB)
	ts=$(tvField "$tvpass" s)
	tcpu=$(tvField "$tvpass" cpu_s)
	tpeak=$(tvField "$tvpass" peak_mib)
	printf '%-8s %10s %8s %6s %13s %11s %9s %16s %14s\n' "$tvpass" \
		"$(orDash "$gs")" "$(orDash "$ts")" "$(ratio "$gs" "$ts")" \
		"$(orDash "$gcpu")" "$(orDash "$tcpu")" "$(ratio "$gcpu" "$tcpu")" \
		"$(orDash "$gpeak")" "$(orDash "$tpeak")"
done
