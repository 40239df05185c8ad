// 2-D max pooling over NCHW float32 (no dilation, floor mode).
//
// Reference: PyTorch's max_pool2d_with_indices and tensor.CPU's MaxPool2d
// (padding never wins, the first in-image tap starts the window, the first
// NaN wins and stays, ties go to the first position in row-major window
// order, argmax is the flat index h*W+w in the input plane);
// CPU twin in gpu/cpu_maxpool_test.go. NC = N*C planes; the caller computes
// OH = (H + 2*padH - KH)/strideH + 1 (likewise OW).
//
// Launch contract: 1-D grid-stride, any grid/block; fwd over NC*OH*OW
// outputs, bwd over NC*H*W inputs. The backward pass is a gather: each input
// pixel sums dy over the windows that picked it, so it OVERWRITES dx and is
// deterministic (no atomics).

extern "C" __global__ void maxpool_fwd_f32(float* y, int* argmax, const float* x, int NC, int H,
                                           int W, int KH, int KW, int strideH, int strideW,
                                           int padH, int padW, int OH, int OW) {
    long long total = (long long)NC * OH * OW;
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < total;
         idx += (long long)blockDim.x * gridDim.x) {
        int ow = (int)(idx % OW);
        int oh = (int)((idx / OW) % OH);
        long long nc = idx / ((long long)OW * OH);
        const float* plane = x + nc * H * W;
        int hs = oh * strideH - padH, ws = ow * strideW - padW;
        float best = __int_as_float(0xff800000);  // -inf
        int bi = -1;
        for (int kh = 0; kh < KH; kh++) {
            int h = hs + kh;
            if (h < 0 || h >= H) continue;
            for (int kw = 0; kw < KW; kw++) {
                int w = ws + kw;
                if (w < 0 || w >= W) continue;
                float v = plane[h * W + w];
                if (bi < 0 || v > best || (v != v && best == best)) {
                    best = v;
                    bi = h * W + w;
                }
            }
        }
        y[idx] = best;
        argmax[idx] = bi;
    }
}

extern "C" __global__ void maxpool_bwd_f32(float* dx, const float* dy, const int* argmax,
                                           int NC, int H, int W, int KH, int KW, int strideH,
                                           int strideW, int padH, int padW, int OH, int OW) {
    long long total = (long long)NC * H * W;
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < total;
         idx += (long long)blockDim.x * gridDim.x) {
        int w = (int)(idx % W);
        int h = (int)((idx / W) % H);
        long long nc = idx / ((long long)W * H);
        // Windows oh with oh*strideH - padH <= h <= oh*strideH - padH + KH - 1.
        int ph0 = (h + padH < KH) ? 0 : (h + padH - KH) / strideH + 1;
        int ph1 = min((h + padH) / strideH + 1, OH);
        int pw0 = (w + padW < KW) ? 0 : (w + padW - KW) / strideW + 1;
        int pw1 = min((w + padW) / strideW + 1, OW);
        int me = h * W + w;
        const float* g = dy + nc * OH * OW;
        const int* am = argmax + nc * OH * OW;
        float sum = 0.0f;
        for (int ph = ph0; ph < ph1; ph++) {
            for (int pw = pw0; pw < pw1; pw++) {
                if (am[ph * OW + pw] == me) {
                    sum += g[ph * OW + pw];
                }
            }
        }
        dx[idx] = sum;
    }
}
