package selsearch

import (
	"fmt"
	"math"
)

// Mode selects how many colour spaces, scales and strategies are combined.
type Mode string

// Modes, as in the paper (and OpenCV's switchToSelectiveSearchFast/Quality).
const (
	Fast    Mode = "fast"
	Quality Mode = "quality"
)

// Options configures Search. DefaultOptions gives OpenCV's defaults.
type Options struct {
	Mode  Mode
	BaseK float64 // scale k of the first segmentation
	IncK  float64 // k step between segmentations
	Sigma float64 // Gaussian smoothing before segmentation; 0 disables it
	// MinRegion is the smallest segment, in pixels, the segmentation keeps;
	// smaller ones are joined to a neighbour.
	MinRegion int
	// Seed seeds the ranking's random numbers.
	Seed uint64
}

// DefaultOptions returns the fast mode with OpenCV's default parameters.
func DefaultOptions() Options {
	return Options{Mode: Fast, BaseK: 150, IncK: 150, Sigma: 0.8, MinRegion: 100}
}

// measure is one similarity measure of a strategy.
type measure uint8

const (
	measureColour measure = 1 << iota
	measureTexture
	measureSize
	measureFill
)

// plan is what a mode runs: colour spaces x scales x strategies.
type plan struct {
	spaces     []colourSpace
	ks         []float64
	strategies []measure
}

// Validate reports the first option out of range, naming it.
func (o Options) Validate() error {
	switch {
	case o.Mode != Fast && o.Mode != Quality:
		return fmt.Errorf("selective search: mode %q: want %q or %q", o.Mode, Fast, Quality)
	case !(o.BaseK > 0) || math.IsInf(o.BaseK, 0):
		return fmt.Errorf("selective search: base_k %v: want a positive number", o.BaseK)
	case o.IncK < 0 || math.IsNaN(o.IncK) || math.IsInf(o.IncK, 0):
		return fmt.Errorf("selective search: inc_k %v: want a number >= 0", o.IncK)
	case o.Sigma < 0 || math.IsNaN(o.Sigma) || o.Sigma > 20:
		return fmt.Errorf("selective search: sigma %v: want 0 to 20", o.Sigma)
	case o.MinRegion < 0:
		return fmt.Errorf("selective search: min region %d: want >= 0", o.MinRegion)
	}
	return nil
}

func (o Options) plan() plan {
	all := measureColour | measureTexture | measureSize | measureFill
	if o.Mode == Quality {
		p := plan{
			spaces:     []colourSpace{spaceHSV, spaceLab, spaceIntensity, spaceHue, spaceRGI},
			strategies: []measure{all, measureTexture | measureSize | measureFill, measureFill, measureSize},
		}
		for i := range 4 {
			p.ks = append(p.ks, o.BaseK+float64(i)*o.IncK)
		}
		return p
	}
	return plan{
		spaces:     []colourSpace{spaceHSV, spaceLab},
		ks:         []float64{o.BaseK, o.BaseK + o.IncK},
		strategies: []measure{all, measureTexture | measureSize | measureFill},
	}
}
