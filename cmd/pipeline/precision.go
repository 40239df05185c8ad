package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/detflow/detflow/configs"
)

// precisionSet returns the --set that puts train.precision where the
// command line and the environment say, or "" to keep the config's value.
// Precedence, highest first: --precision; DETFLOW_TF32 (1: tf32, 0: fp32),
// which only chooses between fp32 and tf32, so a config asking for fp16
// or bf16 keeps it; then --set and the config files. The one key decides,
// so the run's config.yaml, train log and fingerprints record it. why says
// which of the two set it, for the log.
func precisionSet(flag, configured string, getenv func(string) string) (set, why string, err error) {
	if flag != "" {
		if !slices.Contains(configs.Precisions, flag) {
			return "", "", fmt.Errorf("%w: --precision %q: want one of %s (it sets train.precision)", errUsage, flag, strings.Join(configs.Precisions, ", "))
		}
		return "train.precision=" + flag, "--precision", nil
	}
	env := getenv("DETFLOW_TF32")
	want := map[string]string{"1": configs.PrecisionTF32, "0": configs.PrecisionFP32}[env]
	switch {
	case env == "":
		return "", "", nil
	case want == "":
		return "", "", fmt.Errorf("DETFLOW_TF32=%q: want 1 (train.precision tf32) or 0 (fp32), or leave it unset", env)
	case configured != configs.PrecisionFP32 && configured != configs.PrecisionTF32, configured == want:
		return "", "", nil
	}
	return "train.precision=" + want, "DETFLOW_TF32=" + env, nil
}
