// Batch normalisation over NCHW float32 tensors, per channel.
//
// Reference: PyTorch's batch_norm backward in training mode (biased batch
// variance); CPU twin in gpu/cpu_batchnorm_test.go. M = N*H*W values per
// channel.
//
// The channel_* kernels are the pieces tensor.Device composes the batch
// norm forward from (ChannelMeanVar, ChannelAffine, ChannelAffineBackward);
// reference tensor/cpu_norm.go.
//
// Launch contract:
//   bn_train_bwd_f32, channel_mean_var_f32, channel_affine_bwd_f32:
//     gridDim.x == C (one block per channel), blockDim.x == 256 exactly.
//   channel_affine_f32: 1-D grid-stride over N*C*HW, any grid/block.

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

// Backward of y = (x-mean)*invstd*gamma + beta with batch statistics
// (saveMean, saveInvStd from the forward). With xhat = (x-mean)*invstd:
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
