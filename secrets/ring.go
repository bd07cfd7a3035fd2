package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// version is the prefix of every sealed text; a new format gets a new one.
const version = "sf1"

// KeySize is the size of a key in bytes (AES-256).
const KeySize = 32

// overhead is the random nonce plus the GCM tag that every sealed value
// carries besides its plaintext.
const overhead = 12 + 16

// keyIDPattern is what a key id may be: short, without ':' or spaces, so
// that it fits the sealed format and a key file line.
var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// encoding is base64url without padding, strict about trailing bits, so
// a sealed value has exactly one spelling.
var encoding = base64.RawURLEncoding.Strict()

var (
	// ErrNoKey is returned when no key is configured: set
	// SKILLFLAW_SECRETS_KEY_FILE or SKILLFLAW_SECRET_KEY.
	ErrNoKey = errors.New("no key to seal secrets: set SKILLFLAW_SECRETS_KEY_FILE or SKILLFLAW_SECRET_KEY")
	// ErrMalformed is returned by Open for a text that is not a sealed
	// value of this format.
	ErrMalformed = errors.New("not a sealed secret")
	// ErrAuthentication is returned by Open when a sealed value does not
	// authenticate under its key: it was altered, or it is opened with
	// other additional data than it was sealed with.
	ErrAuthentication = errors.New("sealed secret does not authenticate (altered, or sealed for another place)")
	// ErrUnknownKey matches every *UnknownKeyError with errors.Is.
	ErrUnknownKey = errors.New("sealed with an unknown key")
)

// UnknownKeyError is returned by Open for a value sealed with a key the
// ring does not have (removed from the key file too early, or another
// deployment's key).
type UnknownKeyError struct {
	// KeyID is the id the sealed value names.
	KeyID string
}

func (e *UnknownKeyError) Error() string {
	return fmt.Sprintf("sealed with unknown key id %q", e.KeyID)
}

// Is makes errors.Is(err, ErrUnknownKey) true.
func (e *UnknownKeyError) Is(target error) bool { return target == ErrUnknownKey }

// Key is one AES-256-GCM key with its id. Its material is never printed.
type Key struct {
	id   string
	aead cipher.AEAD
}

