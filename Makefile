# detflow: `make run` builds and runs the default pipeline, `make test` runs
# every test CI runs.

GO      ?= go
BIN     := bin/pipeline
PKGS    := ./...
# The CLI links DuckDB (cgo) for `pipeline query` when a C compiler exists;
# everything else, and every Beam worker binary, is cgo-free.
CGO     := $(shell command -v gcc >/dev/null 2>&1 && echo 1 || echo 0)
export CGO_ENABLED ?= 0

.PHONY: build build-query run test test-query bench lint ptx gpu-check-binary gpu-check-pipeline emulate clean

build:
	CGO_ENABLED=$(CGO) $(GO) build -o $(BIN) ./cmd/pipeline

# The CLI with `pipeline query` (DuckDB, cgo): the target its error names
# when a build lacks it. Needs a C compiler.
build-query:
	@command -v gcc >/dev/null 2>&1 || { echo "build-query needs a C compiler (gcc) for DuckDB"; exit 1; }
	CGO_ENABLED=1 $(GO) build -o $(BIN) ./cmd/pipeline

run: build
	./$(BIN) run fast_rcnn_with_proposals

test: lint
	$(GO) test -count=1 -timeout 20m $(PKGS)
	$(GO) test -count=1 -tags noasm ./tensor/...
	if [ "$(CGO)" = 1 ]; then $(MAKE) test-query; else echo "no C compiler: DuckDB query tests skipped"; fi

# The DuckDB-backed `pipeline query` (cgo).
test-query:
	CGO_ENABLED=1 $(GO) vet ./query/... ./cmd/pipeline/
	CGO_ENABLED=1 $(GO) test -count=1 ./query/... ./report/... ./cmd/pipeline/ -run Query

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# Benchmarks print ratios against references measured in the same run where
# the reference is installed (PyTorch, pycocotools); see BENCHMARKS.md.
bench:
	./scripts/bench.sh

# The CUDA kernels' PTX is committed so builds need no nvcc; regenerate it
# where nvcc exists (the lent GPU machines) after changing a .cu file.
NVCC ?= nvcc
CU   := $(wildcard gpu/kernels/*.cu)
PTX  := $(patsubst gpu/kernels/%.cu,gpu/kernels/ptx/%.ptx,$(CU))
ptx: $(PTX)
	cd gpu/kernels && sha256sum *.cu > ptx/SOURCES.sha256
gpu/kernels/ptx/%.ptx: gpu/kernels/%.cu
	$(NVCC) -ptx -arch=compute_80 -O3 -o $@ $<

# Test binaries for scripts/gpu-check.sh on a GPU machine (no Go there):
# the kernel tests, tensordev's conformance, and the detector's and the
# train stage's GPU checks (with BenchmarkGPUR50FPN). The device tool
# carries at most 64 MiB: symbols are stripped (-s -w; panics keep file:line)
# and every binary but gpu.test (those link cloud storage and Beam through
# the detection packages: 30 to 60 MiB each) is gzipped; gpu-check.sh
# unpacks every .gpu/*.test.gz it finds (by hand: gzip -dk .gpu/X.test.gz).
GPU_TEST_C := CGO_ENABLED=0 $(GO) test -c -ldflags='-s -w'
gpu-check-binary:
	mkdir -p .gpu
	rm -f .gpu/*.test .gpu/*.test.gz
	$(GPU_TEST_C) -o .gpu/gpu.test ./gpu
	$(GPU_TEST_C) -o .gpu/tensordev.test ./gpu/tensordev
	$(GPU_TEST_C) -o .gpu/detector.test ./detection/detector
	$(GPU_TEST_C) -o .gpu/train.test ./stages/train
	gzip -9 -f .gpu/tensordev.test .gpu/detector.test .gpu/train.test
	@du -b .gpu/* | awk '{ t += $$1; printf "%-24s %6.1f MiB\n", $$2, $$1 / 1048576 } END { printf "%-24s %6.1f MiB (the device tool carries 64 MiB)\n", "total", t / 1048576 }'

# The CLI for gpu-check.sh's precision step (CGO_ENABLED=0, so it runs
# on the GPU machine as is; without `pipeline query`).
gpu-check-pipeline:
	mkdir -p .gpu
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags=-s -o .gpu/pipeline ./cmd/pipeline
	gzip -9 -f .gpu/pipeline

# The GPU tests on the kernel emulator (needs g++): every TestGPU* of the
# gpu package, the trainer on emulated cuda:0 devices included.
emulate:
	DETFLOW_EMULATE=1 $(GO) test -tags emulator -count=1 -run TestGPU ./gpu

clean:
	rm -rf bin
