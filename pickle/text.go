package pickle

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// unquoteString decodes the argument of the protocol 0 STRING opcode: a
// Python 2 repr such as 'it\'s' with backslash escapes. The result holds the
// raw bytes.
func unquoteString(line []byte) (string, error) {
	if len(line) < 2 || line[0] != line[len(line)-1] || (line[0] != '\'' && line[0] != '"') {
		return "", fmt.Errorf("STRING argument %q is not quoted", truncate(line))
	}
	body := line[1 : len(line)-1]
	var out strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' {
			out.WriteByte(c)
			continue
		}
		i++
		if i == len(body) {
			return "", fmt.Errorf("STRING argument ends in a backslash")
		}
		switch e := body[i]; e {
		case '\\', '\'', '"':
			out.WriteByte(e)
		case 'n':
			out.WriteByte('\n')
		case 't':
			out.WriteByte('\t')
		case 'r':
			out.WriteByte('\r')
		case 'a':
			out.WriteByte('\a')
		case 'b':
			out.WriteByte('\b')
		case 'f':
			out.WriteByte('\f')
		case 'v':
			out.WriteByte('\v')
		case '\n':
		case 'x':
			if i+2 >= len(body) {
				return "", fmt.Errorf("STRING argument has a short \\x escape")
			}
			v, err := strconv.ParseUint(string(body[i+1:i+3]), 16, 8)
			if err != nil {
				return "", fmt.Errorf("STRING argument has a bad \\x escape")
			}
			out.WriteByte(byte(v))
			i += 2
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := 0
			j := i
			for ; j < len(body) && j < i+3 && body[j] >= '0' && body[j] <= '7'; j++ {
				v = v*8 + int(body[j]-'0')
			}
			out.WriteByte(byte(v))
			i = j - 1
		default:
			out.WriteByte('\\')
			out.WriteByte(e)
		}
	}
	return out.String(), nil
}

// rawUnicodeEscape decodes Python's raw-unicode-escape codec, used by the
// protocol 0 UNICODE opcode: bytes are Latin-1 code points except for
// \uXXXX and \UXXXXXXXX escapes.
func rawUnicodeEscape(b []byte) (string, error) {
	var out strings.Builder
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '\\' && i+1 < len(b) && (b[i+1] == 'u' || b[i+1] == 'U') {
			n := 4
			if b[i+1] == 'U' {
				n = 8
			}
			if i+2+n > len(b) {
				return "", fmt.Errorf("UNICODE argument has a short \\%c escape", b[i+1])
			}
			v, err := strconv.ParseUint(string(b[i+2:i+2+n]), 16, 32)
			if err != nil || v > utf8.MaxRune {
				return "", fmt.Errorf("UNICODE argument has a bad \\%c escape", b[i+1])
			}
			out.WriteRune(rune(v))
			i += 1 + n
			continue
		}
		out.WriteRune(rune(c))
	}
	return out.String(), nil
}

func truncate(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}
