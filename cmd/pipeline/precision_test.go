package main

import (
	"errors"
	"testing"
)

func TestPrecisionSet(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "DETFLOW_TF32" {
				return v
			}
			return ""
		}
	}
	for _, tc := range []struct {
		flag, configured, env string
		set, why              string
	}{
		{"", "tf32", "", "", ""},
		{"fp16", "tf32", "", "train.precision=fp16", "--precision"},
		{"fp32", "tf32", "1", "train.precision=fp32", "--precision"}, // the flag wins over the environment
		{"", "tf32", "0", "train.precision=fp32", "DETFLOW_TF32=0"},  // the environment over the config
		{"", "fp32", "1", "train.precision=tf32", "DETFLOW_TF32=1"},
		{"", "tf32", "1", "", ""},
		{"", "fp16", "1", "", ""}, // DETFLOW_TF32 only picks between fp32 and tf32
		{"", "bf16", "0", "", ""},
	} {
		set, why, err := precisionSet(tc.flag, tc.configured, env(tc.env))
		if err != nil || set != tc.set || why != tc.why {
			t.Errorf("precisionSet(%q, %q, DETFLOW_TF32=%q) = %q, %q, %v; want %q, %q", tc.flag, tc.configured, tc.env, set, why, err, tc.set, tc.why)
		}
	}
	_, _, err := precisionSet("half", "tf32", env(""))
	if !errors.Is(err, errUsage) || err.Error() != `usage: --precision "half": want one of fp32, tf32, fp16, bf16 (it sets train.precision)` {
		t.Errorf("bad flag: %v", err)
	}
	_, _, err = precisionSet("", "tf32", env("yes"))
	if err == nil || err.Error() != `DETFLOW_TF32="yes": want 1 (train.precision tf32) or 0 (fp32), or leave it unset` {
		t.Errorf("bad DETFLOW_TF32: %v", err)
	}
}
