// Package gemm is detflow's single-precision matrix multiply (SGEMM).
//
// All matrices are row-major. Sgemm computes C = alpha*op(A)*op(B) + beta*C
// where op(X) is X or its transpose, op(A) is m×k, op(B) is k×n and C is m×n;
// lda, ldb and ldc are the row strides of the matrices as stored. As in BLAS,
// beta == 0 means C is write-only (NaNs in C are overwritten, not propagated)
// and alpha == 0 means A and B are not read.
//
// The blocked algorithm follows Goto/BLIS (blocking.go): op(B) is packed
// into kc×nc panels of NR-wide slivers, shared by all workers, and each
// worker packs its own blocks of op(A) into MR-tall micro-panels with alpha
// folded in (pack.go), so they stay in that core's L2; a register-tiled
// micro-kernel computes MR×NR tiles of C from the packed data (kernel.go).
// Tiles that stick out of C are computed into a scratch tile and merged, so
// edges need no special kernel. A call is a schedule of steps, one per
// panel, each multiplying one panel while packing the next into a second
// buffer; the caller and GOMAXPROCS-1 helpers from a process-wide pool
// (SgemmWorkers: any number) claim each step's tasks from a shared counter
// (driver.go, internal/team). Packing memory is recycled through a sync.Pool, so
// steady-state single-goroutine calls do not allocate.
//
// On amd64 the micro-kernels are Go assembly, one file per variant:
// kernel_avx512_amd64.s (14×32 tile, 28 zmm accumulators, with cuts to the
// top 8 rows and the left 16 columns that finish edge tiles for their
// share of the work, kernel14x32_avx512.h) and
// kernel_avx2_amd64.s (6×16, 12 ymm accumulators), chosen at run time with
// golang.org/x/sys/cpu; with AVX-512 the transposing packs use 16×16
// in-register transposes (transpose_avx512_amd64.s). Each has a pure-Go twin
// with the same doc comment, compiled under the noasm build tag or on other
// architectures, where a portable 4×8 Go kernel is used. Tests run every
// variant the CPU supports against SgemmRef, the obvious triple loop.
//
// SgemmFrom takes B as a Source that computes it (a convolution's im2col
// matrix): panels are packed from spans of it, so it is never stored
// whole, and the results are those of Sgemm on the stored matrix.
//
// SgemmRows reads B in place instead of packing it, row p from an offset
// the caller gives (a convolution's shifted input rows); Sgemm does the same
// for untransposed B when C has few rows. A narrow C (n ≤ 128, such as a
// convolution over 7x7 images) is computed as Cᵀ when the kernel's tiles
// cover it better that way (swap.go). These paths give the packed one's bits.
//
// Tiny products (m*n*k < 7³) skip packing and goroutines altogether;
// small ones (below 96³) run on the caller's goroutine only.
//
// MeasurePeakGFLOPS measures the core's FP32 FMA peak with an assembly loop
// of independent FMA chains, the yardstick the benchmarks report against.
package gemm
