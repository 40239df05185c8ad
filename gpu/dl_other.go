//go:build !linux

package gpu

import (
	"errors"
	"runtime"
)

func systemDlopen(path string) (uintptr, error) {
	return 0, errors.New("the CUDA backend supports linux only, not " + runtime.GOOS)
}

type symbolBinder struct {
	lib     uintptr
	libName string
	err     error
}

func (b *symbolBinder) bind(fptr any, names ...string) {
	if b.err == nil {
		b.err = errors.New("the CUDA backend supports linux only")
	}
}

func (b *symbolBinder) lookup(names ...string) uintptr {
	b.bind(nil, names...)
	return 0
}

func (b *symbolBinder) optional(fptr any, names ...string) bool { return false }

func syscall(fn uintptr, args ...uintptr) uintptr { panic("gpu: syscall on " + runtime.GOOS) }
