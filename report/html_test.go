package report_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/detflow/detflow/report"
)

// writeReport writes the evaluated fixture's report and parses it.
func writeReport(t *testing.T) (string, *html.Node) {
	t.Helper()
	ctx := context.Background()
	fsys, c, r := evaluated(t)
	var steps []string
	out, err := report.WriteHTML(ctx, fsys, c, r, report.HTMLOptions{Samples: 2, Score: 0.3, IoU: 0.5,
		Progress: func(step string, done, total int) { steps = append(steps, step) }})
	if err != nil {
		t.Fatal(err)
	}
	if out != filepath.Join(r.Dir, report.ReportName) {
		t.Errorf("wrote %s, want the run folder's %s", out, report.ReportName)
	}
	if len(steps) == 0 {
		t.Error("no progress reported")
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := html.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return out, doc
}

// walk calls fn for every element.
func walk(n *html.Node, fn func(*html.Node)) {
	if n.Type == html.ElementNode {
		fn(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	var rec func(*html.Node)
	rec = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rec(c)
		}
	}
	rec(n)
	return b.String()
}

func TestHTMLReportIsSelfContainedAndComplete(t *testing.T) {
	out, doc := writeReport(t)
	sections := map[string]*html.Node{}
	var imgs, links []*html.Node
	walk(doc, func(n *html.Node) {
		switch n.Data {
		case "section":
			sections[attr(n, "id")] = n
		case "img":
			imgs = append(imgs, n)
		case "a":
			links = append(links, n)
		case "script", "link", "iframe", "object":
			t.Errorf("<%s> in a report that must fetch nothing", n.Data)
		}
	})
	for _, id := range []string{"stages", "config", "metrics", "curves", "errors", "confusion", "samples", "artifacts"} {
		if sections[id] == nil {
			t.Errorf("no section %q", id)
		}
	}
	for _, img := range imgs {
		if !strings.HasPrefix(attr(img, "src"), "data:image/png;base64,") {
			t.Errorf("image %q is not inline", attr(img, "alt"))
		}
	}
	// loss + mAP? (one epoch evaluated: loss only), 3 error plots, the
	// confusion matrix, 2 samples.
	if len(imgs) != 1+3+1+2 {
		t.Errorf("%d images, want 7", len(imgs))
	}
	stages := text(sections["stages"])
	for _, want := range []string{"dataset", "published", "proposals", "not run", "evaluate", "results.bbox.json"} {
		if !strings.Contains(stages, want) {
			t.Errorf("stage table lacks %q:\n%s", want, stages)
		}
	}
	if cfg := text(sections["config"]); !strings.Contains(cfg, "train.epochs") {
		t.Errorf("config diff lacks the run's --set train.epochs=2:\n%s", cfg)
	}
	if m := text(sections["metrics"]); !strings.Contains(m, "bbox_mAP") || !strings.Contains(m, "circle") {
		t.Errorf("metrics lack bbox_mAP or the AP of circle:\n%s", m)
	}
	for _, a := range links {
		href := attr(a, "href")
		if strings.HasPrefix(href, "#") {
			continue
		}
		if strings.Contains(href, "://") {
			t.Errorf("link %q leaves the run folder", href)
			continue
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(out), href)); err != nil {
			t.Errorf("link %q: %v", href, err)
		}
	}
}
