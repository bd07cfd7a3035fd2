package secrets_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/secrets"
)

const secretKey = "0123456789abcdef0123456789abcdef-jwt"

func material(t *testing.T) []byte {
	t.Helper()
	b := make([]byte, secrets.KeySize)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

func newRing(t *testing.T, ids ...string) *secrets.Ring {
	t.Helper()
	keys := make([]secrets.Key, len(ids))
	for i, id := range ids {
		k, err := secrets.NewKey(id, material(t))
		require.NoError(t, err)
		keys[i] = k
	}
	r, err := secrets.NewRing(keys[0], keys[1:]...)
	require.NoError(t, err)
	return r
}

// keyLine is a key file line with a fresh key.
func keyLine(t *testing.T, id string) string {
	t.Helper()
	return id + " " + base64.StdEncoding.EncodeToString(material(t)) + "\n"
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestRing_Seal_round_trip(t *testing.T) {
	t.Parallel()
	r := newRing(t, "k1")
	for _, plaintext := range []string{"sk-live-0123456789", "", "ünïcødé ✓", strings.Repeat("x", 1<<16)} {
		sealed, err := r.Seal([]byte(plaintext), []byte("config/42/value"))
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(sealed, "sf1:k1:"), sealed)
		assert.True(t, secrets.IsSealed(sealed))
		got, err := r.Open(sealed, []byte("config/42/value"))
		require.NoError(t, err)
		assert.Equal(t, plaintext, string(got))
	}

	sealed, err := r.Seal([]byte("no aad"), nil)
	require.NoError(t, err)
	got, err := r.Open(sealed, nil)
	require.NoError(t, err)
	assert.Equal(t, "no aad", string(got))
}

func TestRing_Seal_never_contains_the_plaintext(t *testing.T) {
	t.Parallel()
	r := newRing(t, "k1")
	plaintext := "sk-proj-SUPERSECRETVALUE1234"
	sealed, err := r.Seal([]byte(plaintext), nil)
	require.NoError(t, err)
	assert.NotContains(t, sealed, plaintext)
	assert.NotContains(t, sealed, "SUPERSECRET")
	assert.NotContains(t, sealed, base64.RawURLEncoding.EncodeToString([]byte(plaintext)))
	assert.NotContains(t, sealed, base64.StdEncoding.EncodeToString([]byte(plaintext)))
	assert.NotContains(t, r.String(), "SUPERSECRET")
}

func TestRing_Seal_nonces_differ(t *testing.T) {
	t.Parallel()
	r := newRing(t, "k1")
	seen := map[string]bool{}
	nonces := map[string]bool{}
	for range 100 {
		sealed, err := r.Seal([]byte("same value"), []byte("aad"))
		require.NoError(t, err)
		assert.False(t, seen[sealed], "a sealed text repeated")
		seen[sealed] = true
		raw, err := base64.RawURLEncoding.DecodeString(sealed[strings.LastIndexByte(sealed, ':')+1:])
		require.NoError(t, err)
		nonce := string(raw[:12])
		assert.False(t, nonces[nonce], "a nonce repeated")
		nonces[nonce] = true
	}
}

func TestRing_Open_refuses(t *testing.T) {
	t.Parallel()
	r := newRing(t, "k1")
	aad := []byte("mcp/srv-1/headers/Authorization")
	sealed, err := r.Seal([]byte("Bearer abc"), aad)
	require.NoError(t, err)
	prefix, body := sealed[:len("sf1:k1:")], sealed[len("sf1:k1:"):]
	raw, err := base64.RawURLEncoding.DecodeString(body)
	require.NoError(t, err)

	flip := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 0x01
		return prefix + base64.RawURLEncoding.EncodeToString(b)
	}
	other := newRing(t, "k2")
	fromOther, err := other.Seal([]byte("Bearer abc"), aad)
	require.NoError(t, err)

	tests := []struct {
		name   string
		sealed string
		aad    []byte
		want   error
	}{
		{"nonce_altered", flip(0), aad, secrets.ErrAuthentication},
		{"ciphertext_altered", flip(13), aad, secrets.ErrAuthentication},
		{"tag_altered", flip(len(raw) - 1), aad, secrets.ErrAuthentication},
		{"truncated", prefix + base64.RawURLEncoding.EncodeToString(raw[:len(raw)-1]), aad, secrets.ErrAuthentication},
		{"wrong_aad", sealed, []byte("mcp/srv-2/headers/Authorization"), secrets.ErrAuthentication},
		{"missing_aad", sealed, nil, secrets.ErrAuthentication},
		{"unknown_key_id", fromOther, aad, secrets.ErrUnknownKey},
		{"key_id_swapped", "sf1:k2:" + body, aad, secrets.ErrUnknownKey},
		{"plain_text", "Bearer abc", aad, secrets.ErrMalformed},
		{"empty", "", aad, secrets.ErrMalformed},
		{"other_version", "sf2:k1:" + body, aad, secrets.ErrMalformed},
		{"no_body", "sf1:k1:", aad, secrets.ErrMalformed},
		{"bad_key_id", "sf1:k 1:" + body, aad, secrets.ErrMalformed},
		{"not_base64", prefix + "!!!!" + body, aad, secrets.ErrMalformed},
		{"padded_base64", prefix + base64.URLEncoding.EncodeToString(raw) + "=", aad, secrets.ErrMalformed},
		{"too_short", prefix + base64.RawURLEncoding.EncodeToString(raw[:20]), aad, secrets.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []byte
			var err error
			require.NotPanics(t, func() { got, err = r.Open(tt.sealed, tt.aad) })
			require.ErrorIs(t, err, tt.want)
			assert.Nil(t, got)
			assert.NotContains(t, err.Error(), "Bearer abc")
		})
	}

	// The key id the other ring used is in the typed error.
	_, err = r.Open(fromOther, aad)
	var unknown *secrets.UnknownKeyError
	require.ErrorAs(t, err, &unknown)
	assert.Equal(t, "k2", unknown.KeyID)
}

