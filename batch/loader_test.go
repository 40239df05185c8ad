package batch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/detflow/detflow/schemas"
)

// equivalenceImages are the JPEG fixtures (every layout: 4:2:0, 4:2:2,
// 4:4:4, progressive, grey, CMYK), an odd-sized 4:2:0 noise JPEG and a PNG.
func equivalenceImages(t *testing.T) map[string]*schemas.Record {
	t.Helper()
	recs := map[string]*schemas.Record{}
	for _, name := range []string{"video-001.q50.420.jpeg", "video-001.q50.422.jpeg", "video-001.q50.444.jpeg",
		"video-001.q50.420.progressive.jpeg", "video-001.jpeg", "video-005.gray.q50.jpeg", "video-001.cmyk.jpeg"} {
		rec, err := fileRecord("testdata/jpeg/" + name)
		if err != nil {
			t.Fatal(err)
		}
		recs[name] = rec
	}
	noise := image.NewRGBA(image.Rect(0, 0, 37, 23))
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rng.IntN(256))
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, noise, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	recs["noise37x23.jpeg"] = &schemas.Record{FileName: "noise", Image: buf.Bytes(), Width: 37, Height: 23}
	recs["gradient.png"] = pngRecord(t, 40, 30)
	return recs
}

// TestPrepareEqualsStepByStep checks the fused pixel path against the
// step-by-step transforms bit for bit: both conversions, RGB and BGR,
// flipped or not, enlarged, reduced, unchanged and stretched.
func TestPrepareEqualsStepByStep(t *testing.T) {
	base := Options{Mean: [3]float32{123.675, 116.28, 103.53}, Std: [3]float32{58.395, 57.12, 57.375}}
	scales := []struct {
		scale [2]int
		keep  bool
	}{{[2]int{1333, 800}, true}, {[2]int{90, 40}, true}, {[2]int{150, 103}, true}, {[2]int{64, 200}, false}}
	for name, rec := range equivalenceImages(t) {
		img, _, err := image.Decode(bytes.NewReader(rec.Image))
		if err != nil {
			t.Fatal(err)
		}
		for _, sc := range scales {
			for k := range 8 {
				o := base
				o.Scale, o.KeepRatio = sc.scale, sc.keep
				o.Libjpeg, o.ToRGB, o.FlipRatio = k&1 != 0, k&2 != 0, float64(k>>2)
				it, err := Prepare(rec, o, true, rand.New(rand.NewPCG(1, 2)))
				if err != nil {
					t.Fatal(err)
				}
				want := referencePixels(img, o, it.W, it.H, it.Flipped)
				if i := firstBitDiff(it.Pixels, want); i >= 0 {
					t.Fatalf("%s %v libjpeg=%v rgb=%v flipped=%v (%dx%d): value %d = %v, step by step %v",
						name, sc, o.Libjpeg, o.ToRGB, it.Flipped, it.W, it.H, i, it.Pixels[i], want[i])
				}
			}
		}
	}
}

// firstBitDiff is the first index where a and b differ in any bit, or -1.
func firstBitDiff(a, b []float32) int {
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i
		}
	}
	return -1
}

// loaderRecords are n small JPEGs of varying size (both orientations) and
// content, so batches differ from one another.
func loaderRecords(t *testing.T, n int) []*schemas.Record {
	t.Helper()
	recs := make([]*schemas.Record, n)
	for i := range recs {
		w, h := 20+7*i, 40-3*i
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				img.Set(x, y, color.RGBA{uint8(x * i), uint8(y + i), uint8(x ^ y), 255})
			}
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, nil); err != nil {
			t.Fatal(err)
		}
		recs[i] = &schemas.Record{ImageID: int64(i), FileName: fmt.Sprintf("img%d.jpg", i), Image: buf.Bytes(),
			Width: int32(w), Height: int32(h), GTBoxes: []float32{1, 2, 8, 9}}
	}
	return recs
}

// loadAll runs a Loader over recs in batches of 2 (flip rng per position)
// and returns what it hands back.
func loadAll(recs []*schemas.Record, o Options, workers int) []Loaded {
	ld := NewLoader(context.Background(), o, true, workers, 2, func(ctx context.Context, add AddFunc) error {
		for i := 0; i < len(recs); i += 2 {
			rs := recs[i:min(i+2, len(recs))]
			rngs := []*rand.Rand{rand.New(rand.NewPCG(9, uint64(i))), rand.New(rand.NewPCG(9, uint64(i+1)))}
			if !add(rs, rngs[:len(rs)]) {
				return nil
			}
		}
		return nil
	})
	defer ld.Stop()
	var out []Loaded
	for b := range ld.Batches() {
		out = append(out, b)
	}
	return out
}

