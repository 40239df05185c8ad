package storage

import (
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
)

// Digest identifies file content: its SHA-256 in lowercase hex and its size.
type Digest struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// DigestReader hashes everything read through it, so a file can be parsed
// and fingerprinted in one pass.
type DigestReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

// NewDigestReader wraps r.
func NewDigestReader(r io.Reader) *DigestReader {
	return &DigestReader{r: r, h: sha256.New()}
}

// Read reads from the wrapped reader and hashes what it returns.
func (d *DigestReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.h.Write(p[:n])
	d.n += int64(n)
	return n, err
}

// Digest is the SHA-256 and size of the bytes read so far.
func (d *DigestReader) Digest() Digest {
	return Digest{SHA256: fmt.Sprintf("%x", d.h.Sum(nil)), Size: d.n}
}

// DigestFile reads p to its end and returns its SHA-256 and size.
func (f *FS) DigestFile(ctx context.Context, p string) (Digest, error) {
	r, err := f.Open(ctx, p)
	if err != nil {
		return Digest{}, err
	}
	defer r.Close()
	d := NewDigestReader(r)
	if _, err := io.Copy(io.Discard, d); err != nil {
		return Digest{}, fmt.Errorf("hash %q: %w", p, err)
	}
	return d.Digest(), nil
}
