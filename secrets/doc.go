// Package secrets seals secret values (config values marked secret,
// provider API keys, MCP env and headers) so that they are stored at rest,
// and written to the event log, only as AEAD ciphertext.
//
// # Format
//
// Ring.Seal returns a self-describing text:
//
//	sf1:<key id>:<base64url(nonce|ciphertext|tag)>
//
// "sf1" is the format version; the key id names the key that sealed the
// value; the rest is AES-256-GCM (Go's standard library) with a random
// 96-bit nonce, base64url without padding. The version, the key id and the
// caller's additional data (aad: for example the aggregate id and field
// name a value belongs to) are authenticated: a value copied to another
// place, or edited by one bit, or presented under another key id, does not
// open. Ring.Open reports why with a typed error (ErrMalformed,
// *UnknownKeyError, ErrAuthentication) and never panics.
//
// # Keys and rotation
//
// LoadRing builds the ring from configuration. SKILLFLAW_SECRETS_KEY_FILE
// names a file of lines "<key id> <base64 32-byte key>" (blank lines and
// lines starting with # are skipped): the first key seals, every key
// opens. To rotate, add a new first line and restart: new values are sealed
// with the new key, old ones still open; Reseal re-seals an old value under
// the new key, and a line may be dropped once nothing sealed with it is
// left. Without a key file, the key is derived from SKILLFLAW_SECRET_KEY
// with HKDF-SHA256 (info "skillflaw secrets v1"); its id is the first 8 hex
// characters of the SHA-256 of the derived key, so it changes, and old
// values stop opening, if SKILLFLAW_SECRET_KEY changes. When both are set,
// the derived key still opens (never seals), so that moving from the
// derived key to a key file keeps earlier values readable until they are
// re-sealed. With neither, LoadRing returns ErrNoKey: no key is invented,
// and the features that store secrets must refuse to start (a nil *Ring
// answers ErrNoKey to every call).
//
// A key must not seal more than 2^32 values (random nonces); rotate long
// before.
//
// # Never in clear
//
// Plaintext leaves this package only from Open, in memory, for the code
// that uses the secret. It must not reach the event log, a read model, a
// log line or an answer: answers show Mask(value). Errors never carry a
// plaintext, a key or key-file text. IsSealed only checks the shape of a
// text, so a value a client sends is always sealed, even if it looks
// sealed already.
package secrets
