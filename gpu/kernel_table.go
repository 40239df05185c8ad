package gpu

// kernelModule is one gpu/kernels/<Name>.cu file and the extern "C" kernels
// it defines; the PTX of the module must declare exactly these entries.
type kernelModule struct {
	Name    string
	Entries []string
}

// kernelModules lists every module and kernel the Go launchers use. A test
// checks it against the .entry names of the PTX when the PTX exists.
func kernelModules() []kernelModule {
	return []kernelModule{
		{modElementwise, []string{kAdd, kFill}},
		{modReduce, []string{kSumPartial, kSumSqPartial}},
		{modIm2col, []string{kIm2col, kCol2im}},
		{modUnary, []string{kUnary, kUnaryBwd, kBinary, kBinaryBwd, kAxpby}},
		{modBatchNorm, []string{kBNTrainBwd, kChannelMeanVar, kChannelAffine, kChannelAffineBwd}},
		{modMaxPool, []string{kMaxPoolFwd, kMaxPoolBwd}},
		{modUpsample, []string{kUpsampleFwd, kUpsampleBwd}},
		{modSoftmaxCE, []string{kSoftmaxCEFwd, kSoftmaxCEBwd}},
		{modRoIAlign, []string{kRoIAlignFwd, kRoIAlignBwd}},
		{modLayout, []string{kStridedCopy, kBroadcastBinary, kReduceSum}},
		{modIndex, []string{kIndexSelect, kIndexAdd, kGatherRows, kScatterAddRows}},
		{modSoftmax, []string{kSoftmaxRows, kSoftmaxRowsBwd}},
		{modAvgPool, []string{kAvgPoolFwd, kAvgPoolBwd, kAdaptiveAvgPoolFwd, kAdaptiveAvgPoolBwd}},
		{modFocal, []string{kFocalFwd, kFocalBwd}},
	}
}

// Module names (gpu/kernels/<name>.cu).
const (
	modElementwise = "elementwise"
	modUnary       = "unary"
	modReduce      = "reduce"
	modIm2col      = "im2col"
	modBatchNorm   = "batchnorm"
	modMaxPool     = "maxpool"
	modUpsample    = "upsample"
	modSoftmaxCE   = "softmax_ce"
	modRoIAlign    = "roi_align"
	modLayout      = "layout"
	modIndex       = "index"
	modSoftmax     = "softmax"
	modAvgPool     = "avgpool"
	modFocal       = "focal"
)

// Kernel entry names (extern "C", so PTX names are not mangled).
const (
	kAdd          = "add_f32"
	kFill         = "fill_f32"
	kSumPartial   = "sum_partial_f32"
	kSumSqPartial = "sumsq_partial_f32"
	kIm2col       = "im2col_f32"
	kCol2im       = "col2im_f32"
	kBNTrainBwd   = "bn_train_bwd_f32"
	kMaxPoolFwd   = "maxpool_fwd_f32"
	kMaxPoolBwd   = "maxpool_bwd_f32"
	kUpsampleFwd  = "upsample_nearest_fwd_f32"
	kUpsampleBwd  = "upsample_nearest_bwd_f32"
	kSoftmaxCEFwd = "softmax_ce_fwd_f32"
	kSoftmaxCEBwd = "softmax_ce_bwd_f32"
	kRoIAlignFwd  = "roi_align_fwd_f32"
	kRoIAlignBwd  = "roi_align_bwd_f32"

	kUnary            = "unary_f32"
	kUnaryBwd         = "unary_bwd_f32"
	kBinary           = "binary_f32"
	kBinaryBwd        = "binary_bwd_f32"
	kAxpby            = "axpby_f32"
	kChannelMeanVar   = "channel_mean_var_f32"
	kChannelAffine    = "channel_affine_f32"
	kChannelAffineBwd = "channel_affine_bwd_f32"

	kStridedCopy     = "strided_copy_f32"
	kBroadcastBinary = "broadcast_binary_f32"
	kReduceSum       = "reduce_sum_f32"
	kIndexSelect     = "index_select_f32"
	kIndexAdd        = "index_add_f32"
	kGatherRows      = "gather_rows_f32"
	kScatterAddRows  = "scatter_add_rows_f32"
	kSoftmaxRows     = "softmax_rows_f32"
	kSoftmaxRowsBwd  = "softmax_rows_bwd_f32"

	kAvgPoolFwd         = "avgpool_fwd_f32"
	kAvgPoolBwd         = "avgpool_bwd_f32"
	kAdaptiveAvgPoolFwd = "adaptive_avgpool_fwd_f32"
	kAdaptiveAvgPoolBwd = "adaptive_avgpool_bwd_f32"

	kFocalFwd = "sigmoid_focal_fwd_f32"
	kFocalBwd = "sigmoid_focal_bwd_f32"
)

// moduleOf returns the module that defines a kernel, or "".
func moduleOf(kernel string) string {
	for _, m := range kernelModules() {
		for _, e := range m.Entries {
			if e == kernel {
				return m.Name
			}
		}
	}
	return ""
}
