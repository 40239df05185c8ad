package pipelines

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/detflow/detflow/progress"
)

// PrintPlan writes the plan as a table: each stage, what will happen to it
// and why.
func PrintPlan(w io.Writer, p *Plan) error {
	fmt.Fprintf(w, "pipeline %s, run %s (%s)\n", p.Pipeline.Name, p.Run, p.RunDir)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STAGE\tSTATE\tWHY")
	for _, s := range p.Steps {
		state := s.Action.String()
		if !s.Selected && s.Action != UpToDate {
			state += " (not selected)"
		}
		why := strings.Join(s.Reasons, "; ")
		if why == "" {
			why = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Stage.Name(), state, why)
	}
	return tw.Flush()
}

// PrintSummary writes the end-of-run table: each stage's outcome, time and
// outputs.
func PrintSummary(w io.Writer, r *Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STAGE\tOUTCOME\tTIME\tOUTPUTS\tNOTE")
	for _, s := range r.Stages {
		t := "-"
		if s.Elapsed > 0 {
			t = progress.FormatDuration(s.Elapsed.Round(time.Millisecond))
		}
		outs := "-"
		if s.Files > 0 {
			outs = fmt.Sprintf("%d files, %s", s.Files, FormatBytes(s.Bytes))
		}
		note := s.Note
		if note == "" {
			note = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, s.Outcome, t, outs, note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "total %s\n", progress.FormatDuration(r.Elapsed.Round(time.Millisecond)))
	return err
}

// FormatBytes prints n with a binary unit: "512 B", "3.4 MiB".
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
