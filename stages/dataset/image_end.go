package dataset

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"

	"github.com/detflow/detflow/storage"
)

// DefaultMaxPixels is the default of dataset.max_pixels: PIL's
// decompression-bomb limit. A PNG header may claim 200000x200000 pixels in
// a few hundred bytes; decoding it would need 160 GB.
const DefaultMaxPixels = 89_478_485

// jpegTail is how far from the end a JPEG's end-of-image marker is looked
// for; files without one there are decoded in full to judge them.
const jpegTail = 4 << 10

// checkEnd tells whether an image file holds all the data its format says,
// so a truncated download fails validation rather than a later stage.
func (c *fileChecker) checkEnd(ctx context.Context, full, format string) (imageFileCheck, error) {
	var ok bool
	var err error
	switch format {
	case "png":
		ok, err = pngComplete(ctx, c.fsys, full)
	case "jpeg":
		ok, err = jpegEnds(ctx, c.fsys, full)
	default:
		return imageFileCheck{}, nil
	}
	if err != nil || ok {
		return imageFileCheck{}, err
	}
	// The cheap check failed: a full decode (bounded by the pixel limit
	// checked before) is the judge.
	if derr := decodeFully(ctx, c.fsys, full); derr != nil {
		return imageFileCheck{rule: RuleImageTruncated, detail: fmt.Sprintf("%s data ends early: %v", format, derr)}, nil
	}
	return imageFileCheck{}, nil
}

// pngComplete walks the chunk headers up to IEND without keeping any data.
func pngComplete(ctx context.Context, fsys *storage.FS, p string) (bool, error) {
	f, err := fsys.Open(ctx, p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	if _, err := r.Discard(8); err != nil { // signature, checked by DecodeConfig
		return false, nil
	}
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return false, nil
		}
		if string(hdr[4:]) == "IEND" {
			return true, nil
		}
		n := int64(binary.BigEndian.Uint32(hdr[:4])) + 4 // data and CRC
		if m, err := io.CopyN(io.Discard, r, n); m != n || err != nil {
			return false, nil
		}
	}
}

// jpegEnds looks for the end-of-image marker near the end of the file.
func jpegEnds(ctx context.Context, fsys *storage.FS, p string) (bool, error) {
	r, err := fsys.OpenReaderAt(ctx, p)
	if err != nil {
		return false, err
	}
	defer r.Close()
	n := min(r.Size(), jpegTail)
	tail := make([]byte, n)
	if _, err := r.ReadAt(tail, r.Size()-n); err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	return bytes.Contains(tail, []byte{0xff, 0xd9}), nil
}

func decodeFully(ctx context.Context, fsys *storage.FS, p string) error {
	f, err := fsys.Open(ctx, p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, _, err = image.Decode(bufio.NewReader(f))
	return err
}
