package domain

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Secrets in answers. Two kinds of values are secrets wherever a resource
// is shown:
//
//   - in a project's auth_settings, the values of secret-like keys
//     (IsSecretKey) at any depth, shown as SecretMask to everyone; an
//     update that sends the mask back keeps the stored secret;
//   - in a flow's graph, the values of the template fields marked
//     "password": true (Langflow's node templates:
//     data.nodes[].data.node.template.<field> = {"password": true,
//     "value": "sk-…"}, nested groups included), emptied for readers who
//     may not change the flow (MaskPasswordFields).

// SecretMask replaces the secrets of auth_settings wherever a project is
// shown; an update that sends it back keeps the stored secret.
const SecretMask = "*******"

// secretKeys are keys whose values are secrets, compared in lower case
// with "-" read as "_".
var secretKeys = map[string]bool{
	"api_key": true, "apikey": true, "client_secret": true, "password": true, "passwd": true, "secret": true,
	"token": true, "access_token": true, "refresh_token": true, "id_token": true, "bearer_token": true,
	"auth_token": true, "private_key": true, "secret_key": true, "authorization": true,
}

// secretSuffixes make a key a secret too: oauth_client_secret, db_password,
// github_token, openai_api_key … (not token_url or max_tokens).
var secretSuffixes = []string{"_secret", "_password", "_token", "_api_key", "_apikey", "_private_key", "_secret_key"}

// IsSecretKey reports whether key names a secret: one of api_key, apikey,
// client_secret, password, passwd, secret, token, access_token,
// refresh_token, id_token, bearer_token, auth_token, private_key,
// secret_key, authorization, or a key ending in _secret, _password, _token,
// _api_key, _apikey, _private_key or _secret_key; case-insensitively, "-"
// counting as "_".
func IsSecretKey(key string) bool {
	k := strings.ReplaceAll(strings.ToLower(key), "-", "_")
	if secretKeys[k] {
		return true
	}
	for _, suffix := range secretSuffixes {
		if strings.HasSuffix(k, suffix) {
			return true
		}
	}
	return false
}

// MaskAuthSettings returns auth_settings with the value of every secret
// key (IsSecretKey), at any depth of its objects and arrays, replaced by
// SecretMask; empty and null values stay as they are. Anything that is not
// JSON is returned as it is.
func MaskAuthSettings(raw json.RawMessage) json.RawMessage {
	return rewriteJSON(raw, nil, func(v any) bool { return maskSecretKeys(v) })
}

// maskSecretKeys masks the secret keys' values in v, a decoded JSON
// value; it reports whether it changed anything.
func maskSecretKeys(v any) bool {
	changed := false
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if IsSecretKey(k) && !emptyJSON(x) {
				if x != SecretMask {
					v[k], changed = SecretMask, true
				}
				continue
			}
			changed = maskSecretKeys(x) || changed
		}
	case []any:
		for _, x := range v {
			changed = maskSecretKeys(x) || changed
		}
	}
	return changed
}

// keepMaskedSecrets returns next with every secret key whose value is
// SecretMask (a client sending a shown project back) given the stored
// value at the same place: the same keys from the root, arrays matched by
// index. A mask with nothing stored at its place stays.
func keepMaskedSecrets(next, stored json.RawMessage) json.RawMessage {
	old, ok := decodeJSON(stored)
	if !ok {
		old = nil // nothing stored: nothing to keep
	}
	return rewriteJSON(next, nil, func(v any) bool { return keepSecrets(v, old) })
}

// keepSecrets puts into next, a decoded JSON value, the values of stored
// where next has SecretMask under a secret key; it reports whether it
// changed anything.
func keepSecrets(next, stored any) bool {
	changed := false
	switch n := next.(type) {
	case map[string]any:
		s, _ := stored.(map[string]any)
		for k, x := range n {
			if old, ok := s[k]; ok && x == SecretMask && IsSecretKey(k) {
				n[k], changed = old, true
				continue
			}
			changed = keepSecrets(x, s[k]) || changed
		}
	case []any:
		s, _ := stored.([]any)
		for i, x := range n {
			var old any
			if i < len(s) {
				old = s[i]
			}
			changed = keepSecrets(x, old) || changed
		}
	}
	return changed
}

// PasswordFieldMask is what a template field marked "password": true
// shows instead of its value to readers who may not change the flow:
// nothing, as Langflow's export without API keys empties them.
const PasswordFieldMask = ""

// passwordMarker is in every graph that has a password field: graphs
// without it are answered without being decoded.
var passwordMarker = []byte(`"password"`)

// MaskPasswordFields returns a flow's graph (or any JSON that carries
// graphs: an event, a version) with the value of every object marked
// "password": true, at any depth, replaced by PasswordFieldMask; null and
// empty values stay. JSON without such a field, or that does not decode,
// is returned as it is.
func MaskPasswordFields(raw json.RawMessage) json.RawMessage {
	return rewriteJSON(raw, passwordMarker, maskPasswordValues)
}

// maskPasswordValues masks the password fields' values in v, a decoded
// JSON value; it reports whether it changed anything.
func maskPasswordValues(v any) bool {
	changed := false
	switch v := v.(type) {
	case map[string]any:
		if v["password"] == true {
			if x, ok := v["value"]; ok && !emptyJSON(x) {
				v["value"], changed = PasswordFieldMask, true
			}
		}
		for _, x := range v {
			changed = maskPasswordValues(x) || changed
		}
	case []any:
		for _, x := range v {
			changed = maskPasswordValues(x) || changed
		}
	}
	return changed
}

// rewriteJSON decodes raw (unless marker is given and raw lacks it), lets
// change rewrite the value in place, and encodes it again if change
// reports a change; otherwise, and for anything that does not decode, raw
// itself is returned. Numbers keep their text and HTML is not escaped.
func rewriteJSON(raw json.RawMessage, marker []byte, change func(any) bool) json.RawMessage {
	if len(raw) == 0 || marker != nil && !bytes.Contains(raw, marker) {
		return raw
	}
	v, ok := decodeJSON(raw)
	if !ok || !change(v) {
		return raw
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return raw
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// decodeJSON decodes raw generically, numbers as json.Number.
func decodeJSON(raw json.RawMessage) (any, bool) {
	if len(raw) == 0 {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil || dec.More() {
		return nil, false
	}
	return v, true
}

// emptyJSON reports a decoded value that hides nothing: null or "".
func emptyJSON(v any) bool { return v == nil || v == "" }
