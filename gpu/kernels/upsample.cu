// Nearest-neighbour upsampling by an integer factor S over NCHW float32 (the
// FPN top-down path: F.interpolate(scale_factor=2, mode="nearest")).
//
// Reference: PyTorch's upsample_nearest2d with an integer scale, where output
// pixel (oh, ow) reads input (oh/S, ow/S); tensor.CPU's UpsampleNearest; CPU
// twin in gpu/cpu_upsample_test.go. NC = N*C planes of H×W in, SH×SW out.
//
// Launch contract: 1-D grid-stride, any grid/block; fwd over NC*S*S*H*W
// outputs, bwd over NC*H*W inputs; bwd OVERWRITES dx with the sum of its
// S×S block of output gradients, row by row (a gather: deterministic).

extern "C" __global__ void upsample_nearest_fwd_f32(float* y, const float* x, int NC, int H,
                                                    int W, int S) {
    int OH = S * H, OW = S * W;
    long long total = (long long)NC * OH * OW;
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < total;
         idx += (long long)blockDim.x * gridDim.x) {
        int ow = (int)(idx % OW);
        int oh = (int)((idx / OW) % OH);
        long long nc = idx / ((long long)OW * OH);
        y[idx] = x[(nc * H + oh / S) * W + ow / S];
    }
}

extern "C" __global__ void upsample_nearest_bwd_f32(float* dx, const float* dy, int NC, int H,
                                                    int W, int S) {
    int OW = S * W;
    long long total = (long long)NC * H * W;
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < total;
         idx += (long long)blockDim.x * gridDim.x) {
        int w = (int)(idx % W);
        int h = (int)((idx / W) % H);
        long long nc = idx / ((long long)W * H);
        const float* g = dy + (nc * S * H + (long long)S * h) * OW + (long long)S * w;
        float sum = 0.0f;
        for (int i = 0; i < S; i++) {
            for (int j = 0; j < S; j++) {
                sum += g[(long long)i * OW + j];
            }
        }
        dx[idx] = sum;
    }
}
