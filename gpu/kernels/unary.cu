// Generic elementwise unary and binary operators with their backward
// passes, selected by an op code, plus axpby.
//
// Reference: tensor.CPU's Unary, UnaryBackward, Binary, BinaryBackward and
// Axpby (tensor/cpu_elementwise.go); the op codes are tensor.UnaryOp and
// tensor.BinaryOp values (gpu.Unary*/gpu.Binary* mirror them). CPU twin in
// gpu/cpu_unary_test.go.
//
// Launch contract: 1-D grid-stride over n, any grid/block. y may alias x
// (or a, b). In the backward kernels x or y may be NULL when the op does not
// read it, and da or db may be NULL when not wanted.

#define OP_RELU 0
#define OP_SIGMOID 1
#define OP_EXP 2
#define OP_LOG 3
#define OP_NEG 4
#define OP_ABS 5
#define OP_SQRT 6
#define OP_RSQRT 7
#define OP_SCALE 8
#define OP_ADD_SCALAR 9
#define OP_SQUARE 10
#define OP_SMOOTH_L1 11
#define OP_TANH 12

#define BOP_ADD 0
#define BOP_SUB 1
#define BOP_MUL 2
#define BOP_DIV 3
#define BOP_BCE_LOGITS 4

__device__ __forceinline__ float sigmoidf_(float v) {
    if (v >= 0.0f) {
        return 1.0f / (1.0f + expf(-v));
    }
    float e = expf(v);
    return e / (1.0f + e);
}

__device__ __forceinline__ float signf_(float v) {
    return v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : 0.0f);
}

__device__ __forceinline__ float unary_op(int op, float p, float v) {
    switch (op) {
        case OP_RELU: return v > 0.0f ? v : 0.0f;
        case OP_SIGMOID: return sigmoidf_(v);
        case OP_EXP: return expf(v);
        case OP_LOG: return logf(v);
        case OP_NEG: return -v;
        case OP_ABS: return fabsf(v);
        case OP_SQRT: return sqrtf(v);
        case OP_RSQRT: return 1.0f / sqrtf(v + p);
        case OP_SCALE: return p * v;
        case OP_ADD_SCALAR: return v + p;
        case OP_SQUARE: return v * v;
        case OP_SMOOTH_L1: {
            float a = fabsf(v);
            return a < p ? 0.5f * a * a / p : a - 0.5f * p;
        }
        case OP_TANH: return tanhf(v);
    }
    return __int_as_float(0x7fc00000);  // unknown op: NaN, never silent
}

// y[i] = op(x[i]; p)
extern "C" __global__ void unary_f32(float* y, const float* x, int op, float p, int n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)blockDim.x * gridDim.x) {
        y[i] = unary_op(op, p, x[i]);
    }
}

// dx[i] = dy[i] * op'(x[i]; p), using the forward output y where the
// derivative is cheaper from it (sigmoid, exp, sqrt, rsqrt, tanh).
extern "C" __global__ void unary_bwd_f32(float* dx, const float* x, const float* y,
                                         const float* dy, int op, float p, int n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)blockDim.x * gridDim.x) {
        float g = dy[i], d;
        switch (op) {
            case OP_RELU: d = x[i] > 0.0f ? g : 0.0f; break;
            case OP_SIGMOID: d = g * y[i] * (1.0f - y[i]); break;
            case OP_EXP: d = g * y[i]; break;
            case OP_LOG: d = g / x[i]; break;
            case OP_NEG: d = -g; break;
            case OP_ABS: d = g * signf_(x[i]); break;
            case OP_SQRT: d = g * 0.5f / y[i]; break;
            case OP_RSQRT: d = g * -0.5f * y[i] * y[i] * y[i]; break;
            case OP_SCALE: d = g * p; break;
            case OP_ADD_SCALAR: d = g; break;
            case OP_SQUARE: d = 2.0f * g * x[i]; break;
            case OP_SMOOTH_L1: {
                float v = x[i];
                d = fabsf(v) < p ? g * v / p : g * signf_(v);
                break;
            }
            case OP_TANH: d = g * (1.0f - y[i] * y[i]); break;
            default: d = __int_as_float(0x7fc00000);
        }
        dx[i] = d;
    }
}

__device__ __forceinline__ float binary_op(int op, float a, float b) {
    switch (op) {
        case BOP_ADD: return a + b;
        case BOP_SUB: return a - b;
        case BOP_MUL: return a * b;
        case BOP_DIV: return a / b;
        case BOP_BCE_LOGITS:
            return fmaxf(a, 0.0f) - a * b + log1pf(expf(-fabsf(a)));
    }
    return __int_as_float(0x7fc00000);
}

// y[i] = op(a[i], b[i])
extern "C" __global__ void binary_f32(float* y, const float* a, const float* b, int op, int n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)blockDim.x * gridDim.x) {
        y[i] = binary_op(op, a[i], b[i]);
    }
}

// da[i] = dy[i]*d op/da, db[i] = dy[i]*d op/db (either may be NULL; db must
// be NULL for BCE with logits, whose target has no gradient).
extern "C" __global__ void binary_bwd_f32(float* da, float* db, const float* a, const float* b,
                                          const float* dy, int op, int n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)blockDim.x * gridDim.x) {
        float g = dy[i], ga, gb;
        switch (op) {
            case BOP_ADD: ga = g; gb = g; break;
            case BOP_SUB: ga = g; gb = -g; break;
            case BOP_MUL: ga = g * b[i]; gb = g * a[i]; break;
            case BOP_DIV: ga = g / b[i]; gb = -g * a[i] / (b[i] * b[i]); break;
            case BOP_BCE_LOGITS: ga = g * (sigmoidf_(a[i]) - b[i]); gb = 0.0f; break;
            default: ga = gb = __int_as_float(0x7fc00000);
        }
        if (da != 0) da[i] = ga;
        if (db != 0) db[i] = gb;
    }
}

// y = alpha*x + beta*y; beta == 0 means y is not read (NaNs in y vanish).
extern "C" __global__ void axpby_f32(float* y, const float* x, float alpha, float beta, int n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)blockDim.x * gridDim.x) {
        float v = alpha * x[i];
        if (beta != 0.0f) {
            v += beta * y[i];
        }
        y[i] = v;
    }
}
