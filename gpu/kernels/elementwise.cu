// Elementwise float32 kernels.
//
// Reference: the obvious loops in gpu/cpu_elementwise_test.go (and
// PyTorch's add, fill_). The other elementwise operators are unary.cu's.
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

// out[i] = v
extern "C" __global__ void fill_f32(float* out, float v, int n) {
    GRID_STRIDE(i, n) { out[i] = v; }
}
