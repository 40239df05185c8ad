// Sigmoid focal loss (RetinaNet) over rows of N×K float32 logits with int32
// labels.
//
// Reference: torchvision.ops.sigmoid_focal_loss summed over each row's K
// classes; tensor.CPU.SigmoidFocalLoss (tensor/cpu_focal.go) is the host
// implementation, gpu/cpu_focal_test.go the CPU twin of this file.
//
// Labels: label[i] in [0,K) makes column label[i] the row's one positive
// target, label[i] >= K (background) makes every target 0, label[i] < 0
// (ignored) gives loss 0 and gradient 0. Per element, with p = sigmoid(x),
// pt = p or 1-p and at = alpha or 1-alpha for target 1 or 0:
// -at * (1-pt)^gamma * log(pt); alpha < 0 drops at, as torchvision.
//
// Forward: loss[i] = sum over j of the elements of row i.
// Backward: dlogits[i,j] = dloss[i] * d(element)/dx[i,j]; the derivative is
// recomputed from the logits, so the forward pass keeps no N×K buffer.
//
// Launch contract: 1-D grid-stride, any grid/block; fwd runs one thread per
// row (K is small: classes), bwd one thread per element of N*K.

// focal_elem returns one element's loss and its derivative in the logit x
// (target 1 when pos). The target-0 terms are the target-1 terms at -x.
// log q and log(1-q), q = sigmoid(x), come from one exp and one log1p, so
// saturated logits stay finite; gamma 2 (RetinaNet's) avoids powf.
__device__ __forceinline__ void focal_elem(float x, bool pos, float gamma, float alpha,
                                           float* loss, float* dloss) {
    float w = 1.0f;
    if (alpha >= 0.0f) {
        w = pos ? alpha : 1.0f - alpha;
    }
    if (!pos) {
        x = -x;
    }
    float sp = log1pf(expf(-fabsf(x)));
    float logq = x < 0.0f ? x - sp : -sp;
    float log1mq = x < 0.0f ? -sp : -x - sp;
    float q = expf(logq);
    float m = expf(log1mq);
    float mg = gamma == 2.0f ? m * m : powf(m, gamma);
    *loss = -w * mg * logq;
    float d = w * mg * (gamma * q * logq - m);
    *dloss = pos ? d : -d;
}

extern "C" __global__ void sigmoid_focal_fwd_f32(float* loss, const float* logits,
                                                 const int* labels, int N, int K, float gamma,
                                                 float alpha) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < N;
         i += (long long)blockDim.x * gridDim.x) {
        int lbl = labels[i];
        float s = 0.0f;
        if (lbl >= 0) {
            const float* x = logits + i * K;
            for (int j = 0; j < K; j++) {
                float l, d;
                focal_elem(x[j], j == lbl, gamma, alpha, &l, &d);
                s += l;
            }
        }
        loss[i] = s;
    }
}

extern "C" __global__ void sigmoid_focal_bwd_f32(float* dlogits, const float* logits,
                                                 const int* labels, const float* dloss, int N,
                                                 int K, float gamma, float alpha) {
    long long total = (long long)N * K;
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < total;
         idx += (long long)blockDim.x * gridDim.x) {
        long long i = idx / K;
        int j = (int)(idx - i * K);
        int lbl = labels[i];
        float g = 0.0f;
        if (lbl >= 0) {
            float l, d;
            focal_elem(logits[idx], j == lbl, gamma, alpha, &l, &d);
            g = dloss[i] * d;
        }
        dlogits[idx] = g;
    }
}
