package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	gcs "cloud.google.com/go/storage"
	"google.golang.org/api/option"
)

// Options configures an FS. The zero value is valid: local paths work at
// once, and the first gs:// path creates a client with Application Default
// Credentials (or the STORAGE_EMULATOR_HOST emulator when that is set).
type Options struct {
	// Client, when set, serves every gs:// path; the FS never closes it.
	Client *gcs.Client
	// Endpoint, when set, points the lazily created client at another GCS
	// endpoint without authentication, for example a fake server at
	// "http://127.0.0.1:4443/storage/v1/".
	Endpoint string
	// ClientOptions are passed to the lazily created client.
	ClientOptions []option.ClientOption
}

// Info describes a file, an object or a directory.
type Info struct {
	Path    string    // full path as given or listed
	Name    string    // last path element
	Size    int64     // bytes; 0 for directories
	ModTime time.Time // zero for GCS directories
	IsDir   bool
	// Inode (local files) and Generation (GCS objects) change when a file
	// is replaced; with Size and ModTime they tell a stat cache that
	// content may have changed without reading it.
	Inode      uint64
	Generation int64
}

// FS reads and writes local and gs:// paths. It is safe for concurrent use.
// Close releases the GCS client it created, if any.
type FS struct {
	opts  Options
	local localFS

	once   sync.Once
	gcs    *gcsFS
	gcsErr error
}

// backend is what each kind of path (local, gs://) implements.
type backend interface {
	open(ctx context.Context, p string) (io.ReadCloser, error)
	openReaderAt(ctx context.Context, p string) (ReaderAt, error)
	stat(ctx context.Context, p string) (Info, error)
	list(ctx context.Context, dir string) ([]Info, error)
	listRecursive(ctx context.Context, dir string) ([]Info, error)
	remove(ctx context.Context, p string) error
	removeAll(ctx context.Context, p string) error
	create(ctx context.Context, p string, sizeHint int64) (sink, error)
	rename(ctx context.Context, from, to string) error
	mkdirAll(ctx context.Context, dir string) error
}

// sink is the backend half of a Writer: bytes go in, and either commit
// publishes them at the destination or abort throws them away.
type sink interface {
	io.Writer
	commit() error
	abort() error
}

// New returns an FS. It does not contact GCS: the client for gs:// paths is
// created on first use.
func New(ctx context.Context, opts Options) (*FS, error) {
	if opts.Client != nil && (opts.Endpoint != "" || len(opts.ClientOptions) > 0) {
		return nil, errors.New("new storage: set either Client or Endpoint/ClientOptions, not both")
	}
	return &FS{opts: opts}, nil
}

// Close releases the GCS client that the FS created. A client passed in
// Options.Client stays open.
func (f *FS) Close() error {
	if f.gcs == nil || f.opts.Client != nil {
		return nil
	}
	if err := f.gcs.client.Close(); err != nil {
		return fmt.Errorf("close gcs client: %w", err)
	}
	return nil
}

// backendFor picks the backend that serves p, creating the GCS client on
// first use.
func (f *FS) backendFor(ctx context.Context, p string) (backend, error) {
	if !IsGCS(p) {
		return f.local, nil
	}
	f.once.Do(func() { f.gcs, f.gcsErr = f.newGCS(ctx) })
	if f.gcsErr != nil {
		return nil, f.gcsErr
	}
	return f.gcs, nil
}

func (f *FS) newGCS(ctx context.Context) (*gcsFS, error) {
	if f.opts.Client != nil {
		return &gcsFS{client: f.opts.Client}, nil
	}
	opts := append([]option.ClientOption(nil), f.opts.ClientOptions...)
	if f.opts.Endpoint != "" {
		// Emulators serve the JSON API; the default XML reads would go to a
		// host they do not answer.
		opts = append(opts, option.WithEndpoint(f.opts.Endpoint), option.WithoutAuthentication(), gcs.WithJSONReads())
	} else if os.Getenv("STORAGE_EMULATOR_HOST") != "" {
		// The client honours the variable for its endpoint but still reads
		// through the XML API, which emulators do not serve.
		opts = append(opts, gcs.WithJSONReads())
	}
	// The client outlives the call that happened to create it.
	c, err := gcs.NewClient(context.WithoutCancel(ctx), opts...)
	if err != nil {
		return nil, fmt.Errorf("create gcs client: %w", err)
	}
	return &gcsFS{client: c}, nil
}

// Open opens p for reading.
func (f *FS) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	b, err := f.backendFor(ctx, p)
	if err != nil {
		return nil, err
	}
	return b.open(ctx, p)
}

// ReadFile reads the whole of p.
func (f *FS) ReadFile(ctx context.Context, p string) ([]byte, error) {
	r, err := f.Open(ctx, p)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(r)
	if cerr := r.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", p, err)
	}
	return data, nil
}

