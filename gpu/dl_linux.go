//go:build linux

package gpu

import (
	"fmt"

	"github.com/ebitengine/purego"
)

// systemDlopen loads a library with RTLD_NOW|RTLD_GLOBAL, so missing
// dependencies fail here and cuBLAS finds cuBLASLt.
func systemDlopen(path string) (uintptr, error) {
	return purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
}

// symbolBinder binds C functions of one library to Go function variables and
// remembers the first symbol that is missing.
type symbolBinder struct {
	lib     uintptr
	libName string
	err     error
}

// bind sets *fptr to the first of names that the library exports. Newer
// symbol versions come first (e.g. "cuMemAlloc_v2").
func (b *symbolBinder) bind(fptr any, names ...string) {
	if addr := b.lookup(names...); addr != 0 {
		purego.RegisterFunc(fptr, addr)
	}
}

// lookup returns the address of the first of names found, or 0 after
// recording an error.
func (b *symbolBinder) lookup(names ...string) uintptr {
	for _, n := range names {
		if addr, err := purego.Dlsym(b.lib, n); err == nil && addr != 0 {
			return addr
		}
	}
	if b.err == nil {
		b.err = fmt.Errorf("%s: symbol %q not found", b.libName, names[0])
	}
	return 0
}

// optional is like bind but a missing symbol is not an error; it reports
// whether the symbol was found.
func (b *symbolBinder) optional(fptr any, names ...string) bool {
	for _, n := range names {
		if addr, err := purego.Dlsym(b.lib, n); err == nil && addr != 0 {
			purego.RegisterFunc(fptr, addr)
			return true
		}
	}
	return false
}

// syscall calls a C function by address with integer-class arguments; it is
// the allocation-free path used for kernel launches.
func syscall(fn uintptr, args ...uintptr) uintptr {
	r, _, _ := purego.SyscallN(fn, args...)
	return r
}