// TestLoaderEqualsSerialPrepare: with any number of workers the loader hands
// back, in order, exactly the items a serial Prepare loop makes.
func TestLoaderEqualsSerialPrepare(t *testing.T) {
	recs := loaderRecords(t, 9)
	o := Options{Scale: [2]int{64, 48}, KeepRatio: true, FlipRatio: 0.5, ToRGB: true,
		Mean: [3]float32{1, 2, 3}, Std: [3]float32{4, 5, 6}}
	var want [][]*Item
	for i := 0; i < len(recs); i += 2 {
		var items []*Item
		for j := i; j < min(i+2, len(recs)); j++ {
			it, err := Prepare(recs[j], o, true, rand.New(rand.NewPCG(9, uint64(j))))
			if err != nil {
				t.Fatal(err)
			}
			items = append(items, it)
		}
		want = append(want, items)
	}
	for _, workers := range []int{1, 2, 5} {
		got := loadAll(recs, o, workers)
		if len(got) != len(want) {
			t.Fatalf("workers %d: %d batches, want %d", workers, len(got), len(want))
		}
		for b := range got {
			if got[b].Err != nil || len(got[b].Items) != len(want[b]) {
				t.Fatalf("workers %d batch %d: %d items, error %v", workers, b, len(got[b].Items), got[b].Err)
			}
			for i, it := range got[b].Items {
				w := want[b][i]
				if it.ImageID != w.ImageID || it.Flipped != w.Flipped || firstBitDiff(it.Pixels, w.Pixels) >= 0 ||
					firstBitDiff(it.GTBoxes, w.GTBoxes) >= 0 {
					t.Fatalf("workers %d batch %d item %d differs from the serial loop", workers, b, i)
				}
			}
		}
	}
}

// TestLoaderStopsOnCorruptImage: a corrupt image ends loading with an
// error naming its record and file, after the batches before it.
func TestLoaderStopsOnCorruptImage(t *testing.T) {
	recs := loaderRecords(t, 8)
	recs[5].Image = recs[5].Image[:40]
	o := Options{Scale: [2]int{64, 48}, KeepRatio: true, Std: [3]float32{1, 1, 1}}
	got := loadAll(recs, o, 3)
	if len(got) != 3 || got[0].Err != nil || got[1].Err != nil {
		t.Fatalf("got %d batches, want 2 good then the error", len(got))
	}
	if err := got[2].Err; err == nil || !bytes.Contains([]byte(err.Error()), []byte("image 5 (img5.jpg)")) {
		t.Fatalf("error %v, want one naming image 5 (img5.jpg)", err)
	}
}

// TestLoaderProducerErrorComesLast: the producer's own error (a corrupt
// shard) arrives after the batches it queued.
func TestLoaderProducerErrorComesLast(t *testing.T) {
	recs := loaderRecords(t, 4)
	o := Options{Scale: [2]int{64, 48}, KeepRatio: true, Std: [3]float32{1, 1, 1}}
	bad := errors.New("shard 3: corrupt")
	ld := NewLoader(context.Background(), o, true, 2, 2, func(ctx context.Context, add AddFunc) error {
		add(recs[:2], []*rand.Rand{nil, nil})
		return bad
	})
	defer ld.Stop()
	var errs []error
	for b := range ld.Batches() {
		errs = append(errs, b.Err)
	}
	if len(errs) != 2 || errs[0] != nil || errs[1] != bad {
		t.Fatalf("got %v, want a batch then the producer's error", errs)
	}
}

// TestLoaderStopLeavesNoGoroutine: stopping after one batch of a long,
// endless production returns only once every goroutine of the loader
// (producer, workers, assembler) has ended.
func TestLoaderStopLeavesNoGoroutine(t *testing.T) {
	recs := loaderRecords(t, 4)
	o := Options{Scale: [2]int{640, 480}, KeepRatio: true, Std: [3]float32{1, 1, 1}}
	before := runtime.NumGoroutine()
	ld := NewLoader(context.Background(), o, false, 3, 2, func(ctx context.Context, add AddFunc) error {
		for i := 0; ; i++ {
			if !add(recs[i%3:i%3+2], []*rand.Rand{nil, nil}) {
				return ctx.Err()
			}
		}
	})
	if b := <-ld.Batches(); b.Err != nil || len(b.Items) != 2 {
		t.Fatalf("first batch: %d items, error %v", len(b.Items), b.Err)
	}
	ld.Stop()
	ld.Stop() // twice is fine
	if n := runtime.NumGoroutine(); n > before {
		time.Sleep(50 * time.Millisecond) // runtime bookkeeping, not ours, may lag
		if n = runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after Stop, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
		}
	}
}
