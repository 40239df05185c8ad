// Package gpu is detflow's CUDA backend.
//
// The CUDA driver API (libcuda.so.1), cuBLAS and NCCL are bound at run time
// with github.com/ebitengine/purego, so the package builds with
// CGO_ENABLED=0 and the same binary runs with or without a GPU: without a
// driver, Open returns a *NoDriverError whose text the CLI prints after the
// --devices value ("--devices cuda:0: no NVIDIA driver found (libcuda.so.1)").
//
// # Libraries
//
// Each library is found by soname with version fallbacks (libcublas.so.13,
// .12, .11), then in the usual CUDA install folders. An environment variable
// names a file instead and is then the only candidate, so a wrong override
// fails loudly rather than silently loading another copy:
//
//	DETFLOW_LIBCUDA    libcuda.so.1 (driver API)
//	DETFLOW_LIBCUBLAS  libcublas.so.N (optional; GEMM)
//	DETFLOW_LIBNCCL    libnccl.so.2 (optional; multi-GPU all-reduce)
//	DETFLOW_PTX_DIR    a folder of <module>.ptx files used instead of the
//	                   PTX embedded at build time
//
// # Kernels
//
// The CUDA C kernels live in gpu/kernels/<module>.cu, one file per operator
// family, each with a comment naming its reference (PyTorch, torchvision,
// Caffe) and its launch contract. `make ptx` compiles them with
// nvcc -ptx -arch=compute_80 into gpu/kernels/ptx/<module>.ptx, which is
// committed and embedded with go:embed, so builds need no nvcc. Every kernel
// has a CPU twin in cpu_ref_*.go; the GPU tests compare the two with the
// tolerance atol + |ref|*rtol and print the first mismatches. A module
// added after the last PTX commit has no embedded PTX until the next GPU
// session compiles it: Device.HasModule tells callers (gpu/tensordev) to
// keep their host path until then.
//
// # Threads and contexts
//
// A CUDA context is current per OS thread, and goroutines move between
// threads, so every call that needs the device's context runs inside
// Device.do, which locks the goroutine to its thread and makes the primary
// context current first.
//
// # Memory
//
// Device buffers come from a caching allocator (size-class bins, no
// cuMemAlloc per operation once warm); input batches are staged through a
// pool of pinned host buffers so host-to-device copies can run async on a
// copy stream.
package gpu
