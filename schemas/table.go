package schemas

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/parquet-go/parquet-go"

	"github.com/detflow/detflow/storage"
)

// VersionKey is the key-value metadata key holding a table's schema version.
const VersionKey = "detflow.schema_version"

// TableKey names the table a file holds, e.g. "metrics".
const TableKey = "detflow.table"

// Table describes one row type: its name and current schema version.
type Table struct {
	Name    string
	Version int
}

// Write writes rows to path atomically: the file appears only complete.
func Write[T any](ctx context.Context, fsys *storage.FS, path string, t Table, rows []T) error {
	var buf bytes.Buffer
	if err := Encode(&buf, t, rows); err != nil {
		return fmt.Errorf("write %s table %s: %w", t.Name, path, err)
	}
	if _, err := fsys.WriteFile(ctx, path, buf.Bytes()); err != nil {
		return fmt.Errorf("write %s table: %w", t.Name, err)
	}
	return nil
}

// Encode writes rows as a Parquet file carrying t's name and version.
func Encode[T any](w io.Writer, t Table, rows []T) error {
	pw := parquet.NewGenericWriter[T](w,
		parquet.KeyValueMetadata(TableKey, t.Name),
		parquet.KeyValueMetadata(VersionKey, strconv.Itoa(t.Version)))
	if _, err := pw.Write(rows); err != nil {
		return err
	}
	return pw.Close()
}

// Read reads every row of a table file, refusing a file of another table or
// schema version with an error that names both.
func Read[T any](ctx context.Context, fsys *storage.FS, path string, t Table) ([]T, error) {
	ra, err := fsys.OpenReaderAt(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("read %s table: %w", t.Name, err)
	}
	defer ra.Close()
	rows, err := Decode[T](ra, ra.Size(), t)
	if err != nil {
		return nil, fmt.Errorf("read %s table %s: %w", t.Name, path, err)
	}
	return rows, nil
}

// Decode reads rows from a Parquet file of size bytes. A corrupt file is an
// error, never a panic (parquet-go panics on some malformed inputs).
func Decode[T any](r io.ReaderAt, size int64, t Table) (rows []T, err error) {
	defer func() {
		if p := recover(); p != nil {
			rows, err = nil, fmt.Errorf("corrupt Parquet file: %v", p)
		}
	}()
	f, err := parquet.OpenFile(r, size)
	if err != nil {
		return nil, err
	}
	name, _ := f.Lookup(TableKey)
	ver, _ := f.Lookup(VersionKey)
	if name != t.Name {
		return nil, fmt.Errorf("file holds table %q, want %q", name, t.Name)
	}
	if ver != strconv.Itoa(t.Version) {
		return nil, fmt.Errorf("schema version %q, this detflow reads version %d", ver, t.Version)
	}
	if f.NumRows() < 0 || f.NumRows() > size {
		return nil, fmt.Errorf("corrupt Parquet file: footer claims %d rows in %d bytes", f.NumRows(), size)
	}
	rows = make([]T, f.NumRows())
	n, err := parquet.NewGenericReader[T](f).Read(rows)
	if err != nil && err != io.EOF {
		return nil, err
	}
	return rows[:n], nil
}
