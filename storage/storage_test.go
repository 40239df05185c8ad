package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"
)

const testBucket = "detflow-test"

// testRoot is one backend under test: an FS and a fresh root directory.
type testRoot struct {
	name string
	fs   *FS
	root string
}

// newFakeGCS starts an in-process fake GCS server (no listener) with one
// empty bucket.
func newFakeGCS(t *testing.T) *fakestorage.Server {
	t.Helper()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true})
	if err != nil {
		t.Fatalf("start fake gcs: %v", err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: testBucket})
	return srv
}

// roots returns a local temporary directory and a fake GCS bucket prefix.
func roots(t *testing.T) []testRoot {
	t.Helper()
	ctx := context.Background()
	local, err := New(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := newFakeGCS(t)
	remote, err := New(ctx, Options{Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return []testRoot{
		{name: "local", fs: local, root: t.TempDir()},
		{name: "gcs", fs: remote, root: "gs://" + testBucket + "/root"},
	}
}

func forEachRoot(t *testing.T, f func(t *testing.T, r testRoot)) {
	for _, r := range roots(t) {
		t.Run(r.name, func(t *testing.T) { f(t, r) })
	}
}

func sha(data []byte) string { return fmt.Sprintf("%x", sha256.Sum256(data)) }

func mustWrite(t *testing.T, r testRoot, rel, content string) string {
	t.Helper()
	p := Join(r.root, rel)
	if _, err := r.fs.WriteFile(context.Background(), p, []byte(content)); err != nil {
		t.Fatalf("write %s: %v", p, err)
	}
	return p
}

func TestWriteFileReadFileRoundTrip(t *testing.T) {
	forEachRoot(t, func(t *testing.T, r testRoot) {
		ctx := context.Background()
		cases := []struct {
			rel  string
			data []byte
		}{
			{"empty.bin", nil},
			{"a.txt", []byte("hello")},
			{"deep/er/b.bin", bytes.Repeat([]byte{0, 1, 2, 255}, 70000)},
		}
		for _, c := range cases {
			p := Join(r.root, c.rel)
			d, err := r.fs.WriteFile(ctx, p, c.data)
			if err != nil {
				t.Fatalf("write %s: %v", c.rel, err)
			}
			if want := (Digest{SHA256: sha(c.data), Size: int64(len(c.data))}); d != want {
				t.Errorf("%s: write digest %+v, want %+v", c.rel, d, want)
			}
			got, err := r.fs.ReadFile(ctx, p)
			if err != nil {
				t.Fatalf("read %s: %v", c.rel, err)
			}
			if !bytes.Equal(got, c.data) {
				t.Errorf("%s: read %d bytes, want %d", c.rel, len(got), len(c.data))
			}
			info, err := r.fs.Stat(ctx, p)
			if err != nil {
				t.Fatalf("stat %s: %v", c.rel, err)
			}
			if info.Size != int64(len(c.data)) || info.IsDir || info.Name != Base(p) {
				t.Errorf("%s: stat %+v", c.rel, info)
			}
			fd, err := r.fs.DigestFile(ctx, p)
			if err != nil || fd.SHA256 != sha(c.data) || fd.Size != int64(len(c.data)) {
				t.Errorf("%s: DigestFile = %+v, %v", c.rel, fd, err)
			}
		}
		// Overwriting replaces the content.
		p := mustWrite(t, r, "a.txt", "bye")
		if got, _ := r.fs.ReadFile(ctx, p); string(got) != "bye" {
			t.Errorf("after overwrite read %q, want %q", got, "bye")
		}
	})
}

func TestWriterInvisibleUntilCommit(t *testing.T) {
	forEachRoot(t, func(t *testing.T, r testRoot) {
		ctx := context.Background()
		p := Join(r.root, "dir", "f.txt")
		w, err := r.fs.Create(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, "part one, "); err != nil {
			t.Fatal(err)
		}
		if _, err := r.fs.Stat(ctx, p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("stat before commit: err = %v, want not exist", err)
		}
		if _, err := io.WriteString(w, "part two"); err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(); err != nil {
			t.Fatalf("commit: %v", err)
		}
		got, err := r.fs.ReadFile(ctx, p)
		if err != nil || string(got) != "part one, part two" {
			t.Errorf("read after commit = %q, %v", got, err)
		}
		if d := w.Digest(); d.SHA256 != sha(got) || d.Size != int64(len(got)) {
			t.Errorf("writer digest %+v does not match content", d)
		}
		if err := w.Abort(); err != nil {
			t.Errorf("abort after commit: %v, want no-op", err)
		}
		if _, err := w.Write([]byte("x")); err == nil {
			t.Error("write after commit succeeded")
		}
		if err := w.Commit(); err == nil {
			t.Error("second commit succeeded")
		}
	})
}

func TestAbortLeavesNothing(t *testing.T) {
	forEachRoot(t, func(t *testing.T, r testRoot) {
		ctx := context.Background()
		old := mustWrite(t, r, "keep/old.txt", "old content")
		cases := []struct {
			name, path, want string // want: content expected afterwards, "" = missing
			data             []byte
		}{
			{"new file, no bytes", Join(r.root, "keep", "new0.txt"), "", nil},
			{"new file", Join(r.root, "keep", "new1.txt"), "", []byte("abc")},
			{"new big file", Join(r.root, "keep", "new2.txt"), "", bytes.Repeat([]byte("z"), 1<<20)},
			{"overwrite", old, "old content", []byte("new content")},
		}
		for _, c := range cases {
			w, err := r.fs.Create(ctx, c.path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(c.data); err != nil {
				t.Fatalf("%s: write: %v", c.name, err)
			}
			if err := w.Abort(); err != nil {
				t.Fatalf("%s: abort: %v", c.name, err)
			}
			got, err := r.fs.ReadFile(ctx, c.path)
			switch {
			case c.want == "" && !errors.Is(err, fs.ErrNotExist):
				t.Errorf("%s: after abort read %d bytes, err %v; want not exist", c.name, len(got), err)
			case c.want != "" && string(got) != c.want:
				t.Errorf("%s: after abort read %.20q, %v; want %q", c.name, got, err, c.want)
			}
		}
		files, err := r.fs.ListRecursive(ctx, Join(r.root, "keep"))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != 1 || files[0].Path != old {
			t.Errorf("after aborts the directory holds %v, want only %s (no temporary files)", files, old)
		}
	})
}

func TestMissingIsErrNotExist(t *testing.T) {
	forEachRoot(t, func(t *testing.T, r testRoot) {
		ctx := context.Background()
		missing := Join(r.root, "no", "such.file")
		ops := []struct {
			name string
			call func() error
		}{
			{"Open", func() error { _, err := r.fs.Open(ctx, missing); return err }},
			{"ReadFile", func() error { _, err := r.fs.ReadFile(ctx, missing); return err }},
			{"Stat", func() error { _, err := r.fs.Stat(ctx, missing); return err }},
			{"Remove", func() error { return r.fs.Remove(ctx, missing) }},
			{"OpenReaderAt", func() error { _, err := r.fs.OpenReaderAt(ctx, missing); return err }},
			{"DigestFile", func() error { _, err := r.fs.DigestFile(ctx, missing); return err }},
			{"Rename", func() error { return r.fs.Rename(ctx, missing, Join(r.root, "x")) }},
		}
		for _, op := range ops {
			err := op.call()
			if !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s(missing): err = %v, want fs.ErrNotExist", op.name, err)
			}
			if err != nil && !strings.Contains(err.Error(), "such.file") && op.name != "Rename" {
				t.Errorf("%s(missing): error %q does not name the path", op.name, err)
			}
		}
		if ok, err := r.fs.Exists(ctx, missing); ok || err != nil {
			t.Errorf("Exists(missing) = %v, %v", ok, err)
		}
		if err := r.fs.RemoveAll(ctx, missing); err != nil {
			t.Errorf("RemoveAll(missing) = %v, want nil", err)
		}
		for _, list := range []func(context.Context, string) ([]Info, error){r.fs.List, r.fs.ListRecursive} {
			if got, err := list(ctx, Join(r.root, "nodir")); err != nil || len(got) != 0 {
				t.Errorf("list of missing dir = %v, %v; want empty, nil", got, err)
			}
		}
	})
}

func TestListAndStatDirectories(t *testing.T) {
	forEachRoot(t, func(t *testing.T, r testRoot) {
		ctx := context.Background()
		for _, f := range []string{"a/b.txt", "a/c/d.txt", "a/c/e/f.txt", "a/z.txt", "other.txt"} {
			mustWrite(t, r, f, "content of "+f)
		}
		if err := r.fs.MkdirAll(ctx, Join(r.root, "a", "c")); err != nil {
			t.Fatal(err)
		}
		entries, err := r.fs.List(ctx, Join(r.root, "a"))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, fmt.Sprintf("%s dir=%v", e.Name, e.IsDir))
			if e.Path != Join(r.root, "a", e.Name) {
				t.Errorf("entry %q has path %q", e.Name, e.Path)
			}
		}
		want := []string{"b.txt dir=false", "c dir=true", "z.txt dir=false"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("List = %v, want %v", got, want)
		}
		files, err := r.fs.ListRecursive(ctx, Join(r.root, "a"))
		if err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for _, f := range files {
			got = append(got, f.Path)
			if f.Size != int64(len("content of a/")+len(strings.TrimPrefix(f.Path, Join(r.root, "a")+"/"))) {
				t.Errorf("%s: size %d", f.Path, f.Size)
			}
		}
		want = []string{Join(r.root, "a/b.txt"), Join(r.root, "a/c/d.txt"), Join(r.root, "a/c/e/f.txt"), Join(r.root, "a/z.txt")}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ListRecursive = %v, want %v", got, want)
		}
		info, err := r.fs.Stat(ctx, Join(r.root, "a", "c"))
		if err != nil || !info.IsDir {
			t.Errorf("Stat(dir) = %+v, %v; want a directory", info, err)
		}
	})
}

