package pth

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math/big"

	"github.com/detflow/detflow/pickle"
)

// The legacy (PyTorch < 1.6, and _use_new_zipfile_serialization=False)
// torch.save format is a sequence in one stream:
//
//	pickle  magic number 0x1950a86a20f9469cfc6c
//	pickle  protocol version 1001
//	pickle  sys_info {protocol_version, little_endian, type_sizes}
//	pickle  the object, storages referenced by persistent id
//	        ("storage", storage_type, key, location, numel, view_metadata)
//	pickle  the storage keys, in the order their data follows
//	per key int64 little-endian element count, then the elements,
//	        little-endian whatever the saving machine was
const legacyProtocol = 1001

var legacyMagicNumber, _ = new(big.Int).SetString("1950a86a20f9469cfc6c", 16)

// legacyArchive reads one legacy file.
type legacyArchive struct {
	*loader
	r         *bufio.Reader
	remaining int64 // bytes of the file not yet consumed by storages, a bound for sizes
	types     map[string]storageType
}

func readLegacy(r io.ReaderAt, size int64) (*Checkpoint, error) {
	// The pickles are decoded one after another from the same buffered
	// reader: the decoder consumes exactly up to each STOP.
	a := &legacyArchive{
		loader:    newLoader(),
		r:         bufio.NewReaderSize(io.NewSectionReader(r, 0, size), 1<<16),
		remaining: size,
		types:     map[string]storageType{},
	}
	if err := a.readPreamble(); err != nil {
		return nil, fmt.Errorf("legacy torch.save format: %w", err)
	}
	root, err := pickle.Decode(a.r, a.options(a.persistentLoad))
	if err != nil {
		return nil, fmt.Errorf("legacy torch.save format: decode the object: %w", err)
	}
	if err := a.readStorages(); err != nil {
		return nil, fmt.Errorf("legacy torch.save format: %w", err)
	}
	if err := a.materialiseAll(); err != nil {
		return nil, fmt.Errorf("legacy torch.save format: %w", err)
	}
	return &Checkpoint{Root: root, Format: "legacy", ByteOrder: "little"}, nil
}

// readPreamble checks the magic number and protocol version and skips the
// saving machine's sys_info (storages are little-endian regardless).
func (a *legacyArchive) readPreamble() error {
	opts := pickle.Options{NoNumpy: true}
	magic, err := pickle.Decode(a.r, opts)
	if err != nil {
		return fmt.Errorf("read magic number: %w", err)
	}
	if m, ok := magic.(*big.Int); !ok || m.Cmp(legacyMagicNumber) != 0 {
		return fmt.Errorf("bad magic number")
	}
	proto, err := pickle.Decode(a.r, opts)
	if err != nil {
		return fmt.Errorf("read protocol version: %w", err)
	}
	if proto != int64(legacyProtocol) {
		return fmt.Errorf("protocol version %v, want %d", proto, legacyProtocol)
	}
	if _, err := pickle.Decode(a.r, opts); err != nil {
		return fmt.Errorf("read sys_info: %w", err)
	}
	return nil
}

// persistentLoad creates the storages the object names; their bytes come
// after the object.
func (a *legacyArchive) persistentLoad(pid any) (any, error) {
	if t, ok := pid.(pickle.Tuple); ok && len(t) >= 2 && t[0] == "module" {
		// A pickled module's class with its source, for torch's warning
		// about changed sources; the class is all we keep.
		return t[1], nil
	}
	s, st, t, err := a.storageRef(pid, 6)
	if err != nil {
		return nil, err
	}
	if t[5] != nil {
		return nil, fmt.Errorf("storage %q is a storage view (view_metadata), which is not supported", s.key)
	}
	a.types[s.key] = st
	return s, nil
}

// readStorages reads the key list and each storage's count and bytes.
func (a *legacyArchive) readStorages() error {
	v, err := pickle.Decode(a.r, pickle.Options{NoNumpy: true})
	if err != nil {
		return fmt.Errorf("read storage keys: %w", err)
	}
	keys, ok := v.([]any)
	if !ok {
		return fmt.Errorf("storage keys are a %T, not a list", v)
	}
	for _, k := range keys {
		key, ok := k.(string)
		if !ok {
			return fmt.Errorf("storage key is a %T, not a str", k)
		}
		if err := a.readStorage(key); err != nil {
			return err
		}
	}
	return nil
}

func (a *legacyArchive) readStorage(key string) error {
	st, ok := a.types[key]
	if !ok {
		return fmt.Errorf("storage %q has data but no tensor refers to it", key)
	}
	s := a.storages[key+"/"+st.dtype]
	var n [8]byte
	if _, err := io.ReadFull(a.r, n[:]); err != nil {
		return fmt.Errorf("read size of storage %q: %w", key, err)
	}
	numel := int64(binary.LittleEndian.Uint64(n[:]))
	if numel != s.numel {
		return fmt.Errorf("storage %q holds %d elements, the object says %d", key, numel, s.numel)
	}
	nbytes := numel * int64(st.itemSize)
	if nbytes > a.remaining {
		return fmt.Errorf("storage %q needs %d bytes, more than the file holds", key, nbytes)
	}
	raw := make([]byte, nbytes)
	if _, err := io.ReadFull(a.r, raw); err != nil {
		return fmt.Errorf("read storage %q: %w", key, err)
	}
	a.remaining -= nbytes
	return s.fill(st, raw, binary.LittleEndian)
}
