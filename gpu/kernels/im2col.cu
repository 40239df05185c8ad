// im2col / col2im for one NCHW image, with stride, padding and dilation.
//
// Reference: Caffe's im2col_gpu/col2im_gpu (the layout PyTorch's slow conv
// uses); CPU twin in gpu/cpu_im2col_test.go.
//
// Layout: im is [C,H,W]; col is [C*KH*KW, OH*OW] row-major, row
// (c*KH + kh)*KW + kw, column oh*OW + ow, where
//   h = oh*strideH - padH + kh*dilH,  w = ow*strideW - padW + kw*dilW
// and taps outside the image read 0. The caller computes
//   OH = (H + 2*padH - dilH*(KH-1) - 1)/strideH + 1 (likewise OW).
//
// Launch contract: 1-D grid-stride, any grid/block. im2col runs over
// C*KH*KW*OH*OW column entries; col2im over C*H*W image entries and
// OVERWRITES im with the sum of the column entries that read each pixel
// (a gather, so no atomics and a deterministic sum order).

extern "C" __global__ void im2col_f32(float* col, const float* im, int C, int H, int W,
                                      int KH, int KW, int padH, int padW, int strideH,
                                      int strideW, int dilH, int dilW, int OH, int OW) {
    long long total = (long long)C * KH * KW * OH * OW;
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < total;
         idx += (long long)blockDim.x * gridDim.x) {
        long long t = idx;
        int ow = (int)(t % OW); t /= OW;
        int oh = (int)(t % OH); t /= OH;
        int kw = (int)(t % KW); t /= KW;
        int kh = (int)(t % KH);
        int c = (int)(t / KH);
        int h = oh * strideH - padH + kh * dilH;
        int w = ow * strideW - padW + kw * dilW;
        float v = 0.0f;
        if (h >= 0 && h < H && w >= 0 && w < W) {
            v = im[((long long)c * H + h) * W + w];
        }
        col[idx] = v;
    }
}

extern "C" __global__ void col2im_f32(float* im, const float* col, int C, int H, int W,
                                      int KH, int KW, int padH, int padW, int strideH,
                                      int strideW, int dilH, int dilW, int OH, int OW) {
    long long total = (long long)C * H * W;
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < total;
         idx += (long long)blockDim.x * gridDim.x) {
        int w = (int)(idx % W);
        int h = (int)((idx / W) % H);
        int c = (int)(idx / ((long long)W * H));
        float sum = 0.0f;
        for (int kh = 0; kh < KH; kh++) {
            int hh = h + padH - kh * dilH;
            if (hh < 0 || hh % strideH != 0) continue;
            int oh = hh / strideH;
            if (oh >= OH) continue;
            for (int kw = 0; kw < KW; kw++) {
                int ww = w + padW - kw * dilW;
                if (ww < 0 || ww % strideW != 0) continue;
                int ow = ww / strideW;
                if (ow >= OW) continue;
                long long row = ((long long)c * KH + kh) * KW + kw;
                sum += col[(row * OH + oh) * OW + ow];
            }
        }
        im[idx] = sum;
    }
}
