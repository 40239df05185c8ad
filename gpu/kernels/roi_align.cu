// RoIAlign forward and backward over NCHW float32 features.
//
// Reference: torchvision.ops.roi_align (Mask R-CNN's RoIAlign, with the
// aligned switch of Detectron2: aligned=1 shifts box corners by -0.5 pixel
// and allows boxes smaller than a pixel); CPU twin in
// gpu/cpu_roi_align_test.go.
//
// rois is K×5: (batch index, x1, y1, x2, y2) in input-image coordinates,
// scaled by spatialScale (1/stride of the feature map). Output is
// [K, C, PH, PW]. Each bin averages a grid of bilinear samples: samplingRatio
// per side when > 0, else ceil(roi size / pooled size) (adaptive, 0).
// Samples more than one pixel outside the map read 0; samples in the border
// band are clamped, as in torchvision.
//
// Launch contract: 1-D grid-stride over K*C*PH*PW, any grid/block. The
// backward pass ACCUMULATES into dinput with atomicAdd (the caller zeroes it
// first); its summation order is not fixed, so results may differ in the
// last bits between runs.

__device__ __forceinline__ void roi_box(const float* roi, float spatialScale, int aligned,
                                        float* x1, float* y1, float* rw, float* rh) {
    float off = aligned ? 0.5f : 0.0f;
    *x1 = roi[1] * spatialScale - off;
    *y1 = roi[2] * spatialScale - off;
    float x2 = roi[3] * spatialScale - off;
    float y2 = roi[4] * spatialScale - off;
    *rw = x2 - *x1;
    *rh = y2 - *y1;
    if (!aligned) {
        // Legacy behaviour: force malformed boxes to be at least 1x1.
        *rw = fmaxf(*rw, 1.0f);
        *rh = fmaxf(*rh, 1.0f);
    }
}

// bilinear_weights computes the four taps of a sample at (y, x). It returns
// false when the sample lies outside [-1, H] x [-1, W] and contributes 0.
__device__ __forceinline__ bool bilinear_weights(int H, int W, float y, float x, int* i00,
                                                 int* i01, int* i10, int* i11, float* w00,
                                                 float* w01, float* w10, float* w11) {
    if (y < -1.0f || y > (float)H || x < -1.0f || x > (float)W) {
        return false;
    }
    if (y <= 0.0f) y = 0.0f;
    if (x <= 0.0f) x = 0.0f;
    int y0 = (int)y, x0 = (int)x, y1, x1;
    if (y0 >= H - 1) {
        y1 = y0 = H - 1;
        y = (float)y0;
    } else {
        y1 = y0 + 1;
    }
    if (x0 >= W - 1) {
        x1 = x0 = W - 1;
        x = (float)x0;
    } else {
        x1 = x0 + 1;
    }
    float ly = y - (float)y0, lx = x - (float)x0;
    float hy = 1.0f - ly, hx = 1.0f - lx;
    *i00 = y0 * W + x0;
    *i01 = y0 * W + x1;
    *i10 = y1 * W + x0;
    *i11 = y1 * W + x1;
    *w00 = hy * hx;
    *w01 = hy * lx;
    *w10 = ly * hx;
    *w11 = ly * lx;
    return true;
}

extern "C" __global__ void roi_align_fwd_f32(float* out, const float* input, const float* rois,
                                             int K, int C, int H, int W, int PH, int PW,
                                             float spatialScale, int samplingRatio, int aligned) {
    long long total = (long long)K * C * PH * PW;
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < total;
         idx += (long long)blockDim.x * gridDim.x) {
        int pw = (int)(idx % PW);
        int ph = (int)((idx / PW) % PH);
        int c = (int)((idx / ((long long)PW * PH)) % C);
        long long k = idx / ((long long)PW * PH * C);
        const float* roi = rois + k * 5;
        int b = (int)roi[0];
        float x1, y1, rw, rh;
        roi_box(roi, spatialScale, aligned, &x1, &y1, &rw, &rh);
        float bh = rh / (float)PH, bw = rw / (float)PW;
        int gh = samplingRatio > 0 ? samplingRatio : (int)ceilf(rh / (float)PH);
        int gw = samplingRatio > 0 ? samplingRatio : (int)ceilf(rw / (float)PW);
        float count = (float)max(gh * gw, 1);
        const float* plane = input + ((long long)b * C + c) * H * W;
        float sum = 0.0f;
        for (int iy = 0; iy < gh; iy++) {
            float y = y1 + ph * bh + ((float)iy + 0.5f) * bh / (float)gh;
            for (int ix = 0; ix < gw; ix++) {
                float x = x1 + pw * bw + ((float)ix + 0.5f) * bw / (float)gw;
                int i00, i01, i10, i11;
                float w00, w01, w10, w11;
                if (!bilinear_weights(H, W, y, x, &i00, &i01, &i10, &i11, &w00, &w01, &w10,
                                      &w11)) {
                    continue;
                }
                sum += w00 * plane[i00] + w01 * plane[i01] + w10 * plane[i10] +
                       w11 * plane[i11];
            }
        }
        out[idx] = sum / count;
    }
}

extern "C" __global__ void roi_align_bwd_f32(float* dinput, const float* dout, const float* rois,
                                             int K, int C, int H, int W, int PH, int PW,
                                             float spatialScale, int samplingRatio, int aligned) {
    long long total = (long long)K * C * PH * PW;
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < total;
         idx += (long long)blockDim.x * gridDim.x) {
        int pw = (int)(idx % PW);
        int ph = (int)((idx / PW) % PH);
        int c = (int)((idx / ((long long)PW * PH)) % C);
        long long k = idx / ((long long)PW * PH * C);
        const float* roi = rois + k * 5;
        int b = (int)roi[0];
        float x1, y1, rw, rh;
        roi_box(roi, spatialScale, aligned, &x1, &y1, &rw, &rh);
        float bh = rh / (float)PH, bw = rw / (float)PW;
        int gh = samplingRatio > 0 ? samplingRatio : (int)ceilf(rh / (float)PH);
        int gw = samplingRatio > 0 ? samplingRatio : (int)ceilf(rw / (float)PW);
        float count = (float)max(gh * gw, 1);
        float g = dout[idx] / count;
        float* plane = dinput + ((long long)b * C + c) * H * W;
        for (int iy = 0; iy < gh; iy++) {
            float y = y1 + ph * bh + ((float)iy + 0.5f) * bh / (float)gh;
            for (int ix = 0; ix < gw; ix++) {
                float x = x1 + pw * bw + ((float)ix + 0.5f) * bw / (float)gw;
                int i00, i01, i10, i11;
                float w00, w01, w10, w11;
                if (!bilinear_weights(H, W, y, x, &i00, &i01, &i10, &i11, &w00, &w01, &w10,
                                      &w11)) {
                    continue;
                }
                atomicAdd(plane + i00, g * w00);
                atomicAdd(plane + i01, g * w01);
                atomicAdd(plane + i10, g * w10);
                atomicAdd(plane + i11, g * w11);
            }
        }
    }
}
