package records

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/parquet-go/parquet-go"

	"github.com/detflow/detflow/schemas"
	"github.com/detflow/detflow/storage"
)

// batchRows bounds a reader's memory: rows are decoded this many at a time.
const batchRows = 16

// Reader streams one split's records, shard by shard.
type Reader struct {
	fsys  *storage.FS
	dir   string
	Index *Index
}

// Open reads the index of split in the records stage folder stageDir.
func Open(ctx context.Context, fsys *storage.FS, stageDir, split string) (*Reader, error) {
	dir := storage.Join(stageDir, split)
	ix, err := readIndex(ctx, fsys, dir)
	if err != nil {
		return nil, err
	}
	return &Reader{fsys: fsys, dir: dir, Index: ix}, nil
}

// CorruptShardError names a shard that does not match its index entry or
// does not decode.
type CorruptShardError struct {
	Path string
	Why  string
}

func (e *CorruptShardError) Error() string {
	return fmt.Sprintf("records: shard %s is corrupt: %s; rebuild it with `pipeline run ... --stages records --force`", e.Path, e.Why)
}

// ReadShard checks shard i against the index (size and SHA-256) and calls fn
// for each of its records in order. At most batchRows records are decoded
// at once; fn must not keep a record's slices after it returns.
func (r *Reader) ReadShard(ctx context.Context, i int, fn func(*schemas.Record) error) error {
	if i < 0 || i >= len(r.Index.Shards) {
		return fmt.Errorf("records: %s has no shard %d", r.dir, i)
	}
	info := r.Index.Shards[i]
	p := storage.Join(r.dir, info.File)
	d, err := r.fsys.DigestFile(ctx, p)
	if err != nil {
		return fmt.Errorf("records: read shard: %w", err)
	}
	if d.Size != info.Bytes {
		return &CorruptShardError{p, fmt.Sprintf("%d bytes, the index says %d (truncated?)", d.Size, info.Bytes)}
	}
	if d.SHA256 != info.SHA256 {
		return &CorruptShardError{p, "sha256 " + d.SHA256 + " differs from the index's " + info.SHA256}
	}
	ra, err := r.fsys.OpenReaderAt(ctx, p)
	if err != nil {
		return fmt.Errorf("records: read shard: %w", err)
	}
	defer ra.Close()
	n, err := streamRows(ra, ra.Size(), fn)
	if err != nil {
		var ce *CorruptShardError
		if errors.As(err, &ce) {
			ce.Path = p
		}
		return err
	}
	if n != info.Rows {
		return &CorruptShardError{p, fmt.Sprintf("%d rows, the index says %d", n, info.Rows)}
	}
	return nil
}

// ReadAll reads every shard in index order.
func (r *Reader) ReadAll(ctx context.Context, fn func(*schemas.Record) error) error {
	for i := range r.Index.Shards {
		if err := r.ReadShard(ctx, i, fn); err != nil {
			return err
		}
	}
	return nil
}

// streamRows decodes a records Parquet file batch by batch.
func streamRows(ra io.ReaderAt, size int64, fn func(*schemas.Record) error) (int, error) {
	f, err := parquet.OpenFile(ra, size)
	if err != nil {
		return 0, &CorruptShardError{Why: "not a Parquet file: " + err.Error()}
	}
	if v, _ := f.Lookup(schemas.VersionKey); v != strconv.Itoa(schemas.Records.Version) {
		return 0, fmt.Errorf("records: shard schema version %q, this detflow reads %d; rebuild the records stage", v, schemas.Records.Version)
	}
	rd := parquet.NewGenericReader[schemas.Record](f)
	defer rd.Close()
	batch := make([]schemas.Record, batchRows)
	total := 0
	for {
		n, err := rd.Read(batch)
		for i := 0; i < n; i++ {
			if ferr := fn(&batch[i]); ferr != nil {
				return total, ferr
			}
			total++
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, &CorruptShardError{Why: "decode rows: " + err.Error()}
		}
	}
}
