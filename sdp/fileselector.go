package sdp

import (
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// FileSelector is the a=file-selector of a file transfer (RFC 5547
// section 5): what the file is called, its type, size and hash.
type FileSelector struct {
	// Name is the file name (without directories).
	Name string
	// Type is its MIME type, "" when not given.
	Type string
	// Size is its size in bytes, -1 when not given.
	Size int64
	// HashAlg is the hash algorithm ("sha-1"), "" when no hash is given.
	HashAlg string
	// Hash is the hash value.
	Hash []byte
}

// String formats the selector as the attribute value:
// name:"f.bin" type:application/octet-stream size:123 hash:sha-1:AB:CD:...
func (f FileSelector) String() string {
	var parts []string
	if f.Name != "" {
		parts = append(parts, `name:"`+escapeName(f.Name)+`"`)
	}
	if f.Type != "" {
		// No blanks in the selector: "text/plain; charset=utf-8" is
		// written "text/plain;charset=utf-8" (RFC 5547 section 5).
		parts = append(parts, "type:"+strings.Join(strings.Fields(f.Type), ""))
	}
	if f.Size >= 0 {
		parts = append(parts, "size:"+strconv.FormatInt(f.Size, 10))
	}
	if f.HashAlg != "" {
		parts = append(parts, "hash:"+f.HashAlg+":"+hashString(f.Hash))
	}
	return strings.Join(parts, " ")
}

// hashString writes a hash as upper-case hex pairs joined by colons.
func hashString(h []byte) string {
	s := strings.ToUpper(hex.EncodeToString(h))
	var b strings.Builder
	for i := 0; i < len(s); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(s[i : i+2])
	}
	return b.String()
}

// escapeName percent-encodes what may not stand between the quotes
// (RFC 5547 section 5: '"', '%', CR, LF).
func escapeName(s string) string {
	return strings.NewReplacer("%", "%25", `"`, "%22", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ParseFileSelector parses an a=file-selector value.
func ParseFileSelector(v string) (FileSelector, error) {
	f := FileSelector{Size: -1}
	rest := strings.TrimSpace(v)
	if rest == "" {
		return f, fmt.Errorf("%w: empty a=file-selector", ErrSyntax)
	}
	for rest != "" {
		var tok string
		if strings.HasPrefix(rest, `name:"`) {
			end := strings.IndexByte(rest[6:], '"')
			if end < 0 {
				return f, fmt.Errorf("%w: a=file-selector: unterminated name", ErrSyntax)
			}
			name, err := url.PathUnescape(rest[6 : 6+end])
			if err != nil {
				return f, fmt.Errorf("%w: a=file-selector: name: %v", ErrSyntax, err)
			}
			f.Name = name
			rest = strings.TrimLeft(rest[6+end+1:], " ")
			continue
		}
		tok, rest, _ = strings.Cut(rest, " ")
		rest = strings.TrimLeft(rest, " ")
		key, val, ok := strings.Cut(tok, ":")
		if !ok || val == "" {
			return f, fmt.Errorf("%w: a=file-selector: %q is not key:value", ErrSyntax, clip(tok))
		}
		switch strings.ToLower(key) {
		case "type":
			f.Type = val
		case "size":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil || n < 0 {
				return f, fmt.Errorf("%w: a=file-selector: size %q", ErrSyntax, clip(val))
			}
			f.Size = n
		case "hash":
			alg, hv, ok := strings.Cut(val, ":")
			h, err := hex.DecodeString(strings.ReplaceAll(hv, ":", ""))
			if !ok || alg == "" || err != nil || len(h) == 0 {
				return f, fmt.Errorf("%w: a=file-selector: hash %q", ErrSyntax, clip(val))
			}
			f.HashAlg, f.Hash = strings.ToLower(alg), h
		default:
			// Unknown selectors are ignored (RFC 5547 section 5 allows
			// extensions).
		}
	}
	return f, nil
}