func TestRemoveAndRemoveAll(t *testing.T) {
	forEachRoot(t, func(t *testing.T, r testRoot) {
		ctx := context.Background()
		keep := mustWrite(t, r, "ab/keep.txt", "k") // shares a name prefix with "a"
		mustWrite(t, r, "a/1.txt", "1")
		mustWrite(t, r, "a/sub/2.txt", "2")
		single := mustWrite(t, r, "single.txt", "s")
		if err := r.fs.Remove(ctx, single); err != nil {
			t.Fatal(err)
		}
		if ok, _ := r.fs.Exists(ctx, single); ok {
			t.Error("file still exists after Remove")
		}
		if err := r.fs.RemoveAll(ctx, Join(r.root, "a")); err != nil {
			t.Fatal(err)
		}
		if ok, _ := r.fs.Exists(ctx, Join(r.root, "a")); ok {
			t.Error("directory still exists after RemoveAll")
		}
		if ok, _ := r.fs.Exists(ctx, keep); !ok {
			t.Error("RemoveAll(a) removed ab/keep.txt")
		}
	})
}

func TestRename(t *testing.T) {
	forEachRoot(t, func(t *testing.T, r testRoot) {
		ctx := context.Background()
		// A file, to a new parent directory.
		from := mustWrite(t, r, "f.txt", "file")
		to := Join(r.root, "moved", "g.txt")
		if err := r.fs.Rename(ctx, from, to); err != nil {
			t.Fatal(err)
		}
		if got, err := r.fs.ReadFile(ctx, to); err != nil || string(got) != "file" {
			t.Errorf("read renamed file = %q, %v", got, err)
		}
		if ok, _ := r.fs.Exists(ctx, from); ok {
			t.Error("source file still exists")
		}
		// A whole directory.
		mustWrite(t, r, "tmp/out/x.txt", "x")
		mustWrite(t, r, "tmp/out/sub/y.txt", "y")
		if err := r.fs.Rename(ctx, Join(r.root, "tmp", "out"), Join(r.root, "final")); err != nil {
			t.Fatal(err)
		}
		files, err := r.fs.ListRecursive(ctx, Join(r.root, "final"))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) != 2 || files[0].Name != "y.txt" || files[1].Name != "x.txt" { // sorted by path: sub/y.txt < x.txt
			t.Errorf("renamed directory holds %v", files)
		}
		if ok, _ := r.fs.Exists(ctx, Join(r.root, "tmp", "out")); ok {
			t.Error("source directory still exists")
		}
		// Onto a non-empty directory: refused.
		mustWrite(t, r, "tmp2/a.txt", "a")
		err = r.fs.Rename(ctx, Join(r.root, "tmp2"), Join(r.root, "final"))
		if !errors.Is(err, fs.ErrExist) {
			t.Errorf("rename onto non-empty dir: err = %v, want fs.ErrExist", err)
		}
		if got, _ := r.fs.ReadFile(ctx, Join(r.root, "final", "x.txt")); string(got) != "x" {
			t.Error("refused rename changed the destination")
		}
	})
}

