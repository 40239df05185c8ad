package query

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/detflow/detflow/report"
	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

// TableViews are the Parquet tables a query sees as views, in the order
// they are created.
var TableViews = []string{"metrics", "train_log", "detections", "proposals"}

// knownTable is a table whose row type detflow defines: its files must be
// of the current schema version, and an empty view keeps its columns.
type knownTable struct {
	table  schemas.Table
	hasRun bool                   // the rows carry their own run column
	empty  func() ([]byte, error) // a Parquet file with no rows
}

// knownTables are the views' row types. A view's table not listed here is
// read without a version check, and querying it when no run has one is an
// error saying so.
func knownTables() map[string]knownTable {
	return map[string]knownTable{
		schemas.Metrics.Name:    {schemas.Metrics, true, emptyTable[schemas.Metric](schemas.Metrics)},
		schemas.TrainLog.Name:   {schemas.TrainLog, true, emptyTable[schemas.TrainLogRow](schemas.TrainLog)},
		schemas.Proposals.Name:  {schemas.Proposals, false, emptyTable[schemas.ImageProposals](schemas.Proposals)},
		schemas.Detections.Name: {schemas.Detections, false, emptyTable[schemas.Detection](schemas.Detections)},
	}
}

func emptyTable[T any](t schemas.Table) func() ([]byte, error) {
	return func() ([]byte, error) {
		var b bytes.Buffer
		err := schemas.Encode(&b, t, []T(nil))
		return b.Bytes(), err
	}
}

// Setup is how to build a query's views: SQL statements to run in order,
// and the views that cannot be read, each with the error a query that
// touches it gets.
type Setup struct {
	Statements []string
	Broken     map[string]error
}

// Prepare makes everything the views need: it copies the tables of a
// gs:// work directory below tmp, writes empty tables for views no run has,
// and returns the statements creating the views.
func Prepare(ctx context.Context, fsys *storage.FS, c *report.Catalog, tmp string) (*Setup, error) {
	local := map[string]string{}
	for _, f := range c.Files {
		if !slices.Contains(TableViews, f.Table) {
			continue
		}
		p, err := localCopy(ctx, fsys, c.Workdir, f.Path, tmp)
		if err != nil {
			return nil, err
		}
		local[f.Path] = p
	}
	known := knownTables()
	empty := map[string]string{}
	for name, k := range known {
		if len(c.TableFiles(name, "")) > 0 {
			continue
		}
		b, err := k.empty()
		if err != nil {
			return nil, fmt.Errorf("make empty %s table: %w", name, err)
		}
		p := filepath.Join(tmp, "empty", name+".parquet")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return nil, fmt.Errorf("make empty %s table: %w", name, err)
		}
		empty[name] = p
	}
	return buildSetup(c, local, empty, known), nil
}

