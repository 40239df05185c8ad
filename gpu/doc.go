// Package gpu is detflow's CUDA backend.
//
// The CUDA driver API (libcuda.so.1), cuBLAS, cuDNN and NCCL are bound at run time
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
//	DETFLOW_LIBCUDNN   libcudnn.so.9 or .8 (optional; convolutions; should
//	                   cuDNN 9 fail to load its sub-libraries, put their
//	                   folder on LD_LIBRARY_PATH too)
//	DETFLOW_CUDNN=0    convolutions without cuDNN, for comparison
//	DETFLOW_TF32=1     cuDNN convolutions may use TF32 tensor cores, as
//	                   PyTorch's default; FP32 otherwise. Read where no
//	                   precision is given (tests, benchmarks, `pipeline
//	                   devices`): Device.SetConvTF32 wins, which the
//	                   stages call from train.precision (and `pipeline
//	                   run` maps DETFLOW_TF32 onto that key)
//	DETFLOW_CUDNN_BENCHMARK=1
//	                   rank each new shape's algorithms by running them
//	                   (torch.backends.cudnn.benchmark)
//	DETFLOW_CUDNN_DETERMINISTIC=1
//	                   prefer cuDNN's deterministic algorithms
//	DETFLOW_LIBNCCL    libnccl.so.2 (optional; multi-GPU gradient sums)
//	DETFLOW_PTX_DIR    a folder of <module>.ptx files used instead of the
//	                   PTX embedded at build time
//
// # Kernels
//
// The CUDA C kernels live in gpu/kernels/<module>.cu, one file per operator
// family, each with a comment naming its reference (PyTorch, torchvision,
// Caffe) and its launch contract. `make ptx` compiles them with
// nvcc -ptx -arch=compute_80 into gpu/kernels/ptx/<module>.ptx, which is
// committed and embedded with go:embed, so builds need no nvcc. Each module
// has two Go files:
//
//	ops_<module>.go        its typed launchers (Device methods), each with
//	                       a caller outside the tests
//	cpu_<module>_test.go   its CPU twin, and host tests that check the twin
//	                       by properties independent of it (adjoint pairs,
//	                       finite differences, exact values)
//
// kernel_table.go lists every module and entry; tests check it against the
// .cu sources and the PTX. The GPU tests (gpu_*_test.go) compare each
// kernel with its twin with the tolerance atol + |ref|*rtol and print the
// first mismatches. A module
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
// # Convolutions
//
// ConvFwd, ConvBwdData and ConvBwdFilter run a whole batch through cuDNN's
// convolution API in FP32 (CUDNN_FMA_MATH; TF32 with SetConvTF32(true) or DETFLOW_TF32=1),
// with one plan per shape: descriptors and, per direction on its first
// use, the first algorithm of cuDNN's heuristic ranking whose workspace
// fits 512 MiB, as PyTorch picks by default (on an H200 the first
// deterministic one made an R-50 training step 1.3x slower). Without cuDNN,
// or for a shape it has no algorithm for, they return a
// *DNNUnavailableError and callers compose the convolution from the
// im2col/col2im kernels and cuBLAS.
//
// # Profiling
//
// StartProfile and StopProfile bracket every kernel, GEMM and convolution
// on the compute stream with CUDA events and sum their times by name, with
// the host's wall time beside them: whether a step is bound by the GPU or
// by the host queueing its work. The R-50 benchmark prints one profiled
// step per pass with DETFLOW_GPU_PROFILE=1.
//
// # Memory
//
// Device buffers come from a caching allocator (size-class bins, no
// cuMemAlloc per operation once warm). Uploads are staged through rings of
// pinned host chunks (Stage): the call copies into pinned memory and
// returns without waiting for the GPU, so the host prepares the next batch
// while the GPU works. Small uploads are queued on the compute stream;
// large ones (input images) cross PCIe on the copy stream, overlapping the
// kernels still running, into a device staging block, and a
// device-to-device copy on the compute stream, behind an event, moves them
// to their destination in stream order.
//
// # Several GPUs
//
// NCCL sums gradients and broadcasts weights between data-parallel replicas
// on distinct GPUs, all tensors in one group call. Replicas sharing a GPU
// ("cuda:0,0", which NCCL refuses) and machines without NCCL use peer
// copies (CopyPeer, AllReduceSum).
package gpu
