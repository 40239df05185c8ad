package stages

import (
	"strings"
	"testing"
)

func TestParseDevices(t *testing.T) {
	tests := []struct {
		in       string
		want     string
		replicas int
		err      string
	}{
		{in: "cpu", want: "cpu:1", replicas: 1},
		{in: "cpu:4", want: "cpu:4", replicas: 4},
		{in: "cuda:0", want: "cuda:0", replicas: 1},
		{in: "cuda:0,0", want: "cuda:0,0", replicas: 2},
		{in: "cuda:1, 2", want: "cuda:1,2", replicas: 2},
		{in: "cpu:0", err: "replica count"},
		{in: "cpu:x", err: "replica count"},
		{in: "cuda:", err: "device ordinals"},
		{in: "cuda:a", err: `"a" is not a CUDA device ordinal`},
		{in: "tpu:1", err: `unknown device kind "tpu"`},
	}
	for _, tt := range tests {
		d, err := ParseDevices(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseDevices(%q) error = %v, want it to contain %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseDevices(%q): %v", tt.in, err)
			continue
		}
		if d.String() != tt.want || d.Replicas() != tt.replicas {
			t.Errorf("ParseDevices(%q) = %s (%d replicas), want %s (%d)", tt.in, d, d.Replicas(), tt.want, tt.replicas)
		}
	}
}