func TestRing_Open_same_key_under_another_id_refused(t *testing.T) {
	t.Parallel()
	m := material(t)
	a, err := secrets.NewKey("a", m)
	require.NoError(t, err)
	b, err := secrets.NewKey("b", m)
	require.NoError(t, err)
	r, err := secrets.NewRing(a, b)
	require.NoError(t, err)
	sealed, err := r.Seal([]byte("v"), nil)
	require.NoError(t, err)
	// The key id is authenticated: relabelling a value fails even when
	// both ids hold the same key.
	_, err = r.Open("sf1:b:"+strings.TrimPrefix(sealed, "sf1:a:"), nil)
	require.ErrorIs(t, err, secrets.ErrAuthentication)
}

func TestRing_rotation(t *testing.T) {
	t.Parallel()
	oldLine := keyLine(t, "2026-01")
	oldRing, err := secrets.LoadRing(writeFile(t, oldLine), "")
	require.NoError(t, err)
	oldSealed, err := oldRing.Seal([]byte("provider key"), []byte("p1"))
	require.NoError(t, err)

	// Rotation: a new first line, the old one kept.
	newLine := keyLine(t, "2026-06")
	ring, err := secrets.LoadRing(writeFile(t, "# current key first\n"+newLine+"\n"+oldLine), "")
	require.NoError(t, err)
	assert.Equal(t, "2026-06", ring.CurrentKeyID())
	assert.Equal(t, []string{"2026-06", "2026-01"}, ring.KeyIDs())

	got, err := ring.Open(oldSealed, []byte("p1"))
	require.NoError(t, err)
	assert.Equal(t, "provider key", string(got))

	newSealed, err := ring.Seal([]byte("another"), nil)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(newSealed, "sf1:2026-06:"))
	_, err = oldRing.Open(newSealed, nil)
	require.ErrorIs(t, err, secrets.ErrUnknownKey)

	resealed, changed, err := ring.Reseal(oldSealed, []byte("p1"))
	require.NoError(t, err)
	assert.True(t, changed)
	assert.True(t, strings.HasPrefix(resealed, "sf1:2026-06:"))
	got, err = ring.Open(resealed, []byte("p1"))
	require.NoError(t, err)
	assert.Equal(t, "provider key", string(got))

	again, changed, err := ring.Reseal(resealed, []byte("p1"))
	require.NoError(t, err)
	assert.False(t, changed)
	assert.Equal(t, resealed, again)

	// Once the old line is dropped, only re-sealed values open.
	newOnly, err := secrets.LoadRing(writeFile(t, newLine), "")
	require.NoError(t, err)
	_, err = newOnly.Open(resealed, []byte("p1"))
	require.NoError(t, err)
	_, err = newOnly.Open(oldSealed, []byte("p1"))
	require.ErrorIs(t, err, secrets.ErrUnknownKey)
}

func TestRing_Reseal_refuses(t *testing.T) {
	t.Parallel()
	r := newRing(t, "k2", "k1")
	sealed, err := r.Seal([]byte("v"), []byte("here"))
	require.NoError(t, err)
	_, changed, err := r.Reseal(sealed, []byte("elsewhere"))
	require.ErrorIs(t, err, secrets.ErrAuthentication)
	assert.False(t, changed)
	_, _, err = r.Reseal("plain", nil)
	require.ErrorIs(t, err, secrets.ErrMalformed)
	_, _, err = r.Reseal("sf1:zz:"+strings.TrimPrefix(sealed, "sf1:k2:"), []byte("here"))
	require.ErrorIs(t, err, secrets.ErrUnknownKey)
}

