// Smooth-L1 (Huber with threshold beta) loss, elementwise, float32.
//
// Reference: PyTorch's smooth_l1_loss / MMDetection's smooth_l1_loss:
//   d = pred - target
//   loss = |d| < beta ? 0.5*d*d/beta : |d| - 0.5*beta
// beta == 0 is the L1 loss. CPU twin in gpu/cpu_ref_smooth_l1.go.
//
// Forward writes the unreduced, weighted loss; weight may be NULL (ones).
// Backward: dpred = scale * weight * (|d| < beta ? d/beta : sign(d)), where
// scale is the upstream gradient of the reduced loss over its normaliser.
//
// Launch contract: 1-D grid-stride over n, any grid/block.

extern "C" __global__ void smooth_l1_fwd_f32(float* loss, const float* pred, const float* target,
                                             const float* weight, float beta, int n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)blockDim.x * gridDim.x) {
        float d = pred[i] - target[i];
        float ad = fabsf(d);
        float l = ad < beta ? 0.5f * d * d / beta : ad - 0.5f * beta;
        if (weight != 0) {
            l *= weight[i];
        }
        loss[i] = l;
    }
}

extern "C" __global__ void smooth_l1_bwd_f32(float* dpred, const float* pred, const float* target,
                                             const float* weight, float beta, float scale,
                                             int n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)blockDim.x * gridDim.x) {
        float d = pred[i] - target[i];
        float ad = fabsf(d);
        float g;
        if (ad < beta) {
            g = d / beta;
        } else {
            g = d > 0.0f ? 1.0f : (d < 0.0f ? -1.0f : 0.0f);
        }
        if (weight != 0) {
            g *= weight[i];
        }
        dpred[i] = scale * g;
    }
}
