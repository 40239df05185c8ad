package dataset

import (
	"fmt"
	"strings"

	"github.com/detflow/detflow/storage"
)

// ValidationReport is the outcome of Validate: totals and, per broken rule,
// how often it was broken with the first few examples.
type ValidationReport struct {
	Annotations string `json:"annotations"` // the validated instances JSON
	ImageRoot   string `json:"image_root"`
	// Digest of the annotations file as read.
	Digest     storage.Digest `json:"digest"`
	Images     int            `json:"images"`
	Objects    int            `json:"annotation_count"` // annotations
	Categories int            `json:"categories"`
	ImagesRead bool           `json:"images_decoded"` // whether image headers were decoded (CheckImages)
	Problems   []Problem      `json:"problems"`
}

// Problem is one broken rule.
type Problem struct {
	Rule     string    `json:"rule"`
	Count    int       `json:"count"`
	Examples []Example `json:"examples"` // the first few, in file order
}

// Example locates one instance of a broken rule.
type Example struct {
	Path   string `json:"path"`             // JSON path, like "annotations[12].bbox"
	Value  string `json:"value"`            // the offending value as JSON
	Detail string `json:"detail,omitempty"` // optional explanation, like "declared 640x480, file is 320x240"
}

func (e Example) String() string {
	s := e.Path + " = " + e.Value
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// OK reports whether no rule was broken.
func (r *ValidationReport) OK() bool { return len(r.Problems) == 0 }

// Problem returns the problem for rule, or nil when the rule held.
func (r *ValidationReport) Problem(rule string) *Problem {
	for i := range r.Problems {
		if r.Problems[i].Rule == rule {
			return &r.Problems[i]
		}
	}
	return nil
}

// String is a readable multi-line summary.
func (r *ValidationReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d images, %d annotations, %d categories", r.Annotations, r.Images, r.Objects, r.Categories)
	if !r.ImagesRead {
		b.WriteString(" (image files checked for presence only)")
	}
	if r.OK() {
		b.WriteString(": OK\n")
		return b.String()
	}
	fmt.Fprintf(&b, ": %s broken\n", rulesCount(len(r.Problems)))
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "  %s: %d\n", p.Rule, p.Count)
		for _, e := range p.Examples {
			fmt.Fprintf(&b, "    %s\n", e)
		}
		if more := p.Count - len(p.Examples); more > 0 {
			fmt.Fprintf(&b, "    ... and %d more\n", more)
		}
	}
	return b.String()
}

// Err returns nil for a clean data set, else a *ValidationError that names
// the file and, per broken rule, its count and first example.
func (r *ValidationReport) Err() error {
	if r.OK() {
		return nil
	}
	return &ValidationError{Report: r}
}

// ValidationError is the error form of a failed ValidationReport.
type ValidationError struct {
	Report *ValidationReport
}

func (e *ValidationError) Error() string {
	r := e.Report
	parts := make([]string, 0, len(r.Problems))
	for _, p := range r.Problems {
		s := fmt.Sprintf("%s: %d", p.Rule, p.Count)
		if len(p.Examples) > 0 {
			s += fmt.Sprintf(" (first: %s)", p.Examples[0])
		}
		parts = append(parts, s)
	}
	return fmt.Sprintf("validate %q: %s broken: %s", r.Annotations, rulesCount(len(r.Problems)), strings.Join(parts, "; "))
}

// problems collects findings per rule, keeping the rules in a fixed order.
type problems struct {
	maxExamples int
	byRule      map[string]*Problem
}

func newProblems(maxExamples int) *problems {
	return &problems{maxExamples: maxExamples, byRule: map[string]*Problem{}}
}

func (p *problems) add(rule string, e Example) {
	pr := p.byRule[rule]
	if pr == nil {
		pr = &Problem{Rule: rule}
		p.byRule[rule] = pr
	}
	pr.Count++
	if len(pr.Examples) < p.maxExamples {
		pr.Examples = append(pr.Examples, e)
	}
}

// list returns the problems in the order of ruleOrder.
func (p *problems) list() []Problem {
	var out []Problem
	for _, rule := range ruleOrder {
		if pr := p.byRule[rule]; pr != nil {
			out = append(out, *pr)
		}
	}
	return out
}

func rulesCount(n int) string {
	if n == 1 {
		return "1 rule"
	}
	return fmt.Sprintf("%d rules", n)
}