func TestDeriveKey_stable(t *testing.T) {
	t.Parallel()
	k1, err := secrets.DeriveKey(secretKey)
	require.NoError(t, err)
	k2, err := secrets.DeriveKey(secretKey)
	require.NoError(t, err)
	assert.Equal(t, k1.ID(), k2.ID())
	assert.Regexp(t, `^[0-9a-f]{8}$`, k1.ID())

	// A value sealed by one process opens in the next one.
	r1, err := secrets.LoadRing("", secretKey)
	require.NoError(t, err)
	r2, err := secrets.LoadRing("", secretKey)
	require.NoError(t, err)
	assert.Equal(t, k1.ID(), r1.CurrentKeyID())
	sealed, err := r1.Seal([]byte("v"), []byte("aad"))
	require.NoError(t, err)
	got, err := r2.Open(sealed, []byte("aad"))
	require.NoError(t, err)
	assert.Equal(t, "v", string(got))

	// Another SKILLFLAW_SECRET_KEY is another key.
	other, err := secrets.LoadRing("", secretKey+"-other")
	require.NoError(t, err)
	assert.NotEqual(t, r1.CurrentKeyID(), other.CurrentKeyID())
	_, err = other.Open(sealed, []byte("aad"))
	require.ErrorIs(t, err, secrets.ErrUnknownKey)

	_, err = secrets.DeriveKey("short")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "short")
	assert.NotContains(t, k1.String(), secretKey)
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", k1, k1, k1), secretKey)
}

func TestLoadRing_sources(t *testing.T) {
	t.Parallel()
	t.Run("neither_refused", func(t *testing.T) {
		t.Parallel()
		r, err := secrets.LoadRing("", "")
		require.ErrorIs(t, err, secrets.ErrNoKey)
		assert.Nil(t, r)
		assert.Contains(t, err.Error(), "SKILLFLAW_SECRETS_KEY_FILE")
		assert.Contains(t, err.Error(), "SKILLFLAW_SECRET_KEY")
	})
	t.Run("file_seals_derived_still_opens", func(t *testing.T) {
		t.Parallel()
		derivedOnly, err := secrets.LoadRing("", secretKey)
		require.NoError(t, err)
		before, err := derivedOnly.Seal([]byte("from before the key file"), nil)
		require.NoError(t, err)

		r, err := secrets.LoadRing(writeFile(t, keyLine(t, "file-1")), secretKey)
		require.NoError(t, err)
		assert.Equal(t, "file-1", r.CurrentKeyID())
		assert.Equal(t, []string{"file-1", derivedOnly.CurrentKeyID()}, r.KeyIDs())
		got, err := r.Open(before, nil)
		require.NoError(t, err)
		assert.Equal(t, "from before the key file", string(got))
		resealed, changed, err := r.Reseal(before, nil)
		require.NoError(t, err)
		assert.True(t, changed)
		assert.True(t, strings.HasPrefix(resealed, "sf1:file-1:"))
	})
	t.Run("file_without_secret_key", func(t *testing.T) {
		t.Parallel()
		r, err := secrets.LoadRing(writeFile(t, keyLine(t, "only")), "")
		require.NoError(t, err)
		assert.Equal(t, []string{"only"}, r.KeyIDs())
	})
}

func TestLoadKeyFile_errors(t *testing.T) {
	t.Parallel()
	key := base64.StdEncoding.EncodeToString(material(t))
	short := base64.StdEncoding.EncodeToString([]byte("sixteen byte key"))
	tests := []struct {
		name    string
		content string
		line    int
		want    string
	}{
		{"empty", "", 0, "has no key"},
		{"comments_only", "# nothing\n\n", 0, "has no key"},
		{"one_field", "k1\n", 1, "has 1 fields"},
		{"three_fields", "k1 " + key + " extra\n", 1, "has 3 fields"},
		{"bad_id", "k:1 " + key + "\n", 1, "key id \"k:1\""},
		{"not_base64", "k1 not*base64\n", 1, "is not base64"},
		{"short_key", "k1 " + short + "\n", 1, "must be 32 bytes, not 16"},
		{"long_key", "k1 " + base64.StdEncoding.EncodeToString(make([]byte, 64)) + "\n", 1, "must be 32 bytes, not 64"},
		{"duplicate_id", "k1 " + key + "\n# c\nk1 " + key + "\n", 3, "already on line 1"},
		{"bad_second_line", "k1 " + key + "\nk2 " + short + "\n", 2, "must be 32 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writeFile(t, tt.content)
			_, err := secrets.LoadRing(path, secretKey)
			var kfe *secrets.KeyFileError
			require.ErrorAs(t, err, &kfe)
			assert.Equal(t, path, kfe.Path)
			assert.Equal(t, tt.line, kfe.Line)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "SKILLFLAW_SECRETS_KEY_FILE "+path)
			assert.NotContains(t, err.Error(), key, "the key text is never shown")
			assert.NotContains(t, err.Error(), short)
		})
	}

	t.Run("missing_file", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "absent")
		_, err := secrets.LoadRing(path, "")
		var kfe *secrets.KeyFileError
		require.ErrorAs(t, err, &kfe)
		require.ErrorIs(t, err, os.ErrNotExist)
		assert.Equal(t, "SKILLFLAW_SECRETS_KEY_FILE "+path+": cannot be read: no such file or directory", err.Error())
	})
	t.Run("unreadable_file", func(t *testing.T) {
		t.Parallel()
		if os.Geteuid() == 0 {
			t.Skip("root reads any file")
		}
		path := writeFile(t, "k1 "+key+"\n")
		require.NoError(t, os.Chmod(path, 0o000))
		_, err := secrets.LoadRing(path, "")
		require.ErrorIs(t, err, os.ErrPermission)
	})
	t.Run("directory", func(t *testing.T) {
		t.Parallel()
		_, err := secrets.LoadRing(t.TempDir(), "")
		var kfe *secrets.KeyFileError
		require.ErrorAs(t, err, &kfe)
	})
}