// localCopy returns a local path to read p from: p itself (made absolute)
// for a local work directory, or a copy below tmp for gs://.
func localCopy(ctx context.Context, fsys *storage.FS, workdir, p, tmp string) (string, error) {
	if !storage.IsGCS(p) {
		return filepath.Abs(p)
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(p, strings.TrimSuffix(workdir, "/")), "/")
	dst := filepath.Join(tmp, "gcs", filepath.FromSlash(rel))
	b, err := fsys.ReadFile(ctx, p)
	if err != nil {
		return "", fmt.Errorf("copy table for querying: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", fmt.Errorf("copy table for querying: %w", err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		return "", fmt.Errorf("copy table for querying: %w", err)
	}
	return dst, nil
}

// buildSetup writes the statements: settings, the runs and stages tables
// from run.json and manifests, and one view per table. local maps each
// table file to where the engine reads it; empty maps a known table no run
// has to an empty file of its schema; known gives the tables' row types.
func buildSetup(c *report.Catalog, local, empty map[string]string, known map[string]knownTable) *Setup {
	s := &Setup{Broken: map[string]error{}}
	s.Statements = append(s.Statements,
		// Extensions are linked in; never fetch one over the network.
		"SET autoinstall_known_extensions = false",
		"SET TimeZone = 'UTC'",
	)
	s.Statements = append(s.Statements, runsTable(c)...)
	s.Statements = append(s.Statements, stagesTable(c)...)
	for _, name := range TableViews {
		k, isKnown := known[name]
		files := c.TableFiles(name, "")
		var broken error
		for _, f := range files {
			if isKnown {
				if err := f.CheckVersion(k.table); err != nil {
					broken = err
					break
				}
			}
		}
		switch {
		case broken != nil:
			s.Broken[name] = broken
		case len(files) == 0 && empty[name] != "":
			star := "*"
			if k.hasRun {
				star = "* EXCLUDE (run)"
			}
			s.Statements = append(s.Statements, fmt.Sprintf(
				"CREATE VIEW %s AS SELECT CAST(NULL AS VARCHAR) AS run, %s FROM read_parquet(%s)",
				name, star, literal(empty[name])))
		case len(files) == 0:
			s.Broken[name] = fmt.Errorf("no run in %s has a %s table yet", c.Workdir, name)
		default:
			s.Statements = append(s.Statements, tableView(name, files, local))
		}
	}
	return s
}

// tableView unions each run's files of a table, the run folder's name
// first in a run column (replacing a run column of the files, which holds
// the same name for tables written by a run's own stages).
func tableView(name string, files []report.TableFile, local map[string]string) string {
	var parts []string
	for i := 0; i < len(files); {
		j := i
		hasRun := false
		var paths []string
		for ; j < len(files) && files[j].Run == files[i].Run; j++ {
			paths = append(paths, literal(local[files[j].Path]))
			hasRun = hasRun || slices.Contains(files[j].Columns, "run")
		}
		star := "*"
		if hasRun {
			star = "* EXCLUDE (run)"
		}
		parts = append(parts, fmt.Sprintf("SELECT %s AS run, %s FROM read_parquet([%s], union_by_name = true)",
			literal(files[i].Run), star, strings.Join(paths, ", ")))
		i = j
	}
	return fmt.Sprintf("CREATE VIEW %s AS %s", name, strings.Join(parts, " UNION ALL BY NAME "))
}

func runsTable(c *report.Catalog) []string {
	stmts := []string{"CREATE TABLE runs (run VARCHAR, pipeline VARCHAR, config VARCHAR, created TIMESTAMPTZ, updated TIMESTAMPTZ)"}
	var rows []string
	for _, r := range c.Runs {
		rows = append(rows, fmt.Sprintf("(%s, %s, %s, %s, %s)", literal(r.Name), literal(r.Info.Pipeline),
			literal(r.Info.Config), timestamp(r.Info.Created), timestamp(r.Info.Updated)))
	}
	if len(rows) > 0 {
		stmts = append(stmts, "INSERT INTO runs VALUES "+strings.Join(rows, ", "))
	}
	return stmts
}

func stagesTable(c *report.Catalog) []string {
	stmts := []string{"CREATE TABLE stages (run VARCHAR, stage VARCHAR, version INTEGER, fingerprint VARCHAR, " +
		"started TIMESTAMPTZ, finished TIMESTAMPTZ, seconds DOUBLE, outputs INTEGER, bytes BIGINT)"}
	var rows []string
	for _, r := range c.Runs {
		for _, st := range r.Stages {
			m := st.Manifest
			var bytes int64
			for _, o := range m.Outputs {
				bytes += o.Size
			}
			rows = append(rows, fmt.Sprintf("(%s, %s, %d, %s, %s, %s, %s, %d, %d)", literal(r.Name), literal(st.Name),
				m.Version, literal(m.Fingerprint), timestamp(m.Started), timestamp(m.Finished),
				strconv.FormatFloat(m.Seconds, 'g', -1, 64), len(m.Outputs), bytes))
		}
	}
	if len(rows) > 0 {
		stmts = append(stmts, "INSERT INTO stages VALUES "+strings.Join(rows, ", "))
	}
	return stmts
}

// literal quotes s as an SQL string.
func literal(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// timestamp is an SQL TIMESTAMPTZ literal, NULL for the zero time.
func timestamp(t time.Time) string {
	if t.IsZero() {
		return "NULL"
	}
	return literal(t.UTC().Format("2006-01-02 15:04:05.999999-07:00")) + "::TIMESTAMPTZ"
}
