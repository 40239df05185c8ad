package nn

import "github.com/detflow/detflow/tensor"

// BatchNorm2d is PyTorch's nn.BatchNorm2d. Frozen keeps it in evaluation
// mode (running statistics) whatever SetTraining says, as MMDetection's
// norm_eval does for ImageNet-pretrained backbones; freeze its affine
// parameters separately with Freeze.
type BatchNorm2d struct {
	Weight, Bias            *tensor.Tensor
	RunningMean, RunningVar *tensor.Tensor
	// NumBatchesTracked mirrors PyTorch's int64 counter as a 1-element
	// float32 tensor so state dicts carry the same keys.
	NumBatchesTracked *tensor.Tensor
	Momentum, Eps     float32
	Frozen            bool
	training          bool
}

// NewBatchNorm2d returns a batch norm over c channels with PyTorch's
// defaults: weight 1, bias 0, running mean 0, running var 1, momentum 0.1,
// eps 1e-5, training mode.
func NewBatchNorm2d(e *tensor.Engine, c int) *BatchNorm2d {
	b := &BatchNorm2d{
		Weight:            e.NewPersistent(c).SetRequiresGrad(true),
		Bias:              e.NewPersistent(c).SetRequiresGrad(true),
		RunningMean:       e.NewPersistent(c),
		RunningVar:        e.NewPersistent(c),
		NumBatchesTracked: e.NewPersistent(1),
		Momentum:          0.1,
		Eps:               1e-5,
		training:          true,
	}
	ones := make([]float32, c)
	for i := range ones {
		ones[i] = 1
	}
	b.Weight.CopyFrom(ones)
	b.RunningVar.CopyFrom(ones)
	return b
}

// SetTraining implements Trainable.
func (b *BatchNorm2d) SetTraining(on bool) { b.training = on }

// Training reports whether Forward uses batch statistics.
func (b *BatchNorm2d) Training() bool { return b.training && !b.Frozen }

// Forward implements Layer.
func (b *BatchNorm2d) Forward(x *tensor.Tensor) *tensor.Tensor { return b.forward(x, false) }

// ForwardInPlace is Forward writing over x's buffer in eval mode where the
// backward does not need x (frozen weights; tensor.ChannelAffineInPlace):
// x must not be used again and its producer must not read its own output
// in its backward, as after a convolution.
func (b *BatchNorm2d) ForwardInPlace(x *tensor.Tensor) *tensor.Tensor { return b.forward(x, true) }

func (b *BatchNorm2d) forward(x *tensor.Tensor, inPlace bool) *tensor.Tensor {
	train := b.Training()
	if train {
		// Counted on the device: reading it back would stall a GPU once per
		// layer per step.
		buf := b.NumBatchesTracked.Buffer()
		x.Engine().Device().Unary(tensor.UnaryAddScalar, 1, buf, buf)
	}
	return tensor.BatchNorm(x, b.Weight, b.Bias, b.RunningMean, b.RunningVar,
		tensor.BatchNormOptions{Training: train, Momentum: b.Momentum, Eps: b.Eps, InPlace: inPlace})
}

// Params implements Module.
func (b *BatchNorm2d) Params() []Named { return params("weight", b.Weight, "bias", b.Bias) }

// Buffers implements Module.
func (b *BatchNorm2d) Buffers() []Named {
	return params("running_mean", b.RunningMean, "running_var", b.RunningVar, "num_batches_tracked", b.NumBatchesTracked)
}

// Children implements Module.
func (b *BatchNorm2d) Children() []Child { return nil }