func TestParseKeyFile_formats(t *testing.T) {
	t.Parallel()
	m := material(t)
	var content strings.Builder
	for i, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		fmt.Fprintf(&content, "  key.%d\t%s  \r\n", i, enc.EncodeToString(m))
	}
	keys, err := secrets.ParseKeyFile([]byte(content.String()))
	require.NoError(t, err)
	require.Len(t, keys, 4)
	assert.Equal(t, "key.0", keys[0].ID())
}

func TestNewRing_and_NewKey_refuse(t *testing.T) {
	t.Parallel()
	_, err := secrets.NewKey("k1", make([]byte, 16))
	require.ErrorContains(t, err, "must be 32 bytes, not 16")
	_, err = secrets.NewKey("", make([]byte, 32))
	require.Error(t, err)
	_, err = secrets.NewKey("a:b", make([]byte, 32))
	require.Error(t, err)

	k, err := secrets.NewKey("k1", material(t))
	require.NoError(t, err)
	_, err = secrets.NewRing(k, k)
	require.ErrorContains(t, err, `key id "k1" appears twice`)
	_, err = secrets.NewRing(secrets.Key{})
	require.Error(t, err)
}

func TestRing_nil_has_no_key(t *testing.T) {
	t.Parallel()
	var r *secrets.Ring
	_, err := r.Seal([]byte("v"), nil)
	require.ErrorIs(t, err, secrets.ErrNoKey)
	_, err = r.Open("sf1:k1:AAAA", nil)
	require.ErrorIs(t, err, secrets.ErrNoKey)
	_, _, err = r.Reseal("sf1:k1:AAAA", nil)
	require.ErrorIs(t, err, secrets.ErrNoKey)
	assert.Empty(t, r.CurrentKeyID())
	assert.Empty(t, r.KeyIDs())
}

func TestIsSealed(t *testing.T) {
	t.Parallel()
	r := newRing(t, "k1")
	sealed, err := r.Seal([]byte("v"), nil)
	require.NoError(t, err)
	assert.True(t, secrets.IsSealed(sealed))
	for _, s := range []string{"", "v", "sf1:", "sf1:k1:", "sf1::AAAA", "sf1:k1:AAAA", "sf1:k1:!!", "sf2" + sealed[3:], " " + sealed} {
		assert.False(t, secrets.IsSealed(s), s)
	}
}

func TestMask(t *testing.T) {
	t.Parallel()
	r := newRing(t, "k1")
	sealed, err := r.Seal([]byte("sk-abcdefghijklmnop"), nil)
	require.NoError(t, err)
	for _, s := range []string{"sk-abcdefghijklmnop", "x", sealed} {
		assert.Equal(t, domain.SecretMask, secrets.Mask(s))
		assert.True(t, secrets.IsMask(secrets.Mask(s)))
	}
	assert.Empty(t, secrets.Mask(""))
	assert.False(t, secrets.IsMask("sk-abcdefghijklmnop"))
}

func TestRing_concurrent_use(t *testing.T) {
	t.Parallel()
	r := newRing(t, "k2", "k1")
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for j := range 50 {
				v := fmt.Sprintf("value-%d-%d", i, j)
				sealed, err := r.Seal([]byte(v), []byte(v))
				if !assert.NoError(t, err) {
					return
				}
				got, err := r.Open(sealed, []byte(v))
				if !assert.NoError(t, err) || !assert.Equal(t, v, string(got)) {
					return
				}
			}
		})
	}
	wg.Wait()
}
