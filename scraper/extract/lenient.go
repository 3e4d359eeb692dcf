package extract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxJSONLD caps one JSON-LD block.
const maxJSONLD = 2 << 20

// ParseLenientJSON parses JSON the way real sites ship it inside
// <script type="application/ld+json">: a BOM, HTML comment or CDATA
// wrappers, // and /* */ comments, trailing commas, raw control characters
// (newlines, tabs) inside strings, and several values in a row (returned as
// an array). Strict JSON is parsed as is.
func ParseLenientJSON(b []byte) (any, error) {
	if len(b) > maxJSONLD {
		return nil, fmt.Errorf("json-ld block of %d bytes is larger than %d", len(b), maxJSONLD)
	}
	b = bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(b), []byte("\ufeff")))
	var v any
	if err := json.Unmarshal(b, &v); err == nil {
		return v, nil
	}
	for _, w := range [][2]string{{"<!--", "-->"}, {"<![CDATA[", "]]>"}, {"//<![CDATA[", "//]]>"}} {
		if bytes.HasPrefix(b, []byte(w[0])) {
			b = bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(bytes.TrimPrefix(b, []byte(w[0]))), []byte(w[1])))
		}
	}
	clean := cleanJSON(b)
	dec := json.NewDecoder(bytes.NewReader(clean))
	var vals []any
	for {
		var x any
		err := dec.Decode(&x)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if len(vals) > 0 {
				break // keep what parsed before the garbage
			}
			return nil, fmt.Errorf("json-ld: %w", err)
		}
		vals = append(vals, x)
		if len(vals) > 1000 {
			break
		}
	}
	switch len(vals) {
	case 0:
		return nil, errors.New("json-ld: empty")
	case 1:
		return vals[0], nil
	}
	return vals, nil
}

// cleanJSON removes comments and trailing commas outside strings and escapes
// raw control characters inside strings.
func cleanJSON(b []byte) []byte {
	out := make([]byte, 0, len(b)+16)
	inStr, esc := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inStr {
			switch {
			case esc:
				esc = false
				out = append(out, c)
			case c == '\\':
				esc = true
				out = append(out, c)
			case c == '"':
				inStr = false
				out = append(out, c)
			case c == '\n':
				out = append(out, '\\', 'n')
			case c == '\r':
				out = append(out, '\\', 'r')
			case c == '\t':
				out = append(out, '\\', 't')
			case c < 0x20:
				out = append(out, fmt.Sprintf(`\u%04x`, c)...)
			default:
				out = append(out, c)
			}
			continue
		}
		switch {
		case c == '"':
			inStr = true
			out = append(out, c)
		case c == '/' && i+1 < len(b) && b[i+1] == '/':
			for i < len(b) && b[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(b) && b[i+1] == '*':
			end := bytes.Index(b[i+2:], []byte("*/"))
			if end < 0 {
				i = len(b)
			} else {
				i += 2 + end + 1
			}
		case c == ',':
			// Drop the comma when only white space and comments stand
			// between it and a closing bracket.
			j := i + 1
			for j < len(b) {
				if b[j] == ' ' || b[j] == '\n' || b[j] == '\r' || b[j] == '\t' {
					j++
					continue
				}
				if b[j] == '/' && j+1 < len(b) && b[j+1] == '/' {
					for j < len(b) && b[j] != '\n' {
						j++
					}
					continue
				}
				if b[j] == '/' && j+1 < len(b) && b[j+1] == '*' {
					end := bytes.Index(b[j+2:], []byte("*/"))
					if end < 0 {
						j = len(b)
					} else {
						j += 2 + end + 2
					}
					continue
				}
				break
			}
			if j < len(b) && (b[j] == '}' || b[j] == ']') {
				continue
			}
			out = append(out, c)
		default:
			out = append(out, c)
		}
	}
	return out
}
