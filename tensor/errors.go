package tensor

import (
	"errors"
	"fmt"
)

// InputError is the panic value of an operation given operands it cannot
// use: shapes that do not match, an index out of range, a freed tensor.
// Operators panic rather than return errors so that model code reads like
// the maths; Recover turns the panic into an error at API boundaries.
// Packages above tensor (nn, detection, gpu/tensordev) raise it too, with
// their own prefix in Msg.
type InputError struct {
	Msg string // with its package prefix: "tensor: matmul [2 3] by [4 5]"
}

func (e *InputError) Error() string { return e.Msg }

// Panicf panics with an *InputError whose message is format applied to args.
func Panicf(format string, args ...any) {
	panic(&InputError{Msg: fmt.Sprintf(format, args...)})
}

// DeviceError is the panic value of a Device that failed: out of memory, a
// faulted kernel, a lost context. Device methods have no error results, so
// a backend reports its driver's error this way.
type DeviceError struct {
	Backend string // the package that raised it: "tensordev"
	Err     error  // the driver's error; errors.Is sees through to it
}

func (e *DeviceError) Error() string { return e.Backend + ": " + e.Err.Error() }

func (e *DeviceError) Unwrap() error { return e.Err }

// Recover, deferred, turns a panic whose value is or wraps an *InputError
// or a *DeviceError into *err, prefixed with context ("train: step") where
// context is not empty; errors.As finds the original value. Any other panic
// is a bug and propagates.
//
//	defer tensor.Recover(&err, "train: step")
func Recover(err *error, context string) {
	r := recover()
	if r == nil {
		return
	}
	e, ok := r.(error)
	if !ok || !IsEngineError(e) {
		panic(r)
	}
	if context != "" {
		e = fmt.Errorf("%s: %w", context, e)
	}
	*err = e
}

// IsEngineError reports whether err is or wraps an *InputError or a
// *DeviceError.
func IsEngineError(err error) bool {
	var in *InputError
	var dev *DeviceError
	return errors.As(err, &in) || errors.As(err, &dev)
}
