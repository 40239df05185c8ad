package gpu

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestPTXEntries(t *testing.T) {
	ptx := []byte(`
.version 9.0
.target sm_80
.address_size 64

	// .globl	add_f32
.visible .entry add_f32(
	.param .u64 add_f32_param_0,
	.param .u32 add_f32_param_3
)
.entry local_kernel(
)
.func (.param .b32 func_retval0) helper(
`)
	got := ptxEntries(ptx)
	if want := []string{"add_f32", "local_kernel"}; !slices.Equal(got, want) {
		t.Errorf("ptxEntries = %v, want %v", got, want)
	}
	params := ptxParams(ptx)
	if got := params["add_f32"]; got != "pi" {
		t.Errorf("ptxParams[add_f32] = %q, want \"pi\"", got)
	}
}

func TestPTXSourceDirOverride(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "elementwise.ptx"), []byte(".version 9.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := newPTXSource(env{"DETFLOW_PTX_DIR": dir}.get)
	b, err := src.Load("elementwise")
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != ".version 9.0\n\x00" {
		t.Errorf("Load = %q, want the file NUL-terminated", b)
	}
	_, err = src.Load("roi_align")
	if !errors.Is(err, ErrPTXMissing) || !strings.Contains(err.Error(), "DETFLOW_PTX_DIR") {
		t.Errorf("missing module in dir: err = %v", err)
	}
}

func TestPTXEmbedded(t *testing.T) {
	src := newPTXSource(env{}.get)
	for _, m := range kernelModules() {
		b, err := src.Load(m.Name)
		if _, statErr := fs.Stat(embeddedPTX, "kernels/ptx/"+m.Name+".ptx"); statErr != nil {
			want := `PTX for "` + m.Name + `" not embedded; run make ptx`
			if !errors.Is(err, ErrPTXMissing) || !strings.Contains(err.Error(), want) {
				t.Errorf("module %s not embedded: err = %v, want it to contain %q", m.Name, err, want)
			}
			continue
		}
		if err != nil || b[len(b)-1] != 0 {
			t.Errorf("embedded module %s: err %v or not NUL-terminated", m.Name, err)
		}
	}
}

// TestPTXMatchesKernelTable checks compiled PTX (embedded, or the folder in
// DETFLOW_PTX_DIR as scripts/gpu-check.sh sets it) against the kernel table
// and the .cu signatures: entry names and parameter kinds.
func TestPTXMatchesKernelTable(t *testing.T) {
	src := newPTXSource(os.Getenv)
	sigs := cuSignatures(t)
	checked := 0
	for _, m := range kernelModules() {
		b, err := src.Load(m.Name)
		if errors.Is(err, ErrPTXMissing) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		checked++
		got := ptxEntries(b)
		want := slices.Clone(m.Entries)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s.ptx (%s) declares %v, table lists %v", m.Name, src.Describe(), got, want)
		}
		params := ptxParams(b)
		for _, e := range m.Entries {
			if params[e] != sigs[e] {
				t.Errorf("%s.ptx: kernel %s has parameters %q, the .cu declares %q", m.Name, e, params[e], sigs[e])
			}
		}
	}
	if checked == 0 {
		t.Skipf("no PTX to check (%s): run make ptx or set DETFLOW_PTX_DIR", src.Describe())
	}
	t.Logf("checked %d modules of PTX from %s", checked, src.Describe())
}

var (
	ptxEntryStartRE = regexp.MustCompile(`\.entry\s+(\w+)\s*\(`)
	ptxParamRE      = regexp.MustCompile(`\.param\s+\.(u64|u32|s32|f32|b32|b64|s64)\b`)
)

// ptxParams maps each entry to its parameter kinds: .u64/.b64/.s64 'p'
// (pointers; our kernels take no 64-bit scalars), .u32/.s32/.b32 'i',
// .f32 'f'.
func ptxParams(ptx []byte) map[string]string {
	out := map[string]string{}
	text := string(ptx)
	for _, loc := range ptxEntryStartRE.FindAllStringSubmatchIndex(text, -1) {
		name := text[loc[2]:loc[3]]
		rest := text[loc[1]:]
		end := strings.Index(rest, ")")
		if end < 0 {
			continue
		}
		var sig strings.Builder
		for _, m := range ptxParamRE.FindAllStringSubmatch(rest[:end], -1) {
			switch m[1] {
			case "u64", "b64", "s64":
				sig.WriteByte('p')
			case "f32":
				sig.WriteByte('f')
			default:
				sig.WriteByte('i')
			}
		}
		out[name] = sig.String()
	}
	return out
}

// TestPTXNotStale checks the committed PTX against the hashes of the .cu
// files it was compiled from (kernels/ptx/SOURCES.sha256, written by
// scripts/gpu-check.sh and make ptx): a kernel edited without regenerating
// its PTX fails here, in CI, without nvcc.
func TestPTXNotStale(t *testing.T) {
	list, err := fs.ReadFile(embeddedPTX, "kernels/ptx/SOURCES.sha256")
	if err != nil {
		t.Skip("no kernels/ptx/SOURCES.sha256: no PTX committed yet")
	}
	sc := bufio.NewScanner(bytes.NewReader(list))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != 2 {
			continue
		}
		src, err := os.ReadFile(filepath.Join("kernels", fields[1]))
		if err != nil {
			t.Errorf("SOURCES.sha256 lists %s: %v", fields[1], err)
			continue
		}
		sum := sha256.Sum256(src)
		if hex.EncodeToString(sum[:]) != fields[0] {
			t.Errorf("PTX of %s is stale: the source changed after the PTX was generated; run make ptx (or scripts/gpu-check.sh) and commit gpu/kernels/ptx", fields[1])
		}
	}
}
