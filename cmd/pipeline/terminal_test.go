package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/detflow/detflow/internal/termscreen"
)

// The pty tests run the CLI as a child process (this test binary, through
// TestHelperPipelineProcess) on a pseudo-terminal 140 columns wide and
// read the screen a person would see.

const (
	helperArgsEnv = "DETFLOW_TEST_PIPELINE_ARGS"
	ptyCols       = 140
	// hangGuard only stops a hung child; nothing is asserted about speed.
	hangGuard = 5 * time.Minute
)

var (
	// barText is a drawn bar anywhere in a line.
	barText = regexp.MustCompile(`\[[= ]{24}\] \d+/\d+`)
	// finishedBar is a whole line left by a finished bar.
	finishedBar = regexp.MustCompile(`^[a-z ]+ \[[= ]{24}\] (\d+)/(\d+) [0-9.]+/s in \S+$`)
	// logPrefix starts a log line written for people.
	logPrefix = regexp.MustCompile(`^\d\d:\d\d:\d\d [a-z]+ +`)
)

// TestHelperPipelineProcess is the child process of the pty tests; run
// directly it does nothing.
func TestHelperPipelineProcess(t *testing.T) {
	raw := os.Getenv(helperArgsEnv)
	if raw == "" {
		t.Skip("child process of the pty tests; runs only when started by them")
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		t.Fatal(err)
	}
	os.Exit(runProcess(args))
}

// ptyRun is the CLI running on a pseudo-terminal.
type ptyRun struct {
	cmd  *exec.Cmd
	tty  *os.File // the terminal's master side
	mu   sync.Mutex
	out  bytes.Buffer
	read chan struct{} // closed when the child's output has been read
}

func startOnPty(t *testing.T, args ...string) *ptyRun {
	t.Helper()
	enc, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	if ptmx, tty, err := pty.Open(); err != nil {
		t.Skipf("no pseudo-terminals here (%v): the terminal tests need /dev/ptmx", err)
	} else {
		ptmx.Close()
		tty.Close()
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperPipelineProcess$")
	cmd.Env = append(os.Environ(), helperArgsEnv+"="+string(enc), "TERM=xterm-256color")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Cols: ptyCols, Rows: 50})
	if err != nil {
		t.Fatalf("start on a pty: %v", err)
	}
	r := &ptyRun{cmd: cmd, tty: tty, read: make(chan struct{})}
	go func() {
		defer close(r.read)
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			r.mu.Lock()
			r.out.Write(buf[:n])
			r.mu.Unlock()
			if err != nil { // EIO once the child and its terminal are gone
				return
			}
		}
	}()
	t.Cleanup(func() { cmd.Process.Kill(); tty.Close() })
	return r
}

func (r *ptyRun) output() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.out.Bytes())
}

// waitFor waits until the output contains s.
func (r *ptyRun) waitFor(t *testing.T, s string) {
	t.Helper()
	for deadline := time.Now().Add(hangGuard); !bytes.Contains(r.output(), []byte(s)); {
		select {
		case <-r.read:
			t.Fatalf("the run ended before printing %q:\n%s", s, r.output())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q after %v:\n%s", s, hangGuard, r.output())
		}
	}
}

// wait waits for the child to exit and returns its exit code and screen.
func (r *ptyRun) wait(t *testing.T) (int, []string) {
	t.Helper()
	timer := time.AfterFunc(hangGuard, func() { r.cmd.Process.Kill() })
	defer timer.Stop()
	err := r.cmd.Wait()
	<-r.read
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, termscreen.Render(r.output(), ptyCols)
}

func tinyRun(work string, epochs int) []string {
	return []string{"run", "fast_rcnn_with_proposals", "--workdir", work, "--progress", "always",
		"--set", "dataset.synthetic.train=4", "--set", "dataset.synthetic.val=2",
		"--set", "train.epochs=" + strconv.Itoa(epochs), "--set", "train.lr_steps=[1]", "--set", "train.log_interval=1"}
}

