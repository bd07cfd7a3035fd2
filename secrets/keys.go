package secrets

import (
	"bufio"
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// derivationInfo is the HKDF info of the key derived from
// SKILLFLAW_SECRET_KEY; another use of that secret gets another info.
const derivationInfo = "skillflaw secrets v1"

// minSecretLength is the shortest SKILLFLAW_SECRET_KEY a key is derived
// from, as config requires.
const minSecretLength = 32

// KeyFileError is a key file that cannot be used: unreadable, empty, or a
// bad line. It names the file and line, never the key text.
type KeyFileError struct {
	// Path is the file, as SKILLFLAW_SECRETS_KEY_FILE names it.
	Path string
	// Line is the 1-based line at fault; 0 for the whole file.
	Line int
	// Err is what is wrong.
	Err error
}

func (e *KeyFileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("SKILLFLAW_SECRETS_KEY_FILE %s, line %d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("SKILLFLAW_SECRETS_KEY_FILE %s: %v", e.Path, e.Err)
}

func (e *KeyFileError) Unwrap() error { return e.Err }

// LoadRing builds the ring from configuration: the keys of keyFile
// (SKILLFLAW_SECRETS_KEY_FILE) when it is set, the first one sealing, plus
// the key derived from secretKey (SKILLFLAW_SECRET_KEY), when it is set
// too, for opening only; else the key derived from secretKey alone; else
// ErrNoKey. Any problem with the file is a *KeyFileError: meant to stop
// the process at startup.
func LoadRing(keyFile, secretKey string) (*Ring, error) {
	var derived *Key
	if secretKey != "" {
		k, err := DeriveKey(secretKey)
		if err != nil {
			return nil, err
		}
		derived = &k
	}
	if keyFile == "" {
		if derived == nil {
			return nil, ErrNoKey
		}
		return NewRing(*derived)
	}
	keys, err := LoadKeyFile(keyFile)
	if err != nil {
		return nil, err
	}
	if derived != nil && !hasID(keys, derived.id) {
		keys = append(keys, *derived)
	}
	return NewRing(keys[0], keys[1:]...)
}

func hasID(keys []Key, id string) bool {
	for _, k := range keys {
		if k.id == id {
			return true
		}
	}
	return false
}

// LoadKeyFile reads a key file: lines "<key id> <base64 32-byte key>", the
// current key first; blank lines and lines starting with # are skipped.
// Errors are *KeyFileError.
func LoadKeyFile(path string) ([]Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		// The *PathError repeats the path; keep only its reason.
		if pe := (*os.PathError)(nil); errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &KeyFileError{Path: path, Err: fmt.Errorf("cannot be read: %w", err)}
	}
	keys, err := ParseKeyFile(data)
	if err != nil {
		var kfe *KeyFileError
		if errors.As(err, &kfe) {
			kfe.Path = path
			return nil, kfe
		}
		return nil, &KeyFileError{Path: path, Err: err}
	}
	return keys, nil
}

// ParseKeyFile parses a key file's content (see LoadKeyFile). A line's key
// is standard or URL-safe base64, padded or not, of exactly 32 bytes (for
// example `openssl rand -base64 32`). Ids must be distinct.
func ParseKeyFile(data []byte) ([]Key, error) {
	var keys []Key
	seen := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			return nil, &KeyFileError{Line: n, Err: fmt.Errorf("has %d fields, want \"<key id> <base64 key>\"", len(fields))}
		}
		id := fields[0]
		if !keyIDPattern.MatchString(id) {
			return nil, &KeyFileError{Line: n, Err: fmt.Errorf("key id %q must be 1 to 64 letters, digits, '.', '_' or '-'", id)}
		}
		if first, dup := seen[id]; dup {
			return nil, &KeyFileError{Line: n, Err: fmt.Errorf("key id %q is already on line %d", id, first)}
		}
		material, err := decodeKey(fields[1])
		if err != nil {
			return nil, &KeyFileError{Line: n, Err: fmt.Errorf("key %q: %w", id, err)}
		}
		k, err := NewKey(id, material)
		clear(material)
		if err != nil {
			return nil, &KeyFileError{Line: n, Err: err}
		}
		seen[id] = n
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		return nil, &KeyFileError{Err: err}
	}
	if len(keys) == 0 {
		return nil, &KeyFileError{Err: errors.New("has no key (want lines \"<key id> <base64 32-byte key>\")")}
	}
	return keys, nil
}

// decodeKey decodes a key in any of the four base64 alphabets and checks
// its size; the message never shows the text.
func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err != nil {
			continue
		}
		if len(b) != KeySize {
			return nil, fmt.Errorf("must be %d bytes, not %d (openssl rand -base64 32 makes one)", KeySize, len(b))
		}
		return b, nil
	}
	return nil, errors.New("is not base64")
}

// DeriveKey returns the key derived from secretKey (SKILLFLAW_SECRET_KEY,
// at least 32 characters) with HKDF-SHA256, info "skillflaw secrets v1";
// its id is the first 8 hex characters of the SHA-256 of the derived key.
// The same secret always gives the same key and id.
func DeriveKey(secretKey string) (Key, error) {
	if len(secretKey) < minSecretLength {
		return Key{}, fmt.Errorf("SKILLFLAW_SECRET_KEY must be at least %d characters to derive the secrets key", minSecretLength)
	}
	material, err := hkdf.Key(sha256.New, []byte(secretKey), nil, derivationInfo, KeySize)
	if err != nil {
		return Key{}, fmt.Errorf("derive the secrets key: %w", err)
	}
	defer clear(material)
	sum := sha256.Sum256(material)
	return NewKey(hex.EncodeToString(sum[:])[:8], material)
}
