package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/detflow/detflow/gpu"
)

func cmdDevices(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("devices", "pipeline devices", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: devices takes no arguments", errUsage)
	}
	return writeInventory(stdout, gpu.Inspect())
}

// writeInventory prints what --devices can use: the driver and each GPU,
// the optional libraries, and which kernels lack PTX (their operators then
// run on the host).
func writeInventory(w io.Writer, inv gpu.Inventory) error {
	var b strings.Builder
	line := func(l gpu.LibraryStatus, without string) {
		if l.Err != nil {
			fmt.Fprintf(&b, "%-12s not used: %v\n", l.Name, l.Err)
			fmt.Fprintf(&b, "%-12s %s (%s=FILE names an installed copy)\n", "", without, l.Env)
			return
		}
		v := l.Version
		if v == "" {
			v = "(version unknown)"
		}
		fmt.Fprintf(&b, "%-12s %s  %s\n", l.Name, v, l.Path)
	}
	line(inv.Driver, "--devices cuda:N is unavailable; runs train and evaluate with --devices cpu")
	for _, d := range inv.Devices {
		fmt.Fprintf(&b, "  cuda:%-6d %s, %.1f GiB, compute %d.%d, %d SMs\n", d.Ordinal, d.Name,
			float64(d.TotalMem)/(1<<30), d.ComputeMajor, d.ComputeMinor, d.SMs)
	}
	if inv.Driver.Err == nil && len(inv.Devices) == 0 {
		fmt.Fprintf(&b, "  the driver sees no CUDA device\n")
	}
	without := map[string]string{
		"cuBLAS": "matrix products run on the host, slowly",
		"cuDNN":  "convolutions use detflow's im2col kernels with cuBLAS",
		"NCCL":   "replicas on several GPUs exchange gradients by peer copies",
	}
	for _, l := range inv.Libraries {
		line(l, without[l.Name])
	}
	fmt.Fprintf(&b, "%-12s PTX %s", "kernels", inv.PTXSource)
	if len(inv.MissingPTX) > 0 {
		fmt.Fprintf(&b, "; no PTX for %s: their operators run on the host (make ptx, or DETFLOW_PTX_DIR)", strings.Join(inv.MissingPTX, ", "))
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "%-12s train.precision (--precision; default tf32: TF32 in cuDNN convolutions, FP32 elsewhere, as PyTorch)", "math")
	if inv.TF32 {
		b.WriteString("; DETFLOW_TF32=1 sets it to tf32 where the config asks for fp32")
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}
