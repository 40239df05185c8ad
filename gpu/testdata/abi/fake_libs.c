// fake_libs.c: stand-ins for the cuDNN and NCCL functions detflow binds,
// compiled into a shared library by gpu/abi_test.go. Each logs the
// arguments it received as C sees them, so the test checks that purego
// passes Go's arguments (ints, size_t, float pointers, struct arrays) in
// the order and widths the real C prototypes declare.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static char log_buf[1 << 16];
static size_t log_len;
static uintptr_t next_handle = 0x100;

static void logf_(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(log_buf + log_len, sizeof log_buf - log_len, fmt, ap);
	va_end(ap);
	if (n > 0 && log_len + (size_t)n < sizeof log_buf) log_len += (size_t)n;
}

const char *fake_log(void) { return log_buf; }
void fake_reset(void) { log_len = 0; log_buf[0] = 0; next_handle = 0x100; }

static void *handle(void) { return (void *)(next_handle++); }

// ---- cuDNN (cudnn_graph.h, cudnn_ops.h, cudnn_cnn.h) ----
typedef struct {
	int algo, status;
	float time;
	size_t memory;
	int determinism, mathType;
	int reserved[3];
} perf_t;

size_t cudnnGetVersion(void) { return 90600; }
const char *cudnnGetErrorString(int s) { return s ? "CUDNN_STATUS_FAKE_ERROR" : "CUDNN_STATUS_SUCCESS"; }
int cudnnCreate(void **h) { *h = handle(); logf_("create %p\n", *h); return 0; }
int cudnnDestroy(void *h) { logf_("destroy %p\n", h); return 0; }
int cudnnSetStream(void *h, void *s) { logf_("stream %p %p\n", h, s); return 0; }
int cudnnCreateTensorDescriptor(void **d) { *d = handle(); return 0; }
int cudnnDestroyTensorDescriptor(void *d) { logf_("destroy tensor %p\n", d); return 0; }
int cudnnSetTensor4dDescriptor(void *d, int format, int dtype, int n, int c, int h, int w) {
	logf_("tensor %p format %d type %d [%d %d %d %d]\n", d, format, dtype, n, c, h, w);
	return 0;
}
int cudnnCreateFilterDescriptor(void **d) { *d = handle(); return 0; }
int cudnnDestroyFilterDescriptor(void *d) { logf_("destroy filter %p\n", d); return 0; }
int cudnnSetFilter4dDescriptor(void *d, int dtype, int format, int k, int c, int h, int w) {
	logf_("filter %p type %d format %d [%d %d %d %d]\n", d, dtype, format, k, c, h, w);
	return 0;
}
int cudnnCreateConvolutionDescriptor(void **d) { *d = handle(); return 0; }
int cudnnDestroyConvolutionDescriptor(void *d) { logf_("destroy conv %p\n", d); return 0; }
int cudnnSetConvolution2dDescriptor(void *d, int ph, int pw, int u, int v, int dh, int dw, int mode, int compute) {
	logf_("conv %p pad %d %d stride %d %d dilation %d %d mode %d compute %d\n", d, ph, pw, u, v, dh, dw, mode, compute);
	return 0;
}
int cudnnSetConvolutionMathType(void *d, int m) { logf_("math %p %d\n", d, m); return 0; }

// The ranking: a fast non-deterministic algorithm, a deterministic one
// whose workspace is too big, the deterministic pick (workspace 4096), a
// failed one. A misread struct layout picks another.
static int rank(const char *dir, int requested, int *returned, perf_t *p) {
	perf_t r[4] = {
		{.algo = 5, .status = 0, .time = 0.1f, .memory = 0, .determinism = 0, .mathType = 3},
		{.algo = 1, .status = 0, .time = 0.2f, .memory = (size_t)1 << 40, .determinism = 1, .mathType = 3},
		{.algo = 2, .status = 0, .time = 0.3f, .memory = 4096, .determinism = 1, .mathType = 3},
		{.algo = 3, .status = 3000, .time = -1, .memory = 0, .determinism = 1, .mathType = 3},
	};
	int n = requested < 4 ? requested : 4;
	memcpy(p, r, (size_t)n * sizeof(perf_t));
	*returned = n;
	logf_("rank %s %d\n", dir, requested);
	return 0;
}
static size_t work_of(int algo) { return algo == 1 ? (size_t)1 << 40 : algo == 2 ? 4096 : 0; }

