package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"

	gcs "cloud.google.com/go/storage"
	"golang.org/x/sync/errgroup"
	"google.golang.org/api/iterator"
)

// gcsFS serves gs:// paths.
type gcsFS struct {
	client *gcs.Client
}

// gcsErr turns GCS's not-found errors into fs.ErrNotExist, keeping the path.
func gcsErr(op, p string, err error) error {
	if errors.Is(err, gcs.ErrObjectNotExist) || errors.Is(err, gcs.ErrBucketNotExist) {
		err = fs.ErrNotExist
	}
	return &fs.PathError{Op: op, Path: p, Err: err}
}

// object resolves a gs:// path that must name an object (not a bucket root).
func (g *gcsFS) object(op, p string) (*gcs.ObjectHandle, error) {
	bucket, key, err := splitGCS(p)
	if err != nil {
		return nil, err
	}
	if key == "" {
		return nil, &fs.PathError{Op: op, Path: p, Err: errors.New("path names a bucket, not an object")}
	}
	return g.client.Bucket(bucket).Object(key), nil
}

func (g *gcsFS) open(ctx context.Context, p string) (io.ReadCloser, error) {
	obj, err := g.object("open", p)
	if err != nil {
		return nil, err
	}
	r, err := obj.NewReader(ctx)
	if err != nil {
		return nil, gcsErr("open", p, err)
	}
	return r, nil
}

func (g *gcsFS) openReaderAt(ctx context.Context, p string) (ReaderAt, error) {
	obj, err := g.object("open", p)
	if err != nil {
		return nil, err
	}
	attrs, err := obj.Attrs(ctx)
	if err != nil {
		return nil, gcsErr("open", p, err)
	}
	return &gcsReaderAt{ctx: ctx, path: p, obj: obj.Generation(attrs.Generation), size: attrs.Size}, nil
}

// gcsReaderAt serves each ReadAt with one range request.
type gcsReaderAt struct {
	ctx  context.Context
	path string
	obj  *gcs.ObjectHandle
	size int64
}

func (r *gcsReaderAt) Size() int64  { return r.size }
func (r *gcsReaderAt) Close() error { return nil }

func (r *gcsReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, &fs.PathError{Op: "read", Path: r.path, Err: errors.New("negative offset")}
	}
	if off >= r.size {
		return 0, io.EOF
	}
	want := min(int64(len(p)), r.size-off)
	rr, err := r.obj.NewRangeReader(r.ctx, off, want)
	if err != nil {
		return 0, gcsErr("read", r.path, err)
	}
	n, err := io.ReadFull(rr, p[:want])
	if cerr := rr.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, gcsErr("read", r.path, err)
	}
	if int(want) < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (g *gcsFS) stat(ctx context.Context, p string) (Info, error) {
	bucket, key, err := splitGCS(p)
	if err != nil {
		return Info{}, err
	}
	if key == "" {
		if _, err := g.client.Bucket(bucket).Attrs(ctx); err != nil {
			return Info{}, gcsErr("stat", p, err)
		}
		return Info{Path: p, Name: bucket, IsDir: true}, nil
	}
	attrs, err := g.client.Bucket(bucket).Object(key).Attrs(ctx)
	if err == nil {
		return Info{Path: p, Name: Base(p), Size: attrs.Size, ModTime: attrs.Updated, Generation: attrs.Generation}, nil
	}
	if !errors.Is(err, gcs.ErrObjectNotExist) {
		return Info{}, gcsErr("stat", p, err)
	}
	// Not an object: a directory if anything lies under its prefix.
	it := g.client.Bucket(bucket).Objects(ctx, &gcs.Query{Prefix: key + "/"})
	if _, err := it.Next(); err != nil {
		if errors.Is(err, iterator.Done) {
			err = fs.ErrNotExist
		}
		return Info{}, gcsErr("stat", p, err)
	}
	return Info{Path: p, Name: Base(p), IsDir: true}, nil
}

