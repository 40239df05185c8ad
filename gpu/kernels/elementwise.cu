// Elementwise float32 kernels.
//
// Reference: the obvious loops in gpu/cpu_ref_elementwise.go (and PyTorch's
// add, mul, add_(alpha), mul_(scalar), relu, threshold_backward, fill_).
//
// Launch contract: 1-D grid of any size, any block size; every kernel loops
// with a grid stride over n elements. out may alias an input.

#define GRID_STRIDE(i, n) \
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < (n); \
         i += (long long)blockDim.x * gridDim.x)

// out[i] = a[i] + b[i]
extern "C" __global__ void add_f32(float* out, const float* a, const float* b, int n) {
    GRID_STRIDE(i, n) { out[i] = a[i] + b[i]; }
}

// out[i] = a[i] * b[i]
extern "C" __global__ void mul_f32(float* out, const float* a, const float* b, int n) {
    GRID_STRIDE(i, n) { out[i] = a[i] * b[i]; }
}

// y[i] += alpha * x[i]
extern "C" __global__ void axpy_f32(float* y, const float* x, float alpha, int n) {
    GRID_STRIDE(i, n) { y[i] += alpha * x[i]; }
}

// out[i] = alpha * x[i]
extern "C" __global__ void scale_f32(float* out, const float* x, float alpha, int n) {
    GRID_STRIDE(i, n) { out[i] = alpha * x[i]; }
}

// out[i] = x[i] > 0 ? x[i] : 0   (NaN maps to 0, as in the CPU twin)
extern "C" __global__ void relu_fwd_f32(float* out, const float* x, int n) {
    GRID_STRIDE(i, n) {
        float v = x[i];
        out[i] = v > 0.0f ? v : 0.0f;
    }
}

// dx[i] = y[i] > 0 ? dy[i] : 0   where y is the ReLU output
extern "C" __global__ void relu_bwd_f32(float* dx, const float* dy, const float* y, int n) {
    GRID_STRIDE(i, n) { dx[i] = y[i] > 0.0f ? dy[i] : 0.0f; }
}

// out[i] = v
extern "C" __global__ void fill_f32(float* out, float v, int n) {
    GRID_STRIDE(i, n) { out[i] = v; }
}
