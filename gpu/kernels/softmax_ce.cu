// Softmax cross-entropy over rows of N×K float32 logits with int32 labels.
//
// Reference: PyTorch's cross_entropy (log_softmax + nll_loss) with
// ignore_index and per-row weights; CPU twin in gpu/cpu_softmax_ce_test.go.
//
// Forward: prob[i,:] = softmax(logits[i,:]) (kept for the backward pass) and
// loss[i] = weight[i] * (logsumexp(logits[i,:]) - logits[i,label[i]]),
// 0 when label[i] == ignoreIndex, NaN when the label is out of [0,K)
// (the host checks labels; NaN makes a bad one visible). weight may be NULL
// (all ones). The host reduces loss (sum, or mean over valid rows).
//
// Backward: dlogits[i,k] = scale * weight[i] * (prob[i,k] - [k == label[i]]),
// 0 for ignored rows; scale is the upstream gradient of the reduced loss
// divided by the normaliser (e.g. 1/valid rows for a mean).
//
// Launch contract: 1-D grid-stride, any grid/block; fwd runs one thread per
// row (K is small: classes), bwd one thread per element of N*K.

extern "C" __global__ void softmax_ce_fwd_f32(float* loss, float* prob, const float* logits,
                                              const int* labels, const float* weight, int N,
                                              int K, int ignoreIndex) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < N;
         i += (long long)blockDim.x * gridDim.x) {
        const float* l = logits + i * K;
        float* p = prob + i * K;
        float m = l[0];
        for (int k = 1; k < K; k++) {
            m = fmaxf(m, l[k]);
        }
        float s = 0.0f;
        for (int k = 0; k < K; k++) {
            float e = expf(l[k] - m);
            p[k] = e;
            s += e;
        }
        float inv = 1.0f / s;
        for (int k = 0; k < K; k++) {
            p[k] *= inv;
        }
        int lbl = labels[i];
        float out;
        if (lbl == ignoreIndex) {
            out = 0.0f;
        } else if (lbl < 0 || lbl >= K) {
            out = __int_as_float(0x7fc00000);  // NaN: invalid label
        } else {
            out = (m + logf(s)) - l[lbl];
            if (weight != 0) {
                out *= weight[i];
            }
        }
        loss[i] = out;
    }
}

extern "C" __global__ void softmax_ce_bwd_f32(float* dlogits, const float* prob,
                                              const int* labels, const float* weight, int N,
                                              int K, int ignoreIndex, float scale) {
    long long total = (long long)N * K;
    for (long long idx = blockIdx.x * (long long)blockDim.x + threadIdx.x; idx < total;
         idx += (long long)blockDim.x * gridDim.x) {
        long long i = idx / K;
        int k = (int)(idx - i * K);
        int lbl = labels[i];
        float g = 0.0f;
        if (lbl != ignoreIndex) {
            float w = weight != 0 ? weight[i] : 1.0f;
            g = scale * w * (prob[idx] - (k == lbl ? 1.0f : 0.0f));
        }
        dlogits[idx] = g;
    }
}
