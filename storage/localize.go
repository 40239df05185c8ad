package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
)

// Localize returns a local path holding p's contents, for readers that
// need a file on disk (checkpoint loaders): p itself when local, else a
// temporary copy of the gs:// object. cleanup removes the copy.
func (f *FS) Localize(ctx context.Context, p string) (local string, cleanup func() error, err error) {
	if !IsGCS(p) {
		return p, func() error { return nil }, nil
	}
	r, err := f.Open(ctx, p)
	if err != nil {
		return "", nil, fmt.Errorf("copy %s to local disk: %w", p, err)
	}
	defer r.Close()
	tmp, err := os.CreateTemp("", "detflow-*-"+path.Base(p))
	if err != nil {
		return "", nil, fmt.Errorf("copy %s to local disk: %w", p, err)
	}
	cleanup = func() error { return os.Remove(tmp.Name()) }
	_, err = io.Copy(tmp, r)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", nil, errors.Join(fmt.Errorf("copy %s to local disk: %w", p, err), cleanup())
	}
	return tmp.Name(), cleanup, nil
}
