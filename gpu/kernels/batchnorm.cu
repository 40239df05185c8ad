// Batch normalisation over NCHW float32 tensors, per channel.
//
// Reference: PyTorch's batch_norm (training: biased batch variance to
// normalise, unbiased variance M/(M-1) into the running estimate,
// running = (1-momentum)*running + momentum*batch); CPU twin in
// gpu/cpu_ref_batchnorm.go. M = N*H*W values per channel.
//
// The channel_* kernels are the pieces tensor.Device composes batch norm
// from (ChannelMeanVar, ChannelAffine, ChannelAffineBackward); reference
// tensor/cpu_norm.go.
//
// Launch contract:
//   bn_train_fwd_f32, bn_train_bwd_f32, channel_mean_var_f32,
//   channel_affine_bwd_f32: gridDim.x == C (one block per channel),
//     blockDim.x == 256 exactly.
//   bn_infer_f32, channel_affine_f32: 1-D grid-stride over N*C*HW, any
//     grid/block.

#define BN_THREADS 256

__device__ float bn_block_sum(float v) {
    __shared__ float buf[BN_THREADS];
    buf[threadIdx.x] = v;
    __syncthreads();
    for (int s = BN_THREADS / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) {
            buf[threadIdx.x] += buf[threadIdx.x + s];
        }
        __syncthreads();
    }
    float r = buf[0];
    __syncthreads();
    return r;
}

// Index of the i-th value (i < N*HW) of channel c.
__device__ __forceinline__ long long bn_index(long long i, int c, int C, int HW) {
    long long n = i / HW;
    long long s = i - n * HW;
    return (n * C + c) * HW + s;
}

// y = (x - mean)/sqrt(var + eps)*gamma + beta with batch statistics;
// saveMean/saveInvStd keep mean and 1/sqrt(var+eps) for the backward pass;
// runMean/runVar are updated unless runMean is NULL.
extern "C" __global__ void bn_train_fwd_f32(float* y, float* saveMean, float* saveInvStd,
                                            float* runMean, float* runVar, const float* x,
                                            const float* gamma, const float* beta, int N,
                                            int C, int HW, float eps, float momentum) {
    int c = blockIdx.x;
    long long M = (long long)N * HW;
    float acc = 0.0f;
    for (long long i = threadIdx.x; i < M; i += BN_THREADS) {
        acc += x[bn_index(i, c, C, HW)];
    }
    float mean = bn_block_sum(acc) / (float)M;
    // Second pass over the centred values: stabler than E[x^2] - E[x]^2.
    acc = 0.0f;
    for (long long i = threadIdx.x; i < M; i += BN_THREADS) {
        float d = x[bn_index(i, c, C, HW)] - mean;
        acc += d * d;
    }
    float var = bn_block_sum(acc) / (float)M;
    float invstd = 1.0f / sqrtf(var + eps);
    float g = gamma[c], b = beta[c];
    for (long long i = threadIdx.x; i < M; i += BN_THREADS) {
        long long j = bn_index(i, c, C, HW);
        y[j] = (x[j] - mean) * invstd * g + b;
    }
    if (threadIdx.x == 0) {
        saveMean[c] = mean;
        saveInvStd[c] = invstd;
        if (runMean != 0) {
            float unbiased = M > 1 ? var * (float)M / (float)(M - 1) : var;
            runMean[c] = (1.0f - momentum) * runMean[c] + momentum * mean;
            runVar[c] = (1.0f - momentum) * runVar[c] + momentum * unbiased;
        }
    }
}