func TestReaderAt(t *testing.T) {
	forEachRoot(t, func(t *testing.T, r testRoot) {
		ctx := context.Background()
		data := make([]byte, 1000)
		for i := range data {
			data[i] = byte(i * 7)
		}
		p := Join(r.root, "ra.bin")
		if _, err := r.fs.WriteFile(ctx, p, data); err != nil {
			t.Fatal(err)
		}
		ra, err := r.fs.OpenReaderAt(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		defer ra.Close()
		if ra.Size() != int64(len(data)) {
			t.Errorf("Size = %d, want %d", ra.Size(), len(data))
		}
		cases := []struct {
			off, n, wantN int
			wantEOF       bool
		}{
			{0, 10, 10, false},
			{500, 100, 100, false},
			{990, 10, 10, false},
			{995, 10, 5, true},
			{1000, 4, 0, true},
			{2000, 4, 0, true},
		}
		for _, c := range cases {
			buf := make([]byte, c.n)
			n, err := ra.ReadAt(buf, int64(c.off))
			if n != c.wantN || (err == io.EOF) != c.wantEOF || (err != nil && err != io.EOF) {
				t.Errorf("ReadAt(off=%d, n=%d) = %d, %v; want %d, eof=%v", c.off, c.n, n, err, c.wantN, c.wantEOF)
			}
			if !bytes.Equal(buf[:n], data[min(c.off, len(data)):min(c.off, len(data))+n]) {
				t.Errorf("ReadAt(off=%d, n=%d) returned wrong bytes", c.off, c.n)
			}
		}
	})
}

func TestRenameAcrossBackendsRefused(t *testing.T) {
	f, _ := New(context.Background(), Options{})
	err := f.Rename(context.Background(), "/tmp/x", "gs://b/x")
	if err == nil || !strings.Contains(err.Error(), "different backends") {
		t.Errorf("err = %v", err)
	}
}

func TestRemoveAllRefusesBucketRoot(t *testing.T) {
	srv := newFakeGCS(t)
	f, _ := New(context.Background(), Options{Client: srv.Client()})
	if err := f.RemoveAll(context.Background(), "gs://"+testBucket); err == nil {
		t.Error("RemoveAll of a bucket root succeeded")
	}
}

func TestLocalPublishedFilesAreReadable(t *testing.T) {
	f, _ := New(context.Background(), Options{})
	p := filepath.Join(t.TempDir(), "x")
	if _, err := f.WriteFile(context.Background(), p, []byte("x")); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
}

// TestEndpoint talks to a fake server over a real loopback listener, the
// way a user points detflow at an emulator: through Options.Endpoint, and
// through STORAGE_EMULATOR_HOST with default options (as Beam workers do).
func TestEndpoint(t *testing.T) {
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1"})
	if err != nil {
		t.Fatalf("start fake gcs: %v", err)
	}
	defer srv.Stop()
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: testBucket})
	ctx := context.Background()
	roundTrip := func(t *testing.T, opts Options) {
		f, err := New(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		p := "gs://" + testBucket + "/e/" + t.Name()
		if _, err := f.WriteFile(ctx, p, []byte("via emulator")); err != nil {
			t.Fatal(err)
		}
		got, err := f.ReadFile(ctx, p)
		if err != nil || string(got) != "via emulator" {
			t.Errorf("read = %q, %v", got, err)
		}
	}
	t.Run("endpoint", func(t *testing.T) { roundTrip(t, Options{Endpoint: srv.URL() + "/storage/v1/"}) })
	t.Run("env", func(t *testing.T) {
		t.Setenv("STORAGE_EMULATOR_HOST", strings.TrimPrefix(srv.URL(), "http://"))
		roundTrip(t, Options{})
	})
}

