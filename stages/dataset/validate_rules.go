package dataset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"path"
	"strings"
)

// The rules Validate checks, as they appear in reports.
const (
	RuleNoImages            = "no images"
	RuleImageID             = "image without id"
	RuleDuplicateImageID    = "duplicate image id"
	RuleImageSize           = "image width or height missing or not positive"
	RuleFileNameEmpty       = "file_name missing or empty"
	RuleFileNameAbsolute    = "file_name is absolute"
	RuleFileNameEscapes     = "file_name escapes the image root"
	RuleFileNameUnclean     = "file_name not a clean relative path"
	RuleDuplicateFileName   = "duplicate file_name"
	RuleImageMissing        = "image file missing"
	RuleImageLinkEscapes    = "image file links outside the image root"
	RuleImageUndecodable    = "image file not a decodable JPEG or PNG"
	RuleImageSizeMismatch   = "image file size differs from the declared width and height"
	RuleImageTooLarge       = "image has more pixels than dataset.max_pixels"
	RuleImageTruncated      = "image file truncated"
	RuleCategoryID          = "category without id"
	RuleDuplicateCategoryID = "duplicate category id"
	RuleAnnotationID        = "annotation without id"
	RuleDuplicateAnnID      = "duplicate annotation id"
	RuleUnknownImage        = "annotation image_id not among the images"
	RuleUnknownCategory     = "annotation category_id not among the categories"
	RuleBboxMalformed       = "bbox not 4 finite numbers"
	RuleBboxNegative        = "bbox with negative width or height"
	RuleBboxZero            = "bbox with zero width or height"
	RuleBboxOutside         = "bbox outside the image by more than 1 px"
)

// ruleOrder is the order of problems in reports: images, categories, then
// annotations, each from structure to content.
var ruleOrder = [...]string{
	RuleNoImages, RuleImageID, RuleDuplicateImageID, RuleImageSize,
	RuleFileNameEmpty, RuleFileNameAbsolute, RuleFileNameEscapes, RuleFileNameUnclean,
	RuleDuplicateFileName, RuleImageMissing, RuleImageLinkEscapes, RuleImageUndecodable,
	RuleImageSizeMismatch, RuleImageTooLarge, RuleImageTruncated, RuleCategoryID, RuleDuplicateCategoryID, RuleAnnotationID,
	RuleDuplicateAnnID, RuleUnknownImage, RuleUnknownCategory, RuleBboxMalformed,
	RuleBboxNegative, RuleBboxZero, RuleBboxOutside,
	RuleSegmMissing, RuleSegmMalformed, RuleSegmPolygonOdd, RuleSegmPolygonShort, RuleSegmRLESize, RuleSegmRLECounts,
}

// bboxTolerance is how far (pixels) a box may stick out of its image:
// COCO's own boxes exceed the image by rounding now and then.
const bboxTolerance = 1.0

// fileNameRule returns the rule a COCO file_name breaks, or "" when it is a
// clean relative path that stays inside the image root.
func fileNameRule(name string) string {
	switch {
	case name == "":
		return RuleFileNameEmpty
	case strings.HasPrefix(name, "/"), strings.HasPrefix(name, `\`), hasDriveLetter(name), strings.Contains(name, "://"):
		return RuleFileNameAbsolute
	}
	// Judge escapes as a Windows tool would too: a backslash separates.
	cleaned := path.Clean(strings.ReplaceAll(name, `\`, "/"))
	switch {
	case cleaned == ".." || strings.HasPrefix(cleaned, "../"):
		return RuleFileNameEscapes
	case cleaned != name, cleaned == ".", strings.ContainsRune(name, 0):
		return RuleFileNameUnclean
	}
	return ""
}

func hasDriveLetter(name string) bool {
	if len(name) < 2 || name[1] != ':' {
		return false
	}
	c := name[0] | 0x20
	return c >= 'a' && c <= 'z'
}

// parseBbox decodes a bbox that must be [x, y, w, h] of finite numbers.
// NaN and infinities arrive as the strings that sanitizeNonFinite made.
func parseBbox(raw json.RawMessage) ([4]float64, bool) {
	var box [4]float64
	var vals []any
	if len(raw) == 0 || json.Unmarshal(raw, &vals) != nil || len(vals) != 4 {
		return box, false
	}
	for i, v := range vals {
		f, ok := v.(float64)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return box, false
		}
		box[i] = f
	}
	return box, true
}

// sanitizeNonFinite rewrites the bare tokens NaN, Infinity and -Infinity
// that Python's json module writes (outside strings) into JSON strings, so
// the file parses and the validator can name the record that holds them.
// It reports whether anything changed.
func sanitizeNonFinite(data []byte) ([]byte, bool) {
	var out []byte
	inString, escaped, changed := false, false, false
	last := 0
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
			continue
		}
		if c != '-' && c != 'I' && c != 'N' {
			continue
		}
		for _, tok := range []string{"-Infinity", "Infinity", "NaN"} {
			if bytes.HasPrefix(data[i:], []byte(tok)) {
				out = append(out, data[last:i]...)
				out = append(out, '"')
				out = append(out, tok...)
				out = append(out, '"')
				i += len(tok) - 1
				last = i + 1
				changed = true
				break
			}
		}
	}
	if !changed {
		return data, false
	}
	return append(out, data[last:]...), true
}

// jsonValue renders a decoded value for an Example.
func jsonValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// rawValue renders raw JSON compactly, "null" when absent.
func rawValue(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "null"
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}