// Backward of bn_train_fwd_f32. With xhat = (x-mean)*invstd:
//   dbeta  = sum(dy),  dgamma = sum(dy*xhat)            (overwritten; either
//                                                         may be NULL)
//   dx = gamma*invstd/M * (M*dy - dbeta - xhat*dgamma)  (overwritten)
extern "C" __global__ void bn_train_bwd_f32(float* dx, float* dgamma, float* dbeta,
                                            const float* dy, const float* x,
                                            const float* gamma, const float* saveMean,
                                            const float* saveInvStd, int N, int C, int HW) {
    int c = blockIdx.x;
    long long M = (long long)N * HW;
    float mean = saveMean[c], invstd = saveInvStd[c];
    float sdy = 0.0f, sdyx = 0.0f;
    for (long long i = threadIdx.x; i < M; i += BN_THREADS) {
        long long j = bn_index(i, c, C, HW);
        float g = dy[j];
        sdy += g;
        sdyx += g * (x[j] - mean) * invstd;
    }
    sdy = bn_block_sum(sdy);
    sdyx = bn_block_sum(sdyx);
    float k = gamma[c] * invstd / (float)M;
    for (long long i = threadIdx.x; i < M; i += BN_THREADS) {
        long long j = bn_index(i, c, C, HW);
        float xhat = (x[j] - mean) * invstd;
        dx[j] = k * ((float)M * dy[j] - sdy - xhat * sdyx);
    }
    if (threadIdx.x == 0) {
        if (dgamma != 0) dgamma[c] = sdyx;
        if (dbeta != 0) dbeta[c] = sdy;
    }
}

// y = (x - mean[c])/sqrt(var[c] + eps)*gamma[c] + beta[c] with given
// statistics (eval mode and frozen BN).
extern "C" __global__ void bn_infer_f32(float* y, const float* x, const float* gamma,
                                        const float* beta, const float* mean, const float* var,
                                        int N, int C, int HW, float eps) {
    long long total = (long long)N * C * HW;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
         i += (long long)blockDim.x * gridDim.x) {
        int c = (int)((i / HW) % C);
        float invstd = 1.0f / sqrtf(var[c] + eps);
        y[i] = (x[i] - mean[c]) * invstd * gamma[c] + beta[c];
    }
}

// mean[c] and biased variance[c] of x [N,C,HW] over N and HW (two passes).
extern "C" __global__ void channel_mean_var_f32(float* mean, float* var, const float* x, int N,
                                                int C, int HW) {
    int c = blockIdx.x;
    long long M = (long long)N * HW;
    float acc = 0.0f;
    for (long long i = threadIdx.x; i < M; i += BN_THREADS) {
        acc += x[bn_index(i, c, C, HW)];
    }
    float m = bn_block_sum(acc) / (float)M;
    acc = 0.0f;
    for (long long i = threadIdx.x; i < M; i += BN_THREADS) {
        float d = x[bn_index(i, c, C, HW)] - m;
        acc += d * d;
    }
    float v = bn_block_sum(acc) / (float)M;
    if (threadIdx.x == 0) {
        mean[c] = m;
        var[c] = v;
    }
}

// y[n,c,i] = x[n,c,i]*scale[c] + shift[c]; scale or shift may be NULL (1, 0).
extern "C" __global__ void channel_affine_f32(float* y, const float* x, const float* scale,
                                              const float* shift, int N, int C, int HW) {
    long long total = (long long)N * C * HW;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total;
         i += (long long)blockDim.x * gridDim.x) {
        int c = (int)((i / HW) % C);
        float a = scale != 0 ? scale[c] : 1.0f;
        float b = shift != 0 ? shift[c] : 0.0f;
        y[i] = x[i] * a + b;
    }
}

// For y = x*scale[c] + shift[c]: dx = dy*scale[c], dscale[c] = sum(dy*x),
// dshift[c] = sum(dy). Any output may be NULL; x may be NULL when dscale is;
// scale may be NULL (1).
extern "C" __global__ void channel_affine_bwd_f32(float* dx, float* dscale, float* dshift,
                                                  const float* x, const float* dy,
                                                  const float* scale, int N, int C, int HW) {
    int c = blockIdx.x;
    long long M = (long long)N * HW;
    float a = scale != 0 ? scale[c] : 1.0f;
    float sdy = 0.0f, sdyx = 0.0f;
    for (long long i = threadIdx.x; i < M; i += BN_THREADS) {
        long long j = bn_index(i, c, C, HW);
        float g = dy[j];
        sdy += g;
        if (dscale != 0) sdyx += g * x[j];
        if (dx != 0) dx[j] = g * a;
    }
    sdy = bn_block_sum(sdy);
    sdyx = bn_block_sum(sdyx);
    if (threadIdx.x == 0) {
        if (dscale != 0) dscale[c] = sdyx;
        if (dshift != 0) dshift[c] = sdy;
    }
}
