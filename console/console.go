// Package console writes log lines for people watching a run in a terminal:
// a short time, the stage, and the message with numbers at a readable
// precision, warnings and errors in colour. Machines (CI, files) get slog's
// own formats at full precision instead, chosen by --log-format.
//
// A record may carry the line people should read (Say, Print): the people's
// handler shows it in place of the message and attributes, while slog's
// machine handlers leave it out and keep every attribute as it is.
package console

import (
	"fmt"
	"io"
	"log/slog"
	"os"
)

// Format selects how log lines are written to the console.
type Format string

const (
	Auto   Format = "auto"   // Text on a terminal, Logfmt elsewhere
	Text   Format = "text"   // for people (this package's handler)
	Logfmt Format = "logfmt" // slog's key=value text, full precision
	JSON   Format = "json"   // slog's JSON, full precision
)

// ParseFormat parses the --log-format flag.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case Auto, Text, Logfmt, JSON:
		return f, nil
	}
	return "", fmt.Errorf("--log-format %q: want auto, text, logfmt or json", s)
}

// Options configure a console handler.
type Options struct {
	Format   Format
	Level    slog.Leveler
	Stage    string // shown on each line of the Text format
	Terminal bool   // whether w is an interactive terminal (Auto, colours)
}

// NewHandler returns the handler that writes to w in opts.Format.
func NewHandler(w io.Writer, opts Options) slog.Handler {
	ho := &slog.HandlerOptions{Level: opts.Level}
	switch opts.Format {
	case JSON:
		return slog.NewJSONHandler(w, ho)
	case Logfmt:
		return slog.NewTextHandler(w, ho)
	case Text:
	default: // Auto, or unset
		if !opts.Terminal {
			return slog.NewTextHandler(w, ho)
		}
	}
	return newPeople(w, opts.Stage, opts.Level, opts.Terminal && colourWanted())
}

// colourWanted follows https://no-color.org and terminals that cannot.
func colourWanted() bool {
	return os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// sayKey is the attribute key of the line for people; machine handlers
// never see it (its value resolves to an empty group, which slog omits).
const sayKey = "console"

// said is the value of a sayKey attribute.
type said struct {
	text string
	bare bool // without time and stage, as a report prints it
}

// LogValue hides the line from machine handlers.
func (said) LogValue() slog.Value { return slog.GroupValue() }

// Say makes text the line people read for this record, after the time and
// stage, in place of the message and attributes.
func Say(text string) slog.Attr { return slog.Any(sayKey, said{text: text}) }

// Print makes text, verbatim and unprefixed, what people read for this
// record (a report such as COCO's summary); empty text shows them nothing.
func Print(text string) slog.Attr { return slog.Any(sayKey, said{text: text, bare: true}) }
