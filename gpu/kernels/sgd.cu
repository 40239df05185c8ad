// SGD with momentum and L2 weight decay, in place, float32.
//
// Reference: torch.optim.SGD (dampening 0, nesterov off; MMDetection's
// default optimizer):
//   g   = grad + weightDecay*param
//   buf = firstStep ? g : momentum*buf + g
//   param -= lr*buf
// CPU twin in gpu/cpu_ref_sgd.go.
//
// Launch contract: 1-D grid-stride over n, any grid/block.

extern "C" __global__ void sgd_momentum_f32(float* param, float* buf, const float* grad, float lr,
                                            float momentum, float weightDecay, int firstStep,
                                            int n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)blockDim.x * gridDim.x) {
        float p = param[i];
        float g = grad[i] + weightDecay * p;
        float b = firstStep ? g : momentum * buf[i] + g;
        buf[i] = b;
        param[i] = p - lr * b;
    }
}
