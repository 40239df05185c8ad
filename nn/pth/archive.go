package pth

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// Checkpoint is a decoded torch.save archive: the object in data.pkl, with
// every tensor replaced by a *Tensor.
type Checkpoint struct {
	Root      any
	Format    string // "zip" (PyTorch >= 1.6) or "legacy"
	ByteOrder string // of the storages: "little" or "big"
}

// Load reads the state dict in the torch.save file named file, unwrapping a
// nested checkpoint ({"state_dict": ...}, {"model": ...}) automatically;
// StateDict.Key and StateDict.Found say what was picked and what else was
// there.
func Load(file string) (*StateDict, error) {
	c, err := Open(file)
	if err != nil {
		return nil, err
	}
	sd, err := c.StateDict("")
	if err != nil {
		return nil, fmt.Errorf("pth: load %q: %w", file, err)
	}
	return sd, nil
}

// LoadReader is Load for a torch.save archive of size bytes in r.
func LoadReader(r io.ReaderAt, size int64) (*StateDict, error) {
	c, err := OpenReader(r, size)
	if err != nil {
		return nil, err
	}
	sd, err := c.StateDict("")
	if err != nil {
		return nil, fmt.Errorf("pth: %w", err)
	}
	return sd, nil
}

// Open decodes the torch.save file named file.
func Open(file string) (*Checkpoint, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("pth: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("pth: %w", err)
	}
	c, err := openArchive(f, st.Size(), file)
	if err != nil {
		return nil, fmt.Errorf("pth: load %q: %w", file, err)
	}
	return c, nil
}

// OpenReader decodes a torch.save archive of size bytes in r.
func OpenReader(r io.ReaderAt, size int64) (*Checkpoint, error) {
	c, err := openArchive(r, size, "checkpoint.pth")
	if err != nil {
		return nil, fmt.Errorf("pth: %w", err)
	}
	return c, nil
}

// legacyMagic starts every pre-1.6 torch.save file: a protocol 2 pickle of
// the integer 0x1950a86a20f9469cfc6c.
var legacyMagic = []byte("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19")

// sniff names the layout of a file from its first bytes, or returns "" for a
// zip archive.
func sniff(r io.ReaderAt, size int64) string {
	head := make([]byte, min(size, 512))
	n, _ := r.ReadAt(head, 0)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return ""
	case bytes.HasPrefix(head, legacyMagic):
		return "legacy"
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return "legacy tar"
	case len(head) >= 2 && head[0] == 0x80 && head[1] <= 5:
		return "pickle"
	}
	return "unknown"
}

// convertHint says how to turn a legacy or foreign file into one this
// package reads.
func convertHint(name string) string {
	out := strings.TrimSuffix(name, path.Ext(name)) + "_zip.pth"
	return fmt.Sprintf(`re-save it with PyTorch >= 1.6: python -c "import torch; torch.save(torch.load(%q, map_location='cpu'), %q)"`, name, out)
}

func openArchive(r io.ReaderAt, size int64, name string) (*Checkpoint, error) {
	switch sniff(r, size) {
	case "legacy":
		return readLegacy(r, size)
	case "legacy tar":
		return nil, fmt.Errorf("found the tar-based torch.save format of PyTorch < 0.4, which is not supported; %s", convertHint(name))
	case "pickle":
		return nil, fmt.Errorf("found a plain pickle, not a torch.save file (Detectron .pkl weights and proposal files are read with the pickle package); if it holds tensors, %s", convertHint(name))
	case "unknown":
		return nil, fmt.Errorf("not a torch.save file (neither a zip archive nor the legacy pickle stream)")
	}
	return readZip(r, size)
}
