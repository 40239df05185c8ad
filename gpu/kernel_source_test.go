package gpu

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// cuKernel is a kernel declared in a .cu file: its name and the kinds of
// its parameters ('p' pointer, 'i' int, 'f' float).
type cuKernel struct {
	Name string
	Sig  string
}

var cuKernelRE = regexp.MustCompile(`extern\s+"C"\s+__global__\s+void\s+(\w+)\s*\(([^)]*)\)`)

// parseCUKernels reads the extern "C" kernels of gpu/kernels/<module>.cu.
func parseCUKernels(t *testing.T, module string) []cuKernel {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("kernels", module+".cu"))
	if err != nil {
		t.Fatalf("read kernel source: %v", err)
	}
	var out []cuKernel
	for _, m := range cuKernelRE.FindAllStringSubmatch(string(src), -1) {
		var sig strings.Builder
		for _, p := range strings.Split(m[2], ",") {
			p = strings.TrimSpace(p)
			fields := strings.Fields(strings.ReplaceAll(p, "*", " * "))
			switch {
			case strings.Contains(p, "*"):
				sig.WriteByte('p')
			case len(fields) == 2 && fields[0] == "int":
				sig.WriteByte('i')
			case len(fields) == 2 && fields[0] == "float":
				sig.WriteByte('f')
			default:
				t.Fatalf("%s.cu: kernel %s: unsupported parameter %q", module, m[1], p)
			}
		}
		out = append(out, cuKernel{Name: m[1], Sig: sig.String()})
	}
	return out
}

// cuSignatures maps every kernel of every module to its signature.
func cuSignatures(t *testing.T) map[string]string {
	sigs := map[string]string{}
	for _, m := range kernelModules() {
		for _, k := range parseCUKernels(t, m.Name) {
			sigs[k.Name] = k.Sig
		}
	}
	return sigs
}

// TestKernelTableMatchesSources checks that the Go kernel table and the
// kernels defined in gpu/kernels/*.cu are the same sets, module by module,
// and that every .cu file is in the table.
func TestKernelTableMatchesSources(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("kernels", "*.cu"))
	if err != nil {
		t.Fatal(err)
	}
	var mods []string
	for _, m := range kernelModules() {
		mods = append(mods, m.Name)
		var defined []string
		for _, k := range parseCUKernels(t, m.Name) {
			defined = append(defined, k.Name)
		}
		want := slices.Clone(m.Entries)
		sort.Strings(defined)
		sort.Strings(want)
		if !slices.Equal(defined, want) {
			t.Errorf("module %s: .cu defines %v, table lists %v", m.Name, defined, want)
		}
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".cu")
		if !slices.Contains(mods, name) {
			t.Errorf("%s is not in the kernel table", f)
		}
	}
}
