package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// localFS serves local paths with the os package.
type localFS struct{}

func (localFS) open(_ context.Context, p string) (io.ReadCloser, error) {
	return os.Open(p)
}

func (localFS) openReaderAt(_ context.Context, p string) (ReaderAt, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		return nil, errors.Join(err, f.Close())
	}
	if st.IsDir() {
		return nil, errors.Join(&fs.PathError{Op: "open", Path: p, Err: errors.New("is a directory")}, f.Close())
	}
	return &localReaderAt{File: f, size: st.Size()}, nil
}

// localReaderAt adds Size to an *os.File.
type localReaderAt struct {
	*os.File
	size int64
}

func (r *localReaderAt) Size() int64 { return r.size }

func (localFS) stat(_ context.Context, p string) (Info, error) {
	st, err := os.Stat(p)
	if err != nil {
		return Info{}, err
	}
	return localInfo(p, st), nil
}

func localInfo(p string, st fs.FileInfo) Info {
	info := Info{Path: p, Name: st.Name(), ModTime: st.ModTime(), IsDir: st.IsDir(), Inode: inode(st)}
	if !st.IsDir() {
		info.Size = st.Size()
	}
	return info
}

func (localFS) list(_ context.Context, dir string) ([]Info, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]Info, 0, len(entries))
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		// Stat, not the entry's Lstat info, so links report their target.
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("list %q: %w", dir, err)
		}
		out = append(out, localInfo(p, st))
	}
	return out, nil
}

func (localFS) listRecursive(_ context.Context, dir string) ([]Info, error) {
	var out []Info
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if st.IsDir() {
			return nil // a link to a directory: not followed
		}
		out = append(out, localInfo(p, st))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %q recursively: %w", dir, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func (localFS) remove(_ context.Context, p string) error {
	return os.Remove(p)
}

func (localFS) removeAll(_ context.Context, p string) error {
	if err := os.RemoveAll(p); err != nil {
		return fmt.Errorf("remove all %q: %w", p, err)
	}
	return nil
}

func (localFS) mkdirAll(_ context.Context, dir string) error {
	return os.MkdirAll(dir, 0o755)
}

func (localFS) rename(_ context.Context, from, to string) error {
	if _, err := os.Lstat(from); err != nil {
		return err
	}
	dir := filepath.Dir(to)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.Rename(from, to); err != nil {
		return err
	}
	return syncDir(dir)
}

func (localFS) create(_ context.Context, p string, _ int64) (sink, error) {
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// The temporary file lives beside the destination so that the final
	// rename never crosses a file system.
	f, err := os.CreateTemp(dir, "."+filepath.Base(p)+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &localSink{f: f, dst: p}, nil
}

// localSink writes a temporary file and renames it into place on commit.
type localSink struct {
	f   *os.File
	dst string
}

func (s *localSink) Write(p []byte) (int, error) { return s.f.Write(p) }

func (s *localSink) commit() error {
	if err := s.f.Sync(); err != nil {
		return err
	}
	// CreateTemp makes 0600 files; published files are ordinary ones.
	if err := s.f.Chmod(0o644); err != nil {
		return err
	}
	if err := s.f.Close(); err != nil {
		return err
	}
	if err := os.Rename(s.f.Name(), s.dst); err != nil {
		return err
	}
	// Without syncing the directory a power cut can lose the rename.
	return syncDir(filepath.Dir(s.dst))
}

func (s *localSink) abort() error {
	cerr := s.f.Close()
	if errors.Is(cerr, os.ErrClosed) {
		cerr = nil
	}
	rerr := os.Remove(s.f.Name())
	if errors.Is(rerr, fs.ErrNotExist) {
		rerr = nil
	}
	return errors.Join(cerr, rerr)
}

// syncDir flushes a directory's entries to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	serr := d.Sync()
	return errors.Join(serr, d.Close())
}