// Stat describes p. A gs:// path that is not an object but prefixes one is
// reported as a directory.
func (f *FS) Stat(ctx context.Context, p string) (Info, error) {
	b, err := f.backendFor(ctx, p)
	if err != nil {
		return Info{}, err
	}
	return b.stat(ctx, p)
}

// Exists reports whether p is a file or a (non-empty, for GCS) directory.
func (f *FS) Exists(ctx context.Context, p string) (bool, error) {
	_, err := f.Stat(ctx, p)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, err
	}
}

// List returns the entries directly inside dir, sorted by name. A missing
// directory has no entries and is not an error, on both backends, because
// GCS cannot tell an empty directory from a missing one.
func (f *FS) List(ctx context.Context, dir string) ([]Info, error) {
	b, err := f.backendFor(ctx, dir)
	if err != nil {
		return nil, err
	}
	return b.list(ctx, dir)
}

// ListRecursive returns every file under dir (not directories), sorted by
// path. A missing directory gives an empty list. Local symbolic links to
// files are listed with their target's size; links to directories are not
// followed.
func (f *FS) ListRecursive(ctx context.Context, dir string) ([]Info, error) {
	b, err := f.backendFor(ctx, dir)
	if err != nil {
		return nil, err
	}
	return b.listRecursive(ctx, dir)
}

// Remove deletes the file p (or an empty local directory).
func (f *FS) Remove(ctx context.Context, p string) error {
	b, err := f.backendFor(ctx, p)
	if err != nil {
		return err
	}
	return b.remove(ctx, p)
}

// RemoveAll deletes p and everything under it. A missing p is not an error.
// It refuses to delete a whole bucket.
func (f *FS) RemoveAll(ctx context.Context, p string) error {
	b, err := f.backendFor(ctx, p)
	if err != nil {
		return err
	}
	return b.removeAll(ctx, p)
}

// MkdirAll creates dir and its parents locally; on GCS it only checks the
// path, since directories do not exist there.
func (f *FS) MkdirAll(ctx context.Context, dir string) error {
	b, err := f.backendFor(ctx, dir)
	if err != nil {
		return err
	}
	return b.mkdirAll(ctx, dir)
}

// Rename moves a file or a whole directory. Missing parents of the
// destination are created. Renaming a directory onto an existing non-empty
// directory fails with an error that satisfies errors.Is(err, fs.ErrExist).
//
// Locally this is os.Rename followed by an fsync of the destination's
// directory, and atomic. On GCS it copies each object and then deletes the
// originals: it is NOT atomic, and a crash can leave both copies or a partial
// destination, so callers must commit by writing a manifest last.
func (f *FS) Rename(ctx context.Context, from, to string) error {
	if IsGCS(from) != IsGCS(to) {
		return fmt.Errorf("rename %q to %q: source and destination are on different backends", from, to)
	}
	b, err := f.backendFor(ctx, from)
	if err != nil {
		return err
	}
	return b.rename(ctx, from, to)
}

// Create starts writing p. Nothing is visible at p until Commit returns
// without error; Abort (or a crash) leaves p as it was. Missing parent
// directories are created. The context bounds the whole write: cancelling it
// aborts a GCS upload.
func (f *FS) Create(ctx context.Context, p string) (*Writer, error) {
	b, err := f.backendFor(ctx, p)
	if err != nil {
		return nil, err
	}
	s, err := b.create(ctx, p, -1)
	if err != nil {
		return nil, err
	}
	return newWriter(ctx, p, s), nil
}

// WriteFile writes data to p atomically and returns its digest.
func (f *FS) WriteFile(ctx context.Context, p string, data []byte) (Digest, error) {
	b, err := f.backendFor(ctx, p)
	if err != nil {
		return Digest{}, err
	}
	s, err := b.create(ctx, p, int64(len(data)))
	if err != nil {
		return Digest{}, err
	}
	w := newWriter(ctx, p, s)
	if _, err := w.Write(data); err != nil {
		return Digest{}, errors.Join(err, w.Abort())
	}
	if err := w.Commit(); err != nil {
		return Digest{}, err
	}
	return w.Digest(), nil
}

// OpenReaderAt opens p for random access, as Parquet readers need. Locally
// it is the *os.File; on GCS every ReadAt is a range request against the
// object generation seen at open, so a concurrent overwrite cannot mix two
// versions. ctx bounds all later reads.
func (f *FS) OpenReaderAt(ctx context.Context, p string) (ReaderAt, error) {
	b, err := f.backendFor(ctx, p)
	if err != nil {
		return nil, err
	}
	return b.openReaderAt(ctx, p)
}

// ReaderAt is a file opened for random access.
type ReaderAt interface {
	io.ReaderAt
	io.Closer
	Size() int64
}