int cudnnGetConvolutionForwardAlgorithm_v7(void *h, void *x, void *w, void *c, void *y, int req, int *ret, perf_t *p) {
	return rank("forward", req, ret, p);
}
int cudnnGetConvolutionBackwardDataAlgorithm_v7(void *h, void *w, void *dy, void *c, void *dx, int req, int *ret, perf_t *p) {
	return rank("data", req, ret, p);
}
int cudnnGetConvolutionBackwardFilterAlgorithm_v7(void *h, void *x, void *dy, void *c, void *dw, int req, int *ret, perf_t *p) {
	return rank("filter", req, ret, p);
}
int cudnnGetConvolutionForwardWorkspaceSize(void *h, void *x, void *w, void *c, void *y, int algo, size_t *s) {
	*s = work_of(algo);
	return 0;
}
int cudnnGetConvolutionBackwardDataWorkspaceSize(void *h, void *w, void *dy, void *c, void *dx, int algo, size_t *s) {
	*s = work_of(algo);
	return 0;
}
int cudnnGetConvolutionBackwardFilterWorkspaceSize(void *h, void *x, void *dy, void *c, void *dw, int algo, size_t *s) {
	*s = work_of(algo);
	return 0;
}
static int run(const char *op, void *h, const float *alpha, void *ad, void *a, void *bd, void *b, void *c, int algo,
	       void *ws, size_t wsSize, const float *beta, void *od, void *o) {
	logf_("%s %p alpha %g %p %p %p %p conv %p algo %d ws %s %zu beta %g %p %p\n", op, h, *alpha, ad, a, bd, b, c, algo,
	      ws ? "set" : "null", wsSize, *beta, od, o);
	return 0;
}
int cudnnConvolutionForward(void *h, const float *alpha, void *xd, void *x, void *wd, void *w, void *c, int algo,
			    void *ws, size_t wss, const float *beta, void *yd, void *y) {
	return run("forward", h, alpha, xd, x, wd, w, c, algo, ws, wss, beta, yd, y);
}
int cudnnConvolutionBackwardData(void *h, const float *alpha, void *wd, void *w, void *dyd, void *dy, void *c, int algo,
				 void *ws, size_t wss, const float *beta, void *dxd, void *dx) {
	return run("data", h, alpha, wd, w, dyd, dy, c, algo, ws, wss, beta, dxd, dx);
}
int cudnnConvolutionBackwardFilter(void *h, const float *alpha, void *xd, void *x, void *dyd, void *dy, void *c, int algo,
				   void *ws, size_t wss, const float *beta, void *dwd, void *dw) {
	return run("filter", h, alpha, xd, x, dyd, dy, c, algo, ws, wss, beta, dwd, dw);
}

// ---- NCCL (nccl.h) ----
int ncclGetVersion(int *v) { *v = 22703; return 0; }
const char *ncclGetErrorString(int r) { return "fake nccl error"; }
int ncclCommInitAll(void **comms, int ndev, const int *devs) {
	logf_("init %d:", ndev);
	for (int i = 0; i < ndev; i++) {
		comms[i] = handle();
		logf_(" %d->%p", devs[i], comms[i]);
	}
	logf_("\n");
	return 0;
}
int ncclCommDestroy(void *c) { logf_("destroy comm %p\n", c); return 0; }
int ncclGroupStart(void) { logf_("group start\n"); return 0; }
int ncclGroupEnd(void) { logf_("group end\n"); return 0; }
int ncclAllReduce(const void *s, void *r, size_t n, int t, int op, void *c, void *st) {
	logf_("allreduce %p %p %zu type %d op %d %p %p\n", s, r, n, t, op, c, st);
	return 0;
}
int ncclReduce(const void *s, void *r, size_t n, int t, int op, int root, void *c, void *st) {
	logf_("reduce %p %p %zu type %d op %d root %d %p %p\n", s, r, n, t, op, root, c, st);
	return n == 13 ? 5 : 0; // 13 floats: an ncclInvalidUsage, for the error path
}
int ncclBroadcast(const void *s, void *r, size_t n, int t, int root, void *c, void *st) {
	logf_("broadcast %p %p %zu type %d root %d %p %p\n", s, r, n, t, root, c, st);
	return 0;
}
