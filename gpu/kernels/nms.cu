// Non-maximum suppression, the IoU bitmask step.
//
// Reference: torchvision.ops.nms (CUDA version): boxes are sorted by score,
// descending, by the host; for every pair i < j this kernel sets bit j of
// row i when IoU(i, j) > iouThreshold. The host then walks the rows in
// order, keeping a box unless an earlier kept box suppressed it (see
// gpu/nms.go); CPU twin in gpu/cpu_ref_nms.go. Boxes are (x1, y1, x2, y2)
// with area (x2-x1)*(y2-y1), no +1 (torchvision and MMCV's offset 0).
//
// mask is N × colBlocks uint64 words, colBlocks = ceil(N/64), row-major:
// word (i, cb) holds the bits for boxes cb*64 .. cb*64+63.
//
// Launch contract: grid (colBlocks, colBlocks), blockDim.x == 64. Blocks
// below the diagonal return at once and write nothing, so the caller
// zeroes mask before the launch.

#define NMS_BLOCK 64

__device__ __forceinline__ float nms_iou(const float* a, const float* b) {
    float l = fmaxf(a[0], b[0]), t = fmaxf(a[1], b[1]);
    float r = fminf(a[2], b[2]), d = fminf(a[3], b[3]);
    float w = fmaxf(r - l, 0.0f), h = fmaxf(d - t, 0.0f);
    float inter = w * h;
    float areaA = (a[2] - a[0]) * (a[3] - a[1]);
    float areaB = (b[2] - b[0]) * (b[3] - b[1]);
    return inter / (areaA + areaB - inter);
}

extern "C" __global__ void nms_mask(unsigned long long* mask, const float* boxes, int N,
                                    float iouThreshold) {
    int rowBlock = blockIdx.y, colBlock = blockIdx.x;
    if (rowBlock > colBlock) {
        return;
    }
    int colBlocks = (N + NMS_BLOCK - 1) / NMS_BLOCK;
    int rowSize = min(N - rowBlock * NMS_BLOCK, NMS_BLOCK);
    int colSize = min(N - colBlock * NMS_BLOCK, NMS_BLOCK);
    __shared__ float cols[NMS_BLOCK * 4];
    if (threadIdx.x < colSize) {
        const float* src = boxes + (colBlock * NMS_BLOCK + threadIdx.x) * 4;
        cols[threadIdx.x * 4 + 0] = src[0];
        cols[threadIdx.x * 4 + 1] = src[1];
        cols[threadIdx.x * 4 + 2] = src[2];
        cols[threadIdx.x * 4 + 3] = src[3];
    }
    __syncthreads();
    if (threadIdx.x < rowSize) {
        int i = rowBlock * NMS_BLOCK + threadIdx.x;
        const float* me = boxes + i * 4;
        int start = rowBlock == colBlock ? threadIdx.x + 1 : 0;
        unsigned long long bits = 0;
        for (int j = start; j < colSize; j++) {
            if (nms_iou(me, cols + j * 4) > iouThreshold) {
                bits |= 1ULL << j;
            }
        }
        mask[(long long)i * colBlocks + colBlock] = bits;
    }
}
