// Layout kernels: strided copy (permute, slice, concat, broadcast; with or
// without accumulation), broadcast binary operators over the same stride
// scheme, and a sum over the middle axis of [outer, mid, inner].
//
// Reference: tensor.CPU's StridedCopy, BroadcastBinary and ReduceSum
// (tensor/cpu_binary.go, tensor/cpu_reduce.go); the binary op codes are
// tensor.BinaryOp values, as in unary.cu. CPU twin in
// gpu/cpu_layout_test.go.
//
// Geometry: up to LAYOUT_MAX_DIMS dimensions, passed as scalars (sizes
// d0..d5, then each operand's element strides), dimension 0 outermost; the
// host merges contiguous dimensions and drops size-1 ones first, so ndim
// is what is left (0 for a scalar). Strides may be 0 (broadcast).
//
// Launch contract:
//   strided_copy_f32, broadcast_binary_f32: 1-D grid-stride over the n
//   elements of the shape (n < 2^31, sizes >= 1), any grid/block. strided_copy_f32 with accumulate
//   adds into dst, whose offsets must then be distinct (no atomics: each
//   thread owns its destination element). broadcast_binary_f32 writes y
//   contiguously; y may alias an operand with y's own contiguous strides
//   (each thread reads its element before writing it).
//   reduce_sum_f32: blockDim = (bx, by) with bx*by <= 256 and by a power of
//   two; grid = (ceil(inner/bx), any). Thread (tx, ty) sums in double the
//   rows m = ty, ty+by, ... of column i = blockIdx.x*bx + tx for the outer
//   indices o = blockIdx.y, blockIdx.y+gridDim.y, ...; a fixed tree over ty
//   finishes, so the result is reproducible (no atomics).

#define LAYOUT_MAX_DIMS 6
#define LAYOUT_REDUCE_THREADS 256

// The binary op codes (tensor.BinaryOp), named apart from unary.cu's: the
// kernel emulator compiles every module into one translation unit.
#define LBOP_ADD 0
#define LBOP_SUB 1
#define LBOP_MUL 2
#define LBOP_DIV 3
#define LBOP_BCE_LOGITS 4

__device__ __forceinline__ float layout_binary_op(int op, float a, float b) {
    switch (op) {
        case LBOP_ADD: return a + b;
        case LBOP_SUB: return a - b;
        case LBOP_MUL: return a * b;
        case LBOP_DIV: return a / b;
        case LBOP_BCE_LOGITS:
            return fmaxf(a, 0.0f) - a * b + log1pf(expf(-fabsf(a)));
    }
    return __int_as_float(0x7fc00000);  // unknown op: NaN, never silent
}

// dst[off(i, t)] (+)= src[off(i, s)] over the n elements of shape d.
extern "C" __global__ void strided_copy_f32(float* dst, const float* src, int n, int ndim,
                                            int accumulate, int d0, int d1, int d2, int d3,
                                            int d4, int d5, int s0, int s1, int s2, int s3,
                                            int s4, int s5, int t0, int t1, int t2, int t3,
                                            int t4, int t5) {
    const int dims[LAYOUT_MAX_DIMS] = {d0, d1, d2, d3, d4, d5};
    const int ss[LAYOUT_MAX_DIMS] = {s0, s1, s2, s3, s4, s5};
    const int ts[LAYOUT_MAX_DIMS] = {t0, t1, t2, t3, t4, t5};
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)blockDim.x * gridDim.x) {
        unsigned r = (unsigned)i;  // n < 2^31: 32-bit division is cheaper
        long long so = 0, to = 0;
        // A constant trip count lets nvcc unroll the loop and keep the
        // geometry arrays in registers; dimensions past ndim are skipped.
        for (int k = LAYOUT_MAX_DIMS - 1; k >= 0; k--) {
            if (k >= ndim) continue;
            unsigned c = r % (unsigned)dims[k];
            r /= (unsigned)dims[k];
            so += (long long)c * ss[k];
            to += (long long)c * ts[k];
        }
        if (accumulate) {
            dst[to] += src[so];
        } else {
            dst[to] = src[so];
        }
    }
}

// y[i] = op(a[off(i, as)], b[off(i, bs)]) over the n elements of shape d.
extern "C" __global__ void broadcast_binary_f32(float* y, const float* a, const float* b,
                                                int op, int n, int ndim, int d0, int d1, int d2,
                                                int d3, int d4, int d5, int a0, int a1, int a2,
                                                int a3, int a4, int a5, int b0, int b1, int b2,
                                                int b3, int b4, int b5) {
    const int dims[LAYOUT_MAX_DIMS] = {d0, d1, d2, d3, d4, d5};
    const int as[LAYOUT_MAX_DIMS] = {a0, a1, a2, a3, a4, a5};
    const int bs[LAYOUT_MAX_DIMS] = {b0, b1, b2, b3, b4, b5};
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)blockDim.x * gridDim.x) {
        unsigned r = (unsigned)i;
        long long ao = 0, bo = 0;
        // A constant trip count lets nvcc unroll the loop and keep the
        // geometry arrays in registers; dimensions past ndim are skipped.
        for (int k = LAYOUT_MAX_DIMS - 1; k >= 0; k--) {
            if (k >= ndim) continue;
            unsigned c = r % (unsigned)dims[k];
            r /= (unsigned)dims[k];
            ao += (long long)c * as[k];
            bo += (long long)c * bs[k];
        }
        y[i] = layout_binary_op(op, a[ao], b[bo]);
    }
}

// y[o, i] = sum over m of x[o, m, i], accumulated in double.
extern "C" __global__ void reduce_sum_f32(float* y, const float* x, int outer, int mid,
                                          int inner) {
    __shared__ double buf[LAYOUT_REDUCE_THREADS];
    int tx = threadIdx.x, ty = threadIdx.y, bx = blockDim.x;
    long long i = blockIdx.x * (long long)bx + tx;
    for (long long o = blockIdx.y; o < outer; o += gridDim.y) {
        double acc = 0.0;
        if (i < inner) {
            const float* col = x + o * mid * (long long)inner + i;
            for (long long m = ty; m < mid; m += blockDim.y) {
                acc += (double)col[m * inner];
            }
        }
        buf[ty * bx + tx] = acc;
        __syncthreads();
        for (int s = blockDim.y / 2; s > 0; s >>= 1) {
            if (ty < s) {
                buf[ty * bx + tx] += buf[(ty + s) * bx + tx];
            }
            __syncthreads();
        }
        if (ty == 0 && i < inner) {
            y[o * inner + i] = (float)buf[tx];
        }
        __syncthreads();  // buf is reused by the next o
    }
}
