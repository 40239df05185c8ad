package nn

import (
	"fmt"
	"math"
)

// Warmup kinds, as MMDetection v1 (mmcv's LrUpdaterHook) names them.
const (
	WarmupNone     = ""
	WarmupConstant = "constant"
	WarmupLinear   = "linear"
	WarmupExp      = "exp"
)

// StepSchedule is MMDetection v1's lr_config with policy "step": the LR is
// BaseLR·Gamma^k where k is the number of Steps (epochs, 0-based epoch
// counter) already reached, and during the first WarmupIters iterations the
// regular LR is scaled by a warmup factor starting at WarmupRatio:
//
//	linear:   lr = regular·(1 − (1 − iter/WarmupIters)·(1 − WarmupRatio))
//	exp:      lr = regular·WarmupRatio^(1 − iter/WarmupIters)
//	constant: lr = regular·WarmupRatio
type StepSchedule struct {
	BaseLR      float64
	Steps       []int   // epochs at which the LR decays, e.g. [8, 11] for the 1x schedule
	Gamma       float64 // decay factor, 0.1 in MMDetection
	Warmup      string  // WarmupNone, WarmupLinear, WarmupExp or WarmupConstant
	WarmupIters int
	WarmupRatio float64
}

// Validate reports a configuration mmcv would reject.
func (s StepSchedule) Validate() error {
	switch s.Warmup {
	case WarmupNone:
	case WarmupConstant, WarmupLinear, WarmupExp:
		if s.WarmupIters <= 0 {
			return fmt.Errorf("lr schedule: warmup %q needs warmup_iters > 0, got %d", s.Warmup, s.WarmupIters)
		}
		if s.WarmupRatio <= 0 || s.WarmupRatio > 1 {
			return fmt.Errorf("lr schedule: warmup_ratio %g outside (0, 1]", s.WarmupRatio)
		}
	default:
		return fmt.Errorf("lr schedule: unknown warmup %q (want linear, exp or constant)", s.Warmup)
	}
	for i := 1; i < len(s.Steps); i++ {
		if s.Steps[i] <= s.Steps[i-1] {
			return fmt.Errorf("lr schedule: steps %v not increasing", s.Steps)
		}
	}
	return nil
}

// RegularLR is the LR for a 0-based epoch without warmup.
func (s StepSchedule) RegularLR(epoch int) float64 {
	k := len(s.Steps)
	for i, st := range s.Steps {
		if epoch < st {
			k = i
			break
		}
	}
	return s.BaseLR * math.Pow(s.Gamma, float64(k))
}

// LR is the learning rate for a 0-based epoch and 0-based global iteration
// (counted across epochs, as runner.iter is).
func (s StepSchedule) LR(epoch, iter int) float64 {
	reg := s.RegularLR(epoch)
	if s.Warmup == WarmupNone || iter >= s.WarmupIters {
		return reg
	}
	frac := float64(iter) / float64(s.WarmupIters)
	switch s.Warmup {
	case WarmupConstant:
		return reg * s.WarmupRatio
	case WarmupLinear:
		return reg * (1 - (1-frac)*(1-s.WarmupRatio))
	case WarmupExp:
		return reg * math.Pow(s.WarmupRatio, 1-frac)
	}
	return reg
}
