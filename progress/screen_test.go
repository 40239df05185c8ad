package progress

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/detflow/detflow/internal/termscreen"
)

// barLine matches a drawn bar anywhere in a line.
var barLine = regexp.MustCompile(`\[[= ]{24}\] \d+/\d+`)

// testFactory draws to a buffer as on a terminal 80 columns wide, with a
// clock that moves only when told.
func testFactory() (*Factory, *bytes.Buffer, *time.Time) {
	var buf bytes.Buffer
	f := NewFactory(&buf, Always)
	clock := time.Unix(100, 0)
	f.now = func() time.Time { return clock }
	f.width = func() int { return 80 }
	return f, &buf, &clock
}

func TestLogLinesScrollAboveLiveBars(t *testing.T) {
	f, buf, clock := testFactory()
	w := f.Writer()
	a, b := f.New("a", 10), f.New("b", 5)
	for i := range 5 {
		*clock = clock.Add(time.Second)
		a.Add(1)
		fmt.Fprintf(w, "log %d\n", i)
		b.Add(1)
	}
	got := termscreen.Render(buf.Bytes(), 80)
	want := []string{"log 0", "log 1", "log 2", "log 3", "log 4"}
	if len(got) != 7 || !slices.Equal(got[:5], want) {
		t.Fatalf("screen:\n%s", strings.Join(got, "\n"))
	}
	if !strings.HasPrefix(got[5], "a [") || !strings.Contains(got[5], " 5/10 ") || !strings.HasPrefix(got[6], "b [") {
		t.Errorf("live bars not below the log:\n%s", strings.Join(got, "\n"))
	}
}

func TestDoneBarKeepsFinalCountAboveRunningOnes(t *testing.T) {
	f, buf, clock := testFactory()
	a, b := f.New("a", 4), f.New("b", 4)
	*clock = clock.Add(2 * time.Second)
	a.Add(4)
	a.Done()
	b.Add(1)
	got := termscreen.Render(buf.Bytes(), 80)
	if len(got) != 2 || !strings.Contains(got[0], "a [====") || !strings.HasSuffix(got[0], "4/4 2.0/s in 2s") ||
		!strings.HasPrefix(got[1], "b [") {
		t.Errorf("screen:\n%s", strings.Join(got, "\n"))
	}
}

func TestCloseErasesUnfinishedBarsAndEndsTheLine(t *testing.T) {
	f, buf, _ := testFactory()
	f.New("stuck", 9).Add(3)
	fmt.Fprint(f.Writer(), "no newline yet")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if got := termscreen.Render(buf.Bytes(), 80); !slices.Equal(got, []string{"no newline yet"}) {
		t.Errorf("screen after Close: %q", got)
	}
	if !strings.HasSuffix(out, "\n") {
		t.Errorf("output does not end on a fresh line: %q", out)
	}
}

func TestBarLinesFitTheTerminal(t *testing.T) {
	f, buf, _ := testFactory()
	f.width = func() int { return 30 }
	f.New(strings.Repeat("long label ", 4), 3).Add(1)
	fmt.Fprintln(f.Writer(), "after")
	got := termscreen.Render(buf.Bytes(), 30)
	if len(got) != 2 || got[0] != "after" || len([]rune(got[1])) != 29 {
		t.Errorf("screen:\n%s", strings.Join(got, "\n"))
	}
}

// Many goroutines logging and counting at once must still leave every log
// line whole and every bar below them (run with -race).
func TestConcurrentBarsAndLogsNeverShareALine(t *testing.T) {
	f, buf, _ := testFactory()
	f.now = time.Now
	w := f.Writer()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			b := f.New(fmt.Sprintf("worker %d", g), 50)
			for i := range 50 {
				b.Add(1)
				if i%10 == 0 {
					fmt.Fprintf(w, "worker %d at %d\n", g, i)
				}
			}
			b.Done()
		})
	}
	wg.Wait()
	got := termscreen.Render(buf.Bytes(), 80)
	if len(got) != 24 {
		t.Errorf("want 20 log lines and 4 final bars, got %d lines:\n%s", len(got), strings.Join(got, "\n"))
	}
	for _, l := range got {
		if strings.Contains(l, " at ") == barLine.MatchString(l) {
			t.Errorf("line is neither a whole log line nor a bar: %q", l)
		}
		if barLine.MatchString(l) && !strings.Contains(l, "50/50") {
			t.Errorf("finished bar without its final count: %q", l)
		}
	}
}

func TestWriterPassesThroughWhenNotDrawing(t *testing.T) {
	var buf bytes.Buffer
	f := NewFactory(&buf, Never)
	f.New("x", 2).Add(1)
	fmt.Fprint(f.Writer(), "plain\n")
	if err := f.Close(); err != nil || buf.String() != "plain\n" {
		t.Errorf("output %q, Close error %v", buf.String(), err)
	}
	var nilFactory *Factory
	fmt.Fprint(nilFactory.Writer(), "dropped") // must not panic
}
