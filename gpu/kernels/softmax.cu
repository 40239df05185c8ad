// Row-wise softmax over [rows, cols] float32 and its backward pass.
//
// Reference: torch.softmax(dim=-1) and its gradient; tensor.CPU's Softmax
// and SoftmaxBackward (tensor/cpu_reduce.go), whose arithmetic this
// mirrors: the row maximum is subtracted first (a NaN anywhere makes the
// row NaN, as Go's max does), exp in float32, the sum of the exps and the
// backward dot product accumulated in double. CPU twin in
// gpu/cpu_softmax_test.go.
//
// Launch contract: blockDim.x == SOFTMAX_THREADS (128) exactly, any grid;
// block b handles rows b, b+gridDim.x, ... with a fixed-order tree
// reduction (reproducible, no atomics). y may be x in softmax_rows_f32:
// each thread reads and writes only its own columns after the row maximum
// is known.

#define SOFTMAX_THREADS 128

// softmax_max_nan is max that propagates NaN from either side, like Go's.
__device__ __forceinline__ float softmax_max_nan(float a, float b) {
    return (b > a || b != b) ? b : a;
}

// softmax_block_max returns the NaN-propagating maximum of v over the block.
__device__ float softmax_block_max(float v) {
    __shared__ float mbuf[SOFTMAX_THREADS];
    mbuf[threadIdx.x] = v;
    __syncthreads();
    for (int s = SOFTMAX_THREADS / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) {
            mbuf[threadIdx.x] = softmax_max_nan(mbuf[threadIdx.x], mbuf[threadIdx.x + s]);
        }
        __syncthreads();
    }
    float r = mbuf[0];
    __syncthreads();  // mbuf may be reused by the next call
    return r;
}

// softmax_block_sum returns the sum of v over the block.
__device__ double softmax_block_sum(double v) {
    __shared__ double sbuf[SOFTMAX_THREADS];
    sbuf[threadIdx.x] = v;
    __syncthreads();
    for (int s = SOFTMAX_THREADS / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) {
            sbuf[threadIdx.x] += sbuf[threadIdx.x + s];
        }
        __syncthreads();
    }
    double r = sbuf[0];
    __syncthreads();
    return r;
}

// y[r, :] = softmax(x[r, :])
extern "C" __global__ void softmax_rows_f32(float* y, const float* x, int rows, int cols) {
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* xr = x + r * cols;
        float* yr = y + r * cols;
        float m = -__int_as_float(0x7f800000);  // -Inf
        for (int c = threadIdx.x; c < cols; c += SOFTMAX_THREADS) {
            m = softmax_max_nan(m, xr[c]);
        }
        m = softmax_block_max(m);
        double s = 0.0;
        for (int c = threadIdx.x; c < cols; c += SOFTMAX_THREADS) {
            float e = expf(xr[c] - m);
            yr[c] = e;
            s += (double)e;
        }
        s = softmax_block_sum(s);
        float inv = (float)(1.0 / s);
        for (int c = threadIdx.x; c < cols; c += SOFTMAX_THREADS) {
            yr[c] *= inv;
        }
    }
}

// dx[r, :] = y[r, :] * (dy[r, :] - sum(dy[r, :] * y[r, :]))
extern "C" __global__ void softmax_rows_bwd_f32(float* dx, const float* y, const float* dy,
                                                int rows, int cols) {
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* yr = y + r * cols;
        const float* gr = dy + r * cols;
        float* xr = dx + r * cols;
        double dot = 0.0;
        for (int c = threadIdx.x; c < cols; c += SOFTMAX_THREADS) {
            dot += (double)yr[c] * (double)gr[c];
        }
        float d = (float)softmax_block_sum(dot);
        for (int c = threadIdx.x; c < cols; c += SOFTMAX_THREADS) {
            xr[c] = yr[c] * (gr[c] - d);
        }
    }
}
