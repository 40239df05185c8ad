package report_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chromium finds a headless-capable Chromium on PATH.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestHTMLReportRendersInChromium opens the report as a user would, from
// disk, and checks that the page draws something and that the browser
// logged nothing: a blocked fetch (the Content-Security-Policy refuses
// any) or a broken image would show as a console message.
func TestHTMLReportRendersInChromium(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("no chromium, chromium-browser or google-chrome on PATH: the report is not rendered in a browser (apt-get install chromium to run this test)")
	}
	out, _ := writeReport(t)
	tmp := t.TempDir()
	shot := filepath.Join(tmp, "report.png")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--no-first-run", "--window-size=1280,2000", "--enable-logging=stderr", "--v=0",
		"--user-data-dir="+filepath.Join(tmp, "profile"), "--screenshot="+shot, "file://"+out)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, logs.String())
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, ":CONSOLE") {
			t.Errorf("console message: %s", line)
		}
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v\n%s", err, logs.String())
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if share := inkShare(img); share < 0.02 {
		t.Errorf("screenshot is %.1f%% non-white: the page looks blank", 100*share)
	}
}

// inkShare is the share of pixels that are not (near) white.
func inkShare(img image.Image) float64 {
	b := img.Bounds()
	ink := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.GrayModel.Convert(img.At(x, y)).(color.Gray)
			if c.Y < 235 {
				ink++
			}
		}
	}
	return float64(ink) / float64(b.Dx()*b.Dy())
}
