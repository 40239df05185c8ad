//go:build cgo

package query

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/detflow/detflow/report"
	"github.com/detflow/detflow/storage"
)

// Run runs one SQL query over every run in workdir and returns its result.
// An empty or missing work directory, a view whose tables cannot be read
// (an older schema version) and SQL DuckDB rejects are errors that say so,
// with DuckDB's own message.
func Run(ctx context.Context, fsys *storage.FS, workdir, query string) (_ *report.Table, err error) {
	if strings.TrimSpace(query) == "" {
		return nil, errors.New("empty query: give one SQL statement, e.g. \"select * from runs\"")
	}
	c, err := report.Scan(ctx, fsys, workdir)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "detflow-query-")
	if err != nil {
		return nil, fmt.Errorf("make query folder: %w", err)
	}
	defer func() { err = errors.Join(err, os.RemoveAll(tmp)) }()
	setup, err := Prepare(ctx, fsys, c, tmp)
	if err != nil {
		return nil, err
	}
	db, err := open()
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to duckdb: %w", err)
	}
	defer conn.Close()
	for _, stmt := range setup.Statements {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return nil, fmt.Errorf("create views: %w (statement: %.200s)", err, stmt)
		}
	}
	if err := checkBroken(conn, query, setup.Broken); err != nil {
		return nil, err
	}
	return runQuery(ctx, conn, query)
}

func open() (*sql.DB, error) {
	connector, err := duckdb.NewConnector("", nil) // in memory
	if err != nil {
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	return sql.OpenDB(connector), nil
}

// checkBroken refuses a query that reads a view that cannot be built. SQL
// that does not parse passes, so DuckDB's own message reports it.
func checkBroken(conn *sql.Conn, query string, broken map[string]error) error {
	if len(broken) == 0 {
		return nil
	}
	names, err := duckdb.GetTableNames(conn, query, false)
	if err != nil {
		return nil
	}
	sort.Strings(names)
	for _, n := range names {
		if err := broken[strings.ToLower(n)]; err != nil {
			return fmt.Errorf("view %s: %w", strings.ToLower(n), err)
		}
	}
	return nil
}

func runQuery(ctx context.Context, conn *sql.Conn, query string) (*report.Table, error) {
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("run query: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("read result columns: %w", err)
	}
	t := &report.Table{Columns: cols}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("read result row %d: %w", len(t.Rows)+1, err)
		}
		t.Rows = append(t.Rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("run query: %w", err)
	}
	return t, nil
}
