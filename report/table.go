package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Table is a result set: named columns and rows of Go values as
// database/sql scans them (nil, bool, int64, float64, string, []byte,
// time.Time, or lists and maps for nested Parquet columns).
type Table struct {
	Columns []string
	Rows    [][]any
	// Null is the text printed for nil in the table and Markdown formats;
	// "" means "NULL".
	Null string
}

// Format is how a Table is printed.
type Format string

// The formats --format accepts.
const (
	FormatTable    Format = "table"    // aligned columns, numbers right-aligned
	FormatCSV      Format = "csv"      // RFC 4180, header first
	FormatJSON     Format = "json"     // an array of objects, keys in column order
	FormatMarkdown Format = "markdown" // a GitHub-flavoured Markdown table
)

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatTable, FormatCSV, FormatJSON, FormatMarkdown:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q: want table, csv, json or markdown", s)
}

// Write prints t in format f.
func (t *Table) Write(w io.Writer, f Format) error {
	var err error
	switch f {
	case FormatTable:
		err = t.writeAligned(w)
	case FormatCSV:
		err = t.writeCSV(w)
	case FormatJSON:
		err = t.writeJSON(w)
	case FormatMarkdown:
		err = t.writeMarkdown(w)
	default:
		err = fmt.Errorf("unknown format %q", f)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", f, err)
	}
	return nil
}

// cells renders every row as text, and marks numeric columns (every
// non-null value a number) for right alignment.
func (t *Table) cells() ([][]string, []bool) {
	numeric := make([]bool, len(t.Columns))
	for j := range numeric {
		numeric[j] = true
	}
	out := make([][]string, len(t.Rows))
	for i, r := range t.Rows {
		out[i] = make([]string, len(r))
		for j, v := range r {
			out[i][j] = Cell(v)
			if v == nil && t.Null != "" {
				out[i][j] = t.Null
			}
			if v != nil && !isNumber(v) {
				numeric[j] = false
			}
		}
	}
	return out, numeric
}

func (t *Table) writeAligned(w io.Writer) error {
	cells, numeric := t.cells()
	for _, r := range cells {
		for j, c := range r {
			r[j] = oneLine(c)
		}
	}
	width := make([]int, len(t.Columns))
	for j, c := range t.Columns {
		width[j] = utf8.RuneCountInString(c)
	}
	for _, r := range cells {
		for j, c := range r {
			width[j] = max(width[j], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	line := func(r []string, right func(j int) bool) {
		for j, c := range r {
			pad := strings.Repeat(" ", width[j]-utf8.RuneCountInString(c))
			if j > 0 {
				b.WriteString("  ")
			}
			switch {
			case right(j):
				b.WriteString(pad + c)
			case j < len(r)-1:
				b.WriteString(c + pad)
			default:
				b.WriteString(c) // no trailing blanks
			}
		}
		b.WriteByte('\n')
	}
	line(t.Columns, func(j int) bool { return numeric[j] && len(cells) > 0 })
	rule := make([]string, len(t.Columns))
	for j := range rule {
		rule[j] = strings.Repeat("-", width[j])
	}
	line(rule, func(int) bool { return false })
	for _, r := range cells {
		line(r, func(j int) bool { return numeric[j] })
	}
	fmt.Fprintf(&b, "(%d %s)\n", len(cells), plural(len(cells), "row", "rows"))
	_, err := io.WriteString(w, b.String())
	return err
}

func (t *Table) writeCSV(w io.Writer) error {
	cells, _ := t.cells()
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Columns); err != nil {
		return err
	}
	for i, r := range cells {
		for j, v := range t.Rows[i] {
			if v == nil {
				r[j] = "" // CSV's null is the empty field
			}
		}
		if err := cw.Write(r); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func (t *Table) writeJSON(w io.Writer) error {
	var b bytes.Buffer
	b.WriteString("[")
	for i, r := range t.Rows {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n  {")
		for j, v := range r {
			if j > 0 {
				b.WriteString(", ")
			}
			k, _ := json.Marshal(t.Columns[j])
			val, err := jsonValue(v)
			if err != nil {
				return fmt.Errorf("column %q: %w", t.Columns[j], err)
			}
			b.Write(k)
			b.WriteString(": ")
			b.Write(val)
		}
		b.WriteString("}")
	}
	if len(t.Rows) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("]\n")
	_, err := w.Write(b.Bytes())
	return err
}

// jsonValue encodes v; NaN and infinities, which JSON lacks, become strings.
func jsonValue(v any) ([]byte, error) {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return json.Marshal(Cell(x))
		}
	case float32:
		return jsonValue(float64(x))
	case time.Time:
		return json.Marshal(Cell(x))
	case floater:
		return jsonValue(x.Float64())
	}
	return json.Marshal(v)
}

func (t *Table) writeMarkdown(w io.Writer) error {
	cells, numeric := t.cells()
	var b strings.Builder
	esc := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }
	b.WriteString("|")
	for _, c := range t.Columns {
		b.WriteString(" " + esc(c) + " |")
	}
	b.WriteString("\n|")
	for j := range t.Columns {
		if numeric[j] && len(cells) > 0 {
			b.WriteString("---:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteString("\n")
	for _, r := range cells {
		b.WriteString("|")
		for _, c := range r {
			b.WriteString(" " + esc(c) + " |")
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Cell renders one value as text: NULL for nil, the shortest exact decimal
// for floats, UTC timestamps, JSON for nested values.
func Cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return x
	case []byte:
		return fmt.Sprintf("<%d bytes>", len(x))
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04:05.999999999")
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(x)
	case fmt.Stringer:
		return x.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// oneLine escapes line breaks so a cell keeps to its row.
func oneLine(s string) string {
	return strings.NewReplacer("\r", `\r`, "\n", `\n`, "\t", `\t`).Replace(s)
}

// floater is a number type of a database driver, such as DuckDB's DECIMAL.
type floater interface{ Float64() float64 }

func isNumber(v any) bool {
	switch v.(type) {
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64, floater, *big.Int:
		return true
	}
	return false
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
