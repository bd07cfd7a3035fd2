package secrets

import "github.com/skillflaw/skillflaw-go/domain"

// Mask is how an answer shows a secret value: domain.SecretMask, the mask
// auth_settings secrets already use, whatever the value (clear or sealed),
// so that nothing of it (not its length, not its last characters) is
// shown; an empty value stays empty, so a client still sees that none is
// set.
func Mask(s string) string {
	if s == "" {
		return ""
	}
	return domain.SecretMask
}

// IsMask reports whether s is the mask a client sends back unchanged: an
// update carrying it keeps the stored secret instead of storing the mask.
func IsMask(s string) bool { return s == domain.SecretMask }
