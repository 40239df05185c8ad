package configs

import (
	"fmt"
	"strings"
)

// Error is one problem with a config, located where the offending value was
// written: a file and line ("configs/x.yaml:12"), a "--set k=v" flag, or a
// config name for errors about the config as a whole.
type Error struct {
	Source string // where: "file:line", "--set k=v" or a config name
	Key    string // the full key path, e.g. "train.lr"; empty if none
	Msg    string // what is wrong, starting with the key where there is one
}

func (e *Error) Error() string {
	if e.Source == "" {
		return e.Msg
	}
	return e.Source + ": " + e.Msg
}

func errorf(source, key, format string, args ...any) *Error {
	return &Error{Source: source, Key: key, Msg: fmt.Sprintf(format, args...)}
}

// ValidationError lists every rule a resolved config breaks.
type ValidationError struct {
	Name string   // the config's name
	Errs []*Error // one per broken rule, in key order
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid config %q:", e.Name)
	for _, err := range e.Errs {
		b.WriteString("\n  ")
		b.WriteString(err.Error())
	}
	return b.String()
}

// Unwrap returns the individual errors, for errors.As and errors.Is.
func (e *ValidationError) Unwrap() []error {
	errs := make([]error, len(e.Errs))
	for i, err := range e.Errs {
		errs[i] = err
	}
	return errs
}
