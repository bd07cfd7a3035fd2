package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// APIKeyPrefixLength is how many leading characters of a key the masked
// form shows, as Langflow's ApiKeyRead does.
const APIKeyPrefixLength = 8

// NewAPIKey returns a fresh key in Langflow's form, "sk-" and 43 URL-safe
// base64 characters (32 random bytes), with its hash.
func NewAPIKey() (key, hash string) {
	key = "sk-" + randomString(32)
	return key, HashAPIKey(key)
}

// randomString returns n random bytes, URL-safe base64 encoded.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashAPIKey is the stored form of a key: hex SHA-256. Keys are 256-bit
// random strings, so a fast hash is as safe as a slow one and lets every
// request look its key up by index.
func HashAPIKey(key string) string { return sha256Hex(key) }

// sha256Hex is the hex SHA-256 of s.
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// MaskAPIKey renders a key as lists show it: its prefix, then one * per
// hidden character.
func MaskAPIKey(prefix string, length int) string {
	return prefix + strings.Repeat("*", max(length-len(prefix), 0))
}
