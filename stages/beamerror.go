package stages

import (
	"regexp"
	"strings"
)

// BeamError is a failed Beam job's error cut down to what the user can act
// on. A DoFn's error crosses the runner as text: "job J failed:", the
// bundle's execution plan (one line per transform, ~18 lines), "caused by:",
// the DoFn's name and only then the DoFn's own message, which names the
// file and record. Error puts that message first; Plan keeps the rest.
type BeamError struct {
	Context   string // the stage's own wrapping before the job's text
	Cause     string // the failing DoFn's message
	Transform string // the failing DoFn, e.g. "proposals.searchFn"
	Plan      string // the job's full text, plan included
	err       error  // as returned, for errors.Is (a cancelled context)
}

func (e *BeamError) Unwrap() error { return e.err }

func (e *BeamError) Error() string {
	msg := e.Context + e.Cause
	if e.Transform != "" {
		msg += " (in Beam transform " + e.Transform + "; --verbose or the stage log shows the Beam plan)"
	}
	return msg
}

var (
	beamJobFailed = regexp.MustCompile(`job \S+ failed:\n`)
	beamDoFn      = regexp.MustCompile(`(?m)^DoFn\[[^\]]*Name: ([^\]]+)\] failed:\n`)
)

// CondenseBeamError returns err as a *BeamError when its text is a failed
// Beam job's with a DoFn cause, else err itself.
func CondenseBeamError(err error) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	job := beamJobFailed.FindStringIndex(text)
	const causedBy = "\tcaused by:\n"
	at := strings.LastIndex(text, causedBy)
	if job == nil || at < job[0] {
		return err
	}
	e := &BeamError{Context: text[:job[0]], Plan: text[job[0]:], err: err}
	cause := text[at+len(causedBy):]
	if m := beamDoFn.FindStringSubmatchIndex(cause); m != nil && m[0] == 0 {
		name := cause[m[2]:m[3]]
		e.Transform = name[strings.LastIndex(name, "/")+1:]
		cause = cause[m[1]:]
	}
	e.Cause = strings.TrimSpace(cause)
	return e
}
