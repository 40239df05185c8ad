package nn

import "math"

// LossScaler scales the loss before backward so that fp16 gradients do not
// underflow, and decides after backward whether the step may be taken.
// The semantics are torch.cuda.amp.GradScaler's, which MMDetection's
// Fp16OptimizerHook (mmcv 1.x, PyTorch >= 1.6) uses for
// fp16 = dict(loss_scale=...):
//
//   - the loss is multiplied by Scale before backward; gradients are
//     divided by it before clipping and the optimizer step;
//   - a step whose gradients hold an Inf or NaN is skipped;
//   - dynamic (loss_scale='dynamic', GradScaler()): Scale starts at 65536,
//     is multiplied by 0.5 on every skipped step and by 2 after 2000
//     consecutive steps without one (when the result stays finite);
//   - static (loss_scale=512.): GradScaler(init_scale=512) reset to 512
//     after every step, so the scale never changes, but overflowing steps
//     are still skipped. (MMDetection v1's own hook stepped regardless;
//     an overflowing step then wrote Inf into the weights.)
type LossScaler struct {
	Scale          float64
	Dynamic        bool
	GrowthFactor   float64 // dynamic only
	BackoffFactor  float64 // dynamic only
	GrowthInterval int     // dynamic only: clean steps before growing
	CleanSteps     int     // consecutive clean steps since the scale last changed
}

// GradScaler's defaults.
const (
	DefaultInitScale      = 65536.0
	DefaultGrowthFactor   = 2.0
	DefaultBackoffFactor  = 0.5
	DefaultGrowthInterval = 2000
)

// NewDynamicLossScaler returns GradScaler() with its defaults.
func NewDynamicLossScaler() *LossScaler {
	return &LossScaler{Scale: DefaultInitScale, Dynamic: true, GrowthFactor: DefaultGrowthFactor,
		BackoffFactor: DefaultBackoffFactor, GrowthInterval: DefaultGrowthInterval}
}

// NewStaticLossScaler returns a scaler whose scale stays s.
func NewStaticLossScaler(s float64) *LossScaler { return &LossScaler{Scale: s} }

// Overflowed reports whether a gradient norm says some gradient is Inf or
// NaN (the norm of finite float32 gradients, summed in float64, is finite).
func Overflowed(gradNorm float64) bool { return math.IsInf(gradNorm, 0) || math.IsNaN(gradNorm) }

// Update records one step: overflow says whether its gradients held an
// Inf or NaN (and so the step was skipped).
func (s *LossScaler) Update(overflow bool) {
	if !s.Dynamic {
		return
	}
	if overflow {
		s.Scale *= s.BackoffFactor
		s.CleanSteps = 0
		return
	}
	s.CleanSteps++
	if s.CleanSteps < s.GrowthInterval {
		return
	}
	if grown := s.Scale * s.GrowthFactor; !math.IsInf(grown, 0) {
		s.Scale = grown
	}
	s.CleanSteps = 0
}
