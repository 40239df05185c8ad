package batch

import (
	"bytes"
	"image"
	"os"
	"testing"
)

// BenchmarkDecodeJPEG420 decodes a 4:2:0 photo to planes, converting as Go
// does and as libjpeg does (compare with PIL's Image.open().convert("RGB")
// on the same file, gen_jpeg_fixture.py's folder).
func BenchmarkDecodeJPEG420(b *testing.B) {
	raw, err := os.ReadFile("testdata/jpeg/video-001.q50.420.jpeg")
	if err != nil {
		b.Fatal(err)
	}
	for _, lj := range []bool{false, true} {
		name := map[bool]string{false: "go", true: "libjpeg"}[lj]
		b.Run(name, func(b *testing.B) {
			for range b.N {
				img, _, err := image.Decode(bytes.NewReader(raw))
				if err != nil {
					b.Fatal(err)
				}
				toPlanes(img, true, lj)
			}
		})
	}
}
