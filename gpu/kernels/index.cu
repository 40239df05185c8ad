// Index kernels: index select along the middle axis of [outer, dim, inner]
// and gather along the last axis of [rows, cols], with their accumulating
// adjoints (index add, scatter add).
//
// Reference: tensor.CPU's IndexSelect, IndexAdd, GatherRows and
// ScatterAddRows (tensor/cpu_index.go), i.e. torch.index_select,
// Tensor.index_add_, torch.gather(dim=-1) and Tensor.scatter_add_(dim=-1).
// CPU twin in gpu/cpu_index_test.go.
//
// Indices are int32. tensor.CPU panics on an index outside [0, dim) (or
// [0, cols)); a kernel cannot, so the gathers write NaN there (a bad index
// shows up in the output) and the scatters skip it.
//
// Launch contract: 1-D grid-stride, any grid/block; every size below
// 2^31 elements (the host checks).
//   index_select_f32 over the outer*nidx*inner outputs;
//   index_add_f32 over the outer*nidx*inner inputs, ACCUMULATING into dst
//     with atomicAdd (repeated indices add up; the last bits of a sum vary
//     between runs);
//   gather_rows_f32 over the rows*k outputs;
//   scatter_add_rows_f32 over the rows*k inputs, accumulating with atomicAdd.

// dst[o, j, i] = src[o, idx[j], i]
extern "C" __global__ void index_select_f32(float* dst, const float* src, const int* idx,
                                            int outer, int dim, int inner, int nidx) {
    long long total = (long long)outer * nidx * inner;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < total;
         e += (long long)blockDim.x * gridDim.x) {
        unsigned u = (unsigned)e;  // the host checks sizes < 2^31: 32-bit division
        unsigned i = u % (unsigned)inner;
        unsigned j = (u / (unsigned)inner) % (unsigned)nidx;
        long long o = u / ((unsigned)inner * (unsigned)nidx);
        int t = idx[j];
        dst[e] = (t >= 0 && t < dim) ? src[(o * dim + t) * inner + i]
                                     : __int_as_float(0x7fc00000);
    }
}

// dst[o, idx[j], i] += src[o, j, i]
extern "C" __global__ void index_add_f32(float* dst, const float* src, const int* idx,
                                         int outer, int dim, int inner, int nidx) {
    long long total = (long long)outer * nidx * inner;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < total;
         e += (long long)blockDim.x * gridDim.x) {
        unsigned u = (unsigned)e;  // the host checks sizes < 2^31: 32-bit division
        unsigned i = u % (unsigned)inner;
        unsigned j = (u / (unsigned)inner) % (unsigned)nidx;
        long long o = u / ((unsigned)inner * (unsigned)nidx);
        int t = idx[j];
        if (t >= 0 && t < dim) {
            atomicAdd(dst + (o * dim + t) * inner + i, src[e]);
        }
    }
}

// dst[r, j] = src[r, idx[r, j]]
extern "C" __global__ void gather_rows_f32(float* dst, const float* src, const int* idx,
                                           int rows, int cols, int k) {
    long long total = (long long)rows * k;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < total;
         e += (long long)blockDim.x * gridDim.x) {
        long long r = (unsigned)e / (unsigned)k;
        int t = idx[e];
        dst[e] = (t >= 0 && t < cols) ? src[r * cols + t] : __int_as_float(0x7fc00000);
    }
}

// dst[r, idx[r, j]] += src[r, j]
extern "C" __global__ void scatter_add_rows_f32(float* dst, const float* src, const int* idx,
                                                int rows, int cols, int k) {
    long long total = (long long)rows * k;
    for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < total;
         e += (long long)blockDim.x * gridDim.x) {
        long long r = (unsigned)e / (unsigned)k;
        int t = idx[e];
        if (t >= 0 && t < cols) {
            atomicAdd(dst + r * cols + t, src[e]);
        }
    }
}
