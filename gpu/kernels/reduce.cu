// Deterministic float32 reductions: sum and sum of squares (the global
// gradient norm for clipping).
//
// Reference: gpu/cpu_reduce_test.go (a float64 accumulation).
//
// Launch contract: blockDim.x == 256 exactly (the shared tree below);
// gridDim.x = G of any size. Each block writes partial[blockIdx.x], the sum
// of its grid-stride slice of x. The host then launches sum_partial_f32 once
// more with one block over the G partials. With G fixed the result is
// bitwise reproducible: no atomics.

#define REDUCE_THREADS 256

// block_sum returns the sum of v over the block to every thread.
__device__ float block_sum(float v) {
    __shared__ float buf[REDUCE_THREADS];
    buf[threadIdx.x] = v;
    __syncthreads();
    for (int s = REDUCE_THREADS / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) {
            buf[threadIdx.x] += buf[threadIdx.x + s];
        }
        __syncthreads();
    }
    float r = buf[0];
    __syncthreads();  // buf may be reused by the next call
    return r;
}

// partial[blockIdx.x] = sum of x[i] over the block's grid-stride slice
extern "C" __global__ void sum_partial_f32(float* partial, const float* x, int n) {
    float acc = 0.0f;
    for (long long i = blockIdx.x * (long long)REDUCE_THREADS + threadIdx.x; i < n;
         i += (long long)REDUCE_THREADS * gridDim.x) {
        acc += x[i];
    }
    float s = block_sum(acc);
    if (threadIdx.x == 0) {
        partial[blockIdx.x] = s;
    }
}

// partial[blockIdx.x] = sum of x[i]*x[i] over the block's grid-stride slice
extern "C" __global__ void sumsq_partial_f32(float* partial, const float* x, int n) {
    float acc = 0.0f;
    for (long long i = blockIdx.x * (long long)REDUCE_THREADS + threadIdx.x; i < n;
         i += (long long)REDUCE_THREADS * gridDim.x) {
        float v = x[i];
        acc += v * v;
    }
    float s = block_sum(acc);
    if (threadIdx.x == 0) {
        partial[blockIdx.x] = s;
    }
}