// NewKey returns the key of id with the given 32 bytes of material.
func NewKey(id string, material []byte) (Key, error) {
	if !keyIDPattern.MatchString(id) {
		return Key{}, fmt.Errorf("key id %q must be 1 to 64 letters, digits, '.', '_' or '-'", id)
	}
	if len(material) != KeySize {
		return Key{}, fmt.Errorf("key %q must be %d bytes, not %d", id, KeySize, len(material))
	}
	block, err := aes.NewCipher(material)
	if err != nil {
		return Key{}, fmt.Errorf("key %q: %w", id, err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return Key{}, fmt.Errorf("key %q: %w", id, err)
	}
	return Key{id: id, aead: aead}, nil
}

// ID is the key's id, as sealed values name it.
func (k Key) ID() string { return k.id }

// String names the key without its material.
func (k Key) String() string { return "secrets.Key(" + k.id + ")" }

// GoString names the key without its material, for %#v.
func (k Key) GoString() string { return k.String() }

// Ring holds the key that seals and every key that still opens. It is
// immutable and safe for concurrent use. A nil *Ring has no key: every
// method returns ErrNoKey.
type Ring struct {
	current Key
	byID    map[string]Key
	ids     []string
}

// NewRing returns a ring that seals with current and opens values sealed
// with current or any of older. Key ids must be distinct.
func NewRing(current Key, older ...Key) (*Ring, error) {
	r := &Ring{current: current, byID: make(map[string]Key, 1+len(older))}
	for _, k := range append([]Key{current}, older...) {
		if k.aead == nil {
			return nil, errors.New("a key of the ring was not made by NewKey")
		}
		if _, dup := r.byID[k.id]; dup {
			return nil, fmt.Errorf("key id %q appears twice", k.id)
		}
		r.byID[k.id] = k
		r.ids = append(r.ids, k.id)
	}
	return r, nil
}

// CurrentKeyID is the id of the key that seals.
func (r *Ring) CurrentKeyID() string {
	if r == nil {
		return ""
	}
	return r.current.id
}

// KeyIDs are the ids of every key that opens, the sealing one first.
func (r *Ring) KeyIDs() []string {
	if r == nil {
		return nil
	}
	return append([]string(nil), r.ids...)
}

// String lists the key ids, never the keys.
func (r *Ring) String() string {
	if r == nil {
		return "secrets.Ring(no key)"
	}
	return "secrets.Ring(" + strings.Join(r.ids, ",") + ")"
}

// Seal encrypts plaintext under the current key, bound to aad (the place
// the value belongs to; nil for none), and returns
// "sf1:<key id>:<base64url(nonce|ciphertext)>". Each call draws a fresh
// nonce, so sealing a value twice gives two different texts.
func (r *Ring) Seal(plaintext, aad []byte) (string, error) {
	if r == nil {
		return "", ErrNoKey
	}
	out := r.current.aead.Seal(nil, nil, plaintext, header(r.current.id, aad))
	return version + ":" + r.current.id + ":" + encoding.EncodeToString(out), nil
}

// Open decrypts a value Seal returned, with the key its id names and the
// same aad. A text of another shape is ErrMalformed, an id the ring does
// not hold is an *UnknownKeyError (errors.Is ErrUnknownKey), an altered
// value or another aad is ErrAuthentication.
func (r *Ring) Open(sealed string, aad []byte) ([]byte, error) {
	_, plaintext, err := r.open(sealed, aad)
	return plaintext, err
}

// Reseal re-seals a value sealed with an older key under the current one,
// reporting whether it changed; a value already sealed with the current
// key comes back as it is, once it is known to open. aad is the one the
// value was sealed with, and the re-sealed value keeps it.
func (r *Ring) Reseal(sealed string, aad []byte) (string, bool, error) {
	id, plaintext, err := r.open(sealed, aad)
	if err != nil {
		return "", false, err
	}
	if id == r.current.id {
		return sealed, false, nil
	}
	out, err := r.Seal(plaintext, aad)
	if err != nil {
		return "", false, err
	}
	return out, true, nil
}

// open returns the key id and plaintext of a sealed value.
func (r *Ring) open(sealed string, aad []byte) (string, []byte, error) {
	if r == nil {
		return "", nil, ErrNoKey
	}
	id, body, ok := parse(sealed)
	if !ok {
		return "", nil, ErrMalformed
	}
	k, ok := r.byID[id]
	if !ok {
		return "", nil, &UnknownKeyError{KeyID: id}
	}
	raw, err := encoding.DecodeString(body)
	if err != nil || len(raw) < overhead {
		return "", nil, ErrMalformed
	}
	plaintext, err := k.aead.Open(nil, nil, raw, header(id, aad))
	if err != nil {
		return "", nil, ErrAuthentication
	}
	return id, plaintext, nil
}

// IsSealed reports whether s has the shape of a sealed value
// ("sf1:<key id>:<base64url>" long enough for a nonce and a tag). It
// proves nothing about where s came from: a value a client sends is
// sealed even when it looks sealed already.
func IsSealed(s string) bool {
	_, body, ok := parse(s)
	if !ok {
		return false
	}
	raw, err := encoding.DecodeString(body)
	return err == nil && len(raw) >= overhead
}

// parse splits a sealed text into its key id and base64 body.
func parse(s string) (id, body string, ok bool) {
	rest, ok := strings.CutPrefix(s, version+":")
	if !ok {
		return "", "", false
	}
	id, body, ok = strings.Cut(rest, ":")
	if !ok || !keyIDPattern.MatchString(id) || body == "" {
		return "", "", false
	}
	return id, body, true
}

// header is the additional data GCM authenticates: the format version and
// key id (neither can be swapped) followed by the caller's aad. Key ids
// hold no ':', so the split is unambiguous.
func header(id string, aad []byte) []byte {
	h := make([]byte, 0, len(version)+len(id)+2+len(aad))
	h = append(h, version+":"+id+":"...)
	return append(h, aad...)
}