// dirPrefix is the object-name prefix of everything under key.
func dirPrefix(key string) string {
	if key == "" {
		return ""
	}
	return key + "/"
}

func (g *gcsFS) list(ctx context.Context, dir string) ([]Info, error) {
	bucket, key, err := splitGCS(dir)
	if err != nil {
		return nil, err
	}
	prefix := dirPrefix(key)
	it := g.client.Bucket(bucket).Objects(ctx, &gcs.Query{Prefix: prefix, Delimiter: "/"})
	var out []Info
	for {
		attrs, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return nil, gcsErr("list", dir, err)
		}
		if attrs.Prefix != "" {
			name := strings.TrimSuffix(strings.TrimPrefix(attrs.Prefix, prefix), "/")
			out = append(out, Info{Path: gcsPath(bucket, prefix+name), Name: name, IsDir: true})
			continue
		}
		if attrs.Name == prefix {
			continue // a "directory placeholder" object made by other tools
		}
		name := strings.TrimPrefix(attrs.Name, prefix)
		out = append(out, Info{Path: gcsPath(bucket, attrs.Name), Name: name, Size: attrs.Size, ModTime: attrs.Updated, Generation: attrs.Generation})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (g *gcsFS) listRecursive(ctx context.Context, dir string) ([]Info, error) {
	bucket, key, err := splitGCS(dir)
	if err != nil {
		return nil, err
	}
	return g.objectsUnder(ctx, dir, bucket, dirPrefix(key))
}

// objectsUnder lists every object whose name starts with prefix, skipping
// directory placeholders (names ending in "/").
func (g *gcsFS) objectsUnder(ctx context.Context, dir, bucket, prefix string) ([]Info, error) {
	it := g.client.Bucket(bucket).Objects(ctx, &gcs.Query{Prefix: prefix})
	var out []Info
	for {
		attrs, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return nil, gcsErr("list", dir, err)
		}
		if strings.HasSuffix(attrs.Name, "/") {
			continue
		}
		p := gcsPath(bucket, attrs.Name)
		out = append(out, Info{Path: p, Name: Base(p), Size: attrs.Size, ModTime: attrs.Updated, Generation: attrs.Generation})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func (g *gcsFS) remove(ctx context.Context, p string) error {
	obj, err := g.object("remove", p)
	if err != nil {
		return err
	}
	if err := obj.Delete(ctx); err != nil {
		return gcsErr("remove", p, err)
	}
	return nil
}

func (g *gcsFS) removeAll(ctx context.Context, p string) error {
	bucket, key, err := splitGCS(p)
	if err != nil {
		return err
	}
	if key == "" {
		return fmt.Errorf("remove all %q: refusing to empty a whole bucket", p)
	}
	objs, err := g.objectsUnder(ctx, p, bucket, key+"/")
	if err != nil {
		return err
	}
	objs = append(objs, Info{Path: p})
	err = forEachParallel(ctx, objs, func(ctx context.Context, o Info) error {
		if err := g.remove(ctx, o.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove all %q: %w", p, err)
	}
	return nil
}

// gcsParallelism bounds concurrent requests of one many-object operation.
const gcsParallelism = 16

// forEachParallel runs f on every object with bounded concurrency and
// returns the first error.
func forEachParallel(ctx context.Context, objs []Info, f func(context.Context, Info) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(gcsParallelism)
	for _, o := range objs {
		g.Go(func() error { return f(gctx, o) })
	}
	return g.Wait()
}

func (g *gcsFS) mkdirAll(_ context.Context, dir string) error {
	_, _, err := splitGCS(dir)
	return err
}

func (g *gcsFS) rename(ctx context.Context, from, to string) error {
	src, err := g.object("rename", from)
	if err != nil {
		return err
	}
	if _, err := g.object("rename", to); err != nil {
		return err
	}
	_, err = src.Attrs(ctx)
	switch {
	case err == nil:
		return g.moveObject(ctx, from, to)
	case errors.Is(err, gcs.ErrObjectNotExist):
		return g.renameDir(ctx, from, to)
	default:
		return gcsErr("rename", from, err)
	}
}

// moveObject copies one object then deletes the original.
func (g *gcsFS) moveObject(ctx context.Context, from, to string) error {
	src, err := g.object("rename", from)
	if err != nil {
		return err
	}
	dst, err := g.object("rename", to)
	if err != nil {
		return err
	}
	if _, err := dst.CopierFrom(src).Run(ctx); err != nil {
		return gcsErr("rename", from, err)
	}
	if err := src.Delete(ctx); err != nil {
		return gcsErr("rename", from, err)
	}
	return nil
}

// renameDir moves every object under from/ to the same name under to/:
// all copies first, then all deletes, so a crash never loses data.
func (g *gcsFS) renameDir(ctx context.Context, from, to string) error {
	fb, fk, _ := splitGCS(from)
	tb, tk, _ := splitGCS(to)
	objs, err := g.objectsUnder(ctx, from, fb, fk+"/")
	if err != nil {
		return err
	}
	if len(objs) == 0 {
		return &fs.PathError{Op: "rename", Path: from, Err: fs.ErrNotExist}
	}
	existing, err := g.objectsUnder(ctx, to, tb, tk+"/")
	if err != nil {
		return err
	}
	if len(existing) > 0 {
		return &fs.PathError{Op: "rename", Path: to, Err: fs.ErrExist}
	}
	prefix := gcsPath(fb, fk) + "/"
	err = forEachParallel(ctx, objs, func(ctx context.Context, o Info) error {
		rel := strings.TrimPrefix(o.Path, prefix)
		src := g.client.Bucket(fb).Object(fk + "/" + rel)
		dst := g.client.Bucket(tb).Object(tk + "/" + rel)
		if _, err := dst.CopierFrom(src).Run(ctx); err != nil {
			return gcsErr("rename", o.Path, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = forEachParallel(ctx, objs, func(ctx context.Context, o Info) error {
		if err := g.remove(ctx, o.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rename %q: %w", from, err)
	}
	return nil
}

// chunkQuantum is the granularity of GCS resumable upload chunks.
const chunkQuantum = 256 << 10

func (g *gcsFS) create(ctx context.Context, p string, sizeHint int64) (sink, error) {
	obj, err := g.object("create", p)
	if err != nil {
		return nil, err
	}
	// Cancelling the writer's context is the documented way to abandon an
	// upload without creating the object.
	cctx, cancel := context.WithCancel(ctx)
	w := obj.NewWriter(cctx)
	// Each writer buffers one chunk (16 MiB by default); a small file of
	// known size needs a chunk only as large as itself.
	if sizeHint >= 0 && sizeHint < int64(w.ChunkSize) {
		w.ChunkSize = int((sizeHint/chunkQuantum + 1) * chunkQuantum)
	}
	return &gcsSink{w: w, cancel: cancel}, nil
}

// gcsSink uploads an object that exists only once Close succeeds.
type gcsSink struct {
	w      *gcs.Writer
	cancel context.CancelFunc
}

func (s *gcsSink) Write(p []byte) (int, error) { return s.w.Write(p) }

func (s *gcsSink) commit() error {
	defer s.cancel()
	return s.w.Close()
}

func (s *gcsSink) abort() error {
	s.cancel()
	// Never Close: that would finish the upload (an HTTP transport that
	// ignores the cancelled context, like the fake server's, would even
	// create the object). Failing the upload's pipe stops it for good; with
	// nothing written no upload was started at all.
	_ = s.w.CloseWithError(errAborted) //nolint:staticcheck // the documented context cancellation alone is not enough, see above
	return nil
}

// errAborted fails an upload that the caller abandoned.
var errAborted = errors.New("upload aborted")
