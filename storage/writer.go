package storage

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
)

// Writer writes one file that becomes visible only on Commit. It hashes the
// bytes as they pass, so the caller gets the digest for a manifest without
// reading the file back. A Writer is not safe for concurrent use.
//
// The usual pattern:
//
//	w, err := fsys.Create(ctx, p)
//	if err != nil { return err }
//	defer w.Abort() // no-op after a successful Commit
//	... write ...
//	return w.Commit()
type Writer struct {
	ctx  context.Context
	path string
	s    sink
	h    hash.Hash
	n    int64
	done bool
}

func newWriter(ctx context.Context, p string, s sink) *Writer {
	return &Writer{ctx: ctx, path: p, s: s, h: sha256.New()}
}

// Path is the destination path.
func (w *Writer) Path() string { return w.path }

// Write appends p to the pending file.
func (w *Writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, fmt.Errorf("write %q: writer already committed or aborted", w.path)
	}
	n, err := w.s.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	if err != nil {
		return n, fmt.Errorf("write %q: %w", w.path, err)
	}
	return n, nil
}

// Commit publishes the file at its path. After an error nothing was
// published and the temporary data is gone. A Writer whose context was
// cancelled aborts instead, on both backends.
func (w *Writer) Commit() error {
	if w.done {
		return fmt.Errorf("commit %q: writer already committed or aborted", w.path)
	}
	if err := w.ctx.Err(); err != nil {
		return errors.Join(fmt.Errorf("commit %q: %w", w.path, err), w.Abort())
	}
	w.done = true
	if err := w.s.commit(); err != nil {
		return errors.Join(fmt.Errorf("commit %q: %w", w.path, err), w.s.abort())
	}
	return nil
}

// Abort discards the pending file. It is a no-op after Commit or Abort, so
// it can always be deferred.
func (w *Writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	if err := w.s.abort(); err != nil {
		return fmt.Errorf("abort %q: %w", w.path, err)
	}
	return nil
}

// Digest is the SHA-256 and size of the bytes written so far.
func (w *Writer) Digest() Digest {
	return Digest{SHA256: fmt.Sprintf("%x", w.h.Sum(nil)), Size: w.n}
}
