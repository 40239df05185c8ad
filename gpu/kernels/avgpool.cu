// 2-D average pooling over NCHW float32 (count_include_pad=True, floor
// mode) and adaptive average pooling, with their backward passes.
//
// Reference: PyTorch's avg_pool2d (count_include_pad=True, ceil_mode=False)
// and adaptive_avg_pool2d, whose output (oy, ox) averages the input window
// [floor(oy*H/OH), ceil((oy+1)*H/OH)) x [floor(ox*W/OW), ceil((ox+1)*W/OW));
// tensor.CPU's AvgPool2d, AdaptiveAvgPool2d and their backward passes
// (tensor/cpu_pool.go), whose summation orders these follow. CPU twin in
// gpu/cpu_avgpool_test.go. NC = N*C planes of H×W in, OH×OW out; the caller
// computes OH = (H + 2*padH - KH)/strideH + 1 (likewise OW) for avg_pool.
//
// Launch contract: 1-D grid-stride, any grid/block; forward kernels over
// the NC*OH*OW outputs, backward kernels over the NC*H*W inputs. The
// backward passes are gathers: each input pixel sums, in row-major output
// order, the gradients of the windows that cover it, so they OVERWRITE dx
// and are deterministic (no atomics).

// y = mean of the KH×KW window, padded taps counting as zeros
extern "C" __global__ void avgpool_fwd_f32(float* y, const float* x, int NC, int H, int W,
                                           int KH, int KW, int strideH, int strideW, int padH,
                                           int padW, int OH, int OW) {
    long long total = (long long)NC * OH * OW;
    float inv = 1.0f / (float)(KH * KW);
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < total;
         idx += (long long)blockDim.x * gridDim.x) {
        int ow = (int)(idx % OW);
        int oh = (int)((idx / OW) % OH);
        long long nc = idx / ((long long)OW * OH);
        const float* plane = x + nc * H * W;
        float s = 0.0f;
        for (int kh = 0; kh < KH; kh++) {
            int h = oh * strideH - padH + kh;
            if (h < 0 || h >= H) continue;
            for (int kw = 0; kw < KW; kw++) {
                int w = ow * strideW - padW + kw;
                if (w >= 0 && w < W) s += plane[h * W + w];
            }
        }
        y[idx] = s * inv;
    }
}

// dx[h, w] = sum over the windows covering (h, w) of dy * 1/(KH*KW)
extern "C" __global__ void avgpool_bwd_f32(float* dx, const float* dy, int NC, int H, int W,
                                           int KH, int KW, int strideH, int strideW, int padH,
                                           int padW, int OH, int OW) {
    long long total = (long long)NC * H * W;
    float inv = 1.0f / (float)(KH * KW);
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < total;
         idx += (long long)blockDim.x * gridDim.x) {
        int w = (int)(idx % W);
        int h = (int)((idx / W) % H);
        long long nc = idx / ((long long)W * H);
        const float* g = dy + nc * OH * OW;
        // Output oh covers h when oh*strideH - padH <= h <= oh*strideH - padH + KH - 1.
        int th = h + padH - KH + 1, tw = w + padW - KW + 1;
        int oh0 = th <= 0 ? 0 : (th + strideH - 1) / strideH;
        int ow0 = tw <= 0 ? 0 : (tw + strideW - 1) / strideW;
        int oh1 = min(OH - 1, (h + padH) / strideH);
        int ow1 = min(OW - 1, (w + padW) / strideW);
        float s = 0.0f;
        for (int oh = oh0; oh <= oh1; oh++) {
            for (int ow = ow0; ow <= ow1; ow++) {
                float v = g[oh * OW + ow] * inv;
                s += v;
            }
        }
        dx[idx] = s;
    }
}

// adaptive_start and adaptive_end bound output i's window over in inputs.
__device__ __forceinline__ int adaptive_start(int i, int in, int out) { return i * in / out; }
__device__ __forceinline__ int adaptive_end(int i, int in, int out) {
    return ((i + 1) * in + out - 1) / out;
}

// y = mean of the adaptive window, summed in double
extern "C" __global__ void adaptive_avgpool_fwd_f32(float* y, const float* x, int NC, int H,
                                                    int W, int OH, int OW) {
    long long total = (long long)NC * OH * OW;
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < total;
         idx += (long long)blockDim.x * gridDim.x) {
        int ow = (int)(idx % OW);
        int oh = (int)((idx / OW) % OH);
        long long nc = idx / ((long long)OW * OH);
        const float* plane = x + nc * H * W;
        int h0 = adaptive_start(oh, H, OH), h1 = adaptive_end(oh, H, OH);
        int w0 = adaptive_start(ow, W, OW), w1 = adaptive_end(ow, W, OW);
        double s = 0.0;
        for (int h = h0; h < h1; h++) {
            for (int w = w0; w < w1; w++) {
                s += (double)plane[h * W + w];
            }
        }
        y[idx] = (float)(s / (double)((h1 - h0) * (w1 - w0)));
    }
}

// dx[h, w] = sum over the adaptive windows covering (h, w) of dy / window size
extern "C" __global__ void adaptive_avgpool_bwd_f32(float* dx, const float* dy, int NC, int H,
                                                    int W, int OH, int OW) {
    long long total = (long long)NC * H * W;
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < total;
         idx += (long long)blockDim.x * gridDim.x) {
        int w = (int)(idx % W);
        int h = (int)((idx / W) % H);
        long long nc = idx / ((long long)W * H);
        const float* g = dy + nc * OH * OW;
        // Output oh covers h exactly for oh in [floor(h*OH/H), ceil((h+1)*OH/H) - 1].
        int oh0 = h * OH / H, oh1 = min(OH - 1, ((h + 1) * OH + H - 1) / H - 1);
        int ow0 = w * OW / W, ow1 = min(OW - 1, ((w + 1) * OW + W - 1) / W - 1);
        float s = 0.0f;
        for (int oh = oh0; oh <= oh1; oh++) {
            int hs = adaptive_end(oh, H, OH) - adaptive_start(oh, H, OH);
            for (int ow = ow0; ow <= ow1; ow++) {
                int ws = adaptive_end(ow, W, OW) - adaptive_start(ow, W, OW);
                s += g[oh * OW + ow] / (float)(hs * ws);
            }
        }
        dx[idx] = s;
    }
}
