package main

import (
	"context"
	"log/slog"
	"strings"
)

// planDumpFilter drops the records in which prism repeats a failed job's
// execution plan (one ERROR line per retry, each ~18 lines long): the stage
// error already names the cause, and --verbose brings the plan back.
type planDumpFilter struct{ slog.Handler }

// hasPlan tells prism's plan dumps apart by the SDK's fixed wording.
func hasPlan(s string) bool { return strings.Contains(s, "while executing Process for Plan[") }

func (f planDumpFilter) Handle(ctx context.Context, r slog.Record) error {
	dump := hasPlan(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		dump = dump || hasPlan(a.Value.String())
		return !dump
	})
	if dump {
		return nil
	}
	return f.Handler.Handle(ctx, r)
}

func (f planDumpFilter) WithAttrs(as []slog.Attr) slog.Handler {
	return planDumpFilter{f.Handler.WithAttrs(as)}
}

func (f planDumpFilter) WithGroup(name string) slog.Handler {
	return planDumpFilter{f.Handler.WithGroup(name)}
}
