package pth

import (
	"archive/zip"
	"encoding/binary"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/detflow/detflow/pickle"
)

// maxPickle bounds data.pkl: it holds structure, not tensor data.
const maxPickle = 1 << 30

// maxStorageElems bounds one storage (4 GiB of float32), which also keeps
// the byte size computation from overflowing.
const maxStorageElems = 1 << 30

// zipArchive is an open torch.save zip (PyTorch >= 1.6).
type zipArchive struct {
	*loader
	size          int64  // of the whole archive
	prefix        string // "<archive>/"
	files         map[string]*zip.File
	byteOrder     binary.ByteOrder
	byteOrderName string
}

func readZip(r io.ReaderAt, size int64) (*Checkpoint, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("open zip: %w", err)
	}
	a, err := newZipArchive(zr, size)
	if err != nil {
		return nil, err
	}
	root, err := a.decode()
	if err != nil {
		return nil, err
	}
	if err := a.materialiseAll(); err != nil {
		return nil, err
	}
	return &Checkpoint{Root: root, ByteOrder: a.byteOrderName, Format: "zip"}, nil
}

func newZipArchive(zr *zip.Reader, size int64) (*zipArchive, error) {
	a := &zipArchive{loader: newLoader(), size: size, files: map[string]*zip.File{}}
	var pkls []string
	for _, f := range zr.File {
		a.files[f.Name] = f
		if dir, base := path.Split(f.Name); base == "data.pkl" && strings.Count(dir, "/") == 1 {
			pkls = append(pkls, dir)
		}
	}
	if len(pkls) != 1 {
		return nil, fmt.Errorf("zip archive has %d <archive>/data.pkl records, want 1: not a torch.save checkpoint", len(pkls))
	}
	a.prefix = pkls[0]
	if a.files[a.prefix+"constants.pkl"] != nil {
		return nil, fmt.Errorf("found a TorchScript archive (torch.jit.save), not a torch.save checkpoint; in Python: torch.save(torch.jit.load(path).state_dict(), new_path)")
	}
	a.byteOrder, a.byteOrderName = binary.LittleEndian, "little"
	if f := a.files[a.prefix+"byteorder"]; f != nil {
		b, err := readEntry(f, 16, a.size)
		if err != nil {
			return nil, err
		}
		switch strings.TrimSpace(string(b)) {
		case "little":
		case "big":
			a.byteOrder, a.byteOrderName = binary.BigEndian, "big"
		default:
			return nil, fmt.Errorf("byteorder record says %q, want little or big", b)
		}
	}
	return a, nil
}

func (a *zipArchive) decode() (any, error) {
	f := a.files[a.prefix+"data.pkl"]
	if f.UncompressedSize64 > maxPickle {
		return nil, fmt.Errorf("%s is %d bytes, more than a state dict's structure needs", f.Name, f.UncompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", f.Name, err)
	}
	defer rc.Close()
	v, err := pickle.Decode(rc, a.options(a.persistentLoad))
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", f.Name, err)
	}
	return v, nil
}

// persistentLoad resolves data.pkl's storage references,
// ("storage", storage_type, key, location, numel), reading each
// <archive>/data/<key> record once.
func (a *zipArchive) persistentLoad(pid any) (any, error) {
	s, st, _, err := a.storageRef(pid, 5)
	if err != nil {
		return nil, err
	}
	if s.loaded {
		return s, nil
	}
	f := a.files[a.prefix+"data/"+s.key]
	if f == nil {
		return nil, fmt.Errorf("storage record %s missing from the archive", a.prefix+"data/"+s.key)
	}
	want := uint64(s.numel) * uint64(st.itemSize)
	if f.UncompressedSize64 != want {
		return nil, fmt.Errorf("storage record %s has %d bytes, want %d (%d %s elements)", f.Name, f.UncompressedSize64, want, s.numel, st.dtype)
	}
	raw, err := readEntry(f, want, a.size)
	if err != nil {
		return nil, err
	}
	if err := s.fill(st, raw, a.byteOrder); err != nil {
		return nil, err
	}
	return s, nil
}

// readEntry reads a zip record of at most limit bytes from an archive of
// archiveSize bytes.
func readEntry(f *zip.File, limit uint64, archiveSize int64) ([]byte, error) {
	if f.UncompressedSize64 > limit {
		return nil, fmt.Errorf("record %s is %d bytes, more than the %d expected", f.Name, f.UncompressedSize64, limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", f.Name, err)
	}
	defer rc.Close()
	var buf []byte
	if f.Method == zip.Store && f.CompressedSize64 == f.UncompressedSize64 && f.UncompressedSize64 <= uint64(archiveSize) {
		// torch.save stores records uncompressed: the size is bounded by the
		// file itself, so allocate it at once.
		buf = make([]byte, f.UncompressedSize64)
		_, err = io.ReadFull(rc, buf)
	} else {
		// Otherwise read as the data arrives rather than trusting the
		// declared size, so a corrupt header cannot make us allocate what the
		// archive does not hold.
		buf, err = io.ReadAll(io.LimitReader(rc, int64(f.UncompressedSize64)))
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name, err)
	}
	if uint64(len(buf)) != f.UncompressedSize64 {
		return nil, fmt.Errorf("read %s: got %d of %d bytes", f.Name, len(buf), f.UncompressedSize64)
	}
	return buf, nil
}
