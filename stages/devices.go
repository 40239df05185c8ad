package stages

import (
	"fmt"
	"strconv"
	"strings"
)

// Devices is the parsed --devices value: N CPU replicas, or CUDA device
// ordinals (an ordinal may repeat: "cuda:0,0" runs two replicas on one GPU).
type Devices struct {
	Kind    string // "cpu" or "cuda"
	Replica int    // number of CPU replicas (Kind "cpu")
	CUDA    []int  // device ordinals, one per replica (Kind "cuda")
}

// Replicas is the number of data-parallel replicas.
func (d Devices) Replicas() int {
	if d.Kind == "cuda" {
		return len(d.CUDA)
	}
	return d.Replica
}

func (d Devices) String() string {
	if d.Kind == "cuda" {
		parts := make([]string, len(d.CUDA))
		for i, o := range d.CUDA {
			parts[i] = strconv.Itoa(o)
		}
		return "cuda:" + strings.Join(parts, ",")
	}
	return fmt.Sprintf("cpu:%d", d.Replica)
}

// ParseDevices parses "cpu", "cpu:N" or "cuda:0,1,...".
func ParseDevices(s string) (Devices, error) {
	kind, rest, hasRest := strings.Cut(strings.TrimSpace(s), ":")
	switch kind {
	case "cpu":
		if !hasRest {
			return Devices{Kind: "cpu", Replica: 1}, nil
		}
		n, err := strconv.Atoi(rest)
		if err != nil || n < 1 || n > 1024 {
			return Devices{}, fmt.Errorf("--devices %q: want cpu:N with N a replica count >= 1", s)
		}
		return Devices{Kind: "cpu", Replica: n}, nil
	case "cuda":
		if !hasRest || rest == "" {
			return Devices{}, fmt.Errorf("--devices %q: want cuda:0 or cuda:0,1,... (device ordinals)", s)
		}
		var ords []int
		for _, f := range strings.Split(rest, ",") {
			o, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || o < 0 {
				return Devices{}, fmt.Errorf("--devices %q: %q is not a CUDA device ordinal", s, f)
			}
			ords = append(ords, o)
		}
		return Devices{Kind: "cuda", CUDA: ords}, nil
	}
	return Devices{}, fmt.Errorf("--devices %q: unknown device kind %q (want cpu:N or cuda:0,1,...)", s, kind)
}