// checkScreen checks what is left on the terminal after a run: every bar
// is a whole line of its own showing its final count (the bar labelled
// stopped may end short: its stage was interrupted), and no log line
// carries a bar's text.
func checkScreen(t *testing.T, screen []string, stopped string) (bars int) {
	t.Helper()
	for _, l := range screen {
		if !barText.MatchString(l) {
			continue
		}
		m := finishedBar.FindStringSubmatch(l)
		switch {
		case logPrefix.MatchString(l) || m == nil:
			t.Errorf("a bar shares its line with other text or is still live: %q", l)
		case m[1] != m[2] && (stopped == "" || !strings.HasPrefix(l, stopped+" [")):
			t.Errorf("a finished bar shows a stale count: %q", l)
		}
		bars++
	}
	return bars
}

func TestTerminalRunKeepsBarsBelowLogAndSummaryUnprefixed(t *testing.T) {
	work := t.TempDir()
	code, screen := startOnPty(t, tinyRun(work, 1)...).wait(t)
	text := strings.Join(screen, "\n")
	if code != 0 {
		t.Fatalf("exit code %d; screen:\n%s", code, text)
	}
	if bars := checkScreen(t, screen, ""); bars < 4 { // synthesis, 2 x selective search, train, evaluate
		t.Errorf("only %d finished bars on the screen:\n%s", bars, text)
	}
	var summary int
	for _, l := range screen {
		if strings.Contains(l, "Average Precision") || strings.Contains(l, "Average Recall") {
			summary++
			if !strings.HasPrefix(l, " Average ") {
				t.Errorf("COCO summary line with a prefix: %q", l)
			}
		}
	}
	if summary != 12 {
		t.Errorf("%d COCO summary lines, want 12:\n%s", summary, text)
	}
	for _, want := range []string{"Epoch [1][1/1] lr: ", "Evaluate annotation type *bbox*", "STAGE      OUTCOME", `run "fast_rcnn_tiny_synth" done`} {
		if !strings.Contains(text, want) {
			t.Errorf("screen lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "level=INFO") {
		t.Errorf("machine log lines on a terminal:\n%s", text)
	}
	log, err := os.ReadFile(filepath.Join(work, "fast_rcnn_tiny_synth", "logs", "train.log"))
	if err != nil || !bytes.Contains(log, []byte(`"msg":"train"`)) || bytes.Contains(log, []byte("Epoch [")) {
		t.Errorf("train.log is not the full-precision JSON log (err %v):\n%s", err, log)
	}
}

func TestTerminalInterruptDiscardsPartialStageAndSaysHowToResume(t *testing.T) {
	work := t.TempDir()
	r := startOnPty(t, tinyRun(work, 1000)...)
	r.waitFor(t, "Epoch [1][1/1]")                    // training is under way
	if _, err := r.tty.Write([]byte{3}); err != nil { // Ctrl-C: the terminal sends SIGINT
		t.Fatal(err)
	}
	code, screen := r.wait(t)
	text := strings.Join(screen, "\n")
	if code != 130 {
		t.Errorf("exit code %d, want 130; screen:\n%s", code, text)
	}
	checkScreen(t, screen, "train")
	if !strings.Contains(text, `interrupted: stage "train" stopped`) || !strings.Contains(text, "To resume, run the same command again") {
		t.Errorf("no resume hint:\n%s", text)
	}
	runDir := filepath.Join(work, "fast_rcnn_tiny_synth")
	if _, err := os.Stat(filepath.Join(runDir, "train")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("train published after an interrupt (stat: %v)", err)
	}
	if tmp, _ := os.ReadDir(filepath.Join(runDir, ".tmp")); len(tmp) > 0 {
		t.Errorf("partial outputs left in .tmp: %v", tmp)
	}
	for _, st := range []string{"dataset", "proposals", "records"} {
		if _, err := os.Stat(filepath.Join(runDir, st, "_MANIFEST.json")); err != nil {
			t.Errorf("finished stage %s lost: %v", st, err)
		}
	}
	if last := screen[len(screen)-1]; barText.MatchString(last) {
		t.Errorf("the screen ends on a bar: %q", last)
	}
}