// TestRenameAndRemoveManyFiles moves and deletes a directory larger than
// the GCS request parallelism.
func TestRenameAndRemoveManyFiles(t *testing.T) {
	forEachRoot(t, func(t *testing.T, r testRoot) {
		ctx := context.Background()
		const n = 2*gcsParallelism + 3
		for i := range n {
			mustWrite(t, r, fmt.Sprintf("staging/d%d/f%02d.txt", i%3, i), fmt.Sprint(i))
		}
		if err := r.fs.Rename(ctx, Join(r.root, "staging"), Join(r.root, "published")); err != nil {
			t.Fatal(err)
		}
		files, err := r.fs.ListRecursive(ctx, Join(r.root, "published"))
		if err != nil || len(files) != n {
			t.Fatalf("published holds %d files (%v), want %d", len(files), err, n)
		}
		for i := range n {
			p := Join(r.root, "published", fmt.Sprintf("d%d/f%02d.txt", i%3, i))
			if got, err := r.fs.ReadFile(ctx, p); err != nil || string(got) != fmt.Sprint(i) {
				t.Errorf("%s = %q, %v", p, got, err)
			}
		}
		if left, _ := r.fs.ListRecursive(ctx, Join(r.root, "staging")); len(left) != 0 {
			t.Errorf("%d files left in the source", len(left))
		}
		if err := r.fs.RemoveAll(ctx, Join(r.root, "published")); err != nil {
			t.Fatal(err)
		}
		if left, _ := r.fs.ListRecursive(ctx, Join(r.root, "published")); len(left) != 0 {
			t.Errorf("%d files left after RemoveAll", len(left))
		}
	})
}

func TestCommitAfterCancelAborts(t *testing.T) {
	forEachRoot(t, func(t *testing.T, r testRoot) {
		ctx, cancel := context.WithCancel(context.Background())
		p := Join(r.root, "cancelled.txt")
		w, err := r.fs.Create(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("data")); err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := w.Commit(); !errors.Is(err, context.Canceled) {
			t.Errorf("commit after cancel: err = %v, want context.Canceled", err)
		}
		if ok, _ := r.fs.Exists(context.Background(), p); ok {
			t.Error("file published although its context was cancelled")
		}
		if left, _ := r.fs.List(context.Background(), r.root); len(left) != 0 {
			t.Errorf("left behind: %v", left)
		}
	})
}
