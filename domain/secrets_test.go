package domain_test

import (
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/domain"
)

func TestIsSecretKey(t *testing.T) {
	t.Parallel()
	for _, k := range []string{"api_key", "API-Key", "apikey", "oauth_client_secret", "client_secret", "password",
		"db_password", "secret", "token", "access_token", "github_token", "bearer_token", "private_key", "openai_api_key",
		"Authorization", "secret_key"} {
		assert.True(t, domain.IsSecretKey(k), k)
	}
	for _, k := range []string{"auth_type", "oauth_token_url", "max_tokens", "token_type", "username", "oauth_client_id",
		"keys", "secretary_name", "password_hint"} {
		assert.False(t, domain.IsSecretKey(k), k)
	}
}

// TestMaskAuthSettings_at_any_depth proves that secrets are masked in
// nested objects and arrays, and that empty ones stay visible.
func TestMaskAuthSettings_at_any_depth(t *testing.T) {
	t.Parallel()
	in := `{"auth_type":"oauth","api_key":"sk-top","empty":"","password":null,
"oauth":{"client_id":"id","client_secret":"cs-1","nested":{"token":"t-1","token_url":"https://x/token"}},
"providers":[{"name":"a","api_key":"k-a"},{"name":"b","credentials":{"db_password":"pw"}}],"secret":{"x":1},"n":1.50}`
	want := `{"auth_type":"oauth","api_key":"*******","empty":"","password":null,
"oauth":{"client_id":"id","client_secret":"*******","nested":{"token":"*******","token_url":"https://x/token"}},
"providers":[{"name":"a","api_key":"*******"},{"name":"b","credentials":{"db_password":"*******"}}],"secret":"*******","n":1.50}`
	got := domain.MaskAuthSettings(json.RawMessage(in))
	assert.JSONEq(t, want, string(got))
	assert.Contains(t, string(got), "1.50", "numbers keep their text")
	assert.JSONEq(t, want, string(domain.MaskAuthSettings(got)), "masking twice changes nothing")

	plain := json.RawMessage(`{"auth_type": "none"}`)
	assert.Equal(t, string(plain), string(domain.MaskAuthSettings(plain)), "nothing secret: returned as it is")
}

// TestProject_masked_secrets_sent_back_keep_the_stored_ones proves that a
// mask sent back at any depth keeps the secret stored at the same place.
func TestProject_masked_secrets_sent_back_keep_the_stored_ones(t *testing.T) {
	t.Parallel()
	stored := `{"api_key":"sk-top","oauth":{"client_secret":"cs-1","client_id":"id"},
"providers":[{"name":"a","api_key":"k-a"},{"name":"b","api_key":"k-b"}]}`
	p, err := domain.CreateProject(uuid.New(), domain.NewProject{UserID: 1,
		Fields: domain.ProjectFields{Name: "P", AuthSettings: json.RawMessage(stored)}})
	require.NoError(t, err)
	p.Apply(p.Root().Pending()[0])

	// The client sends the shown settings back with one change.
	shown := domain.MaskAuthSettings(json.RawMessage(stored))
	var back map[string]any
	require.NoError(t, json.Unmarshal(shown, &back))
	back["oauth"].(map[string]any)["client_id"] = "id-2"
	back["providers"].([]any)[1].(map[string]any)["api_key"] = "k-b-new"
	back["providers"] = append(back["providers"].([]any), map[string]any{"name": "c", "api_key": domain.SecretMask})
	raw, err := json.Marshal(back)
	require.NoError(t, err)

	_, err = p.Update(domain.ProjectChange{AuthSettings: raw})
	require.NoError(t, err)
	p.Apply(p.Root().Pending()[1])
	assert.JSONEq(t, `{"api_key":"sk-top","oauth":{"client_secret":"cs-1","client_id":"id-2"},
"providers":[{"name":"a","api_key":"k-a"},{"name":"b","api_key":"k-b-new"},{"name":"c","api_key":"*******"}]}`,
		string(p.Fields().AuthSettings), "masks keep the stored secrets; a mask with nothing stored at its place stays")
}

// TestMaskPasswordFields proves that the values of template fields marked
// password are emptied at any depth (nested groups too), and nothing else.
func TestMaskPasswordFields(t *testing.T) {
	t.Parallel()
	graph := `{"nodes":[{"id":"llm","data":{"node":{"template":{
  "api_key":{"password":true,"value":"sk-secret","name":"api_key"},
  "model":{"password":false,"value":"gpt"},
  "empty_key":{"password":true,"value":""},
  "global":{"password":true,"value":"OPENAI_API_KEY","load_from_db":true},
  "text":{"value":"<b>hi</b> & bye","temperature":0.10}}}}},
 {"id":"group","data":{"node":{"flow":{"data":{"nodes":[{"id":"inner","data":{"node":{"template":{
  "token":{"password":true,"value":{"nested":"x"}}}}}}]}}}}}],"edges":[]}`
	got := string(domain.MaskPasswordFields(json.RawMessage(graph)))
	assert.JSONEq(t, `{"nodes":[{"id":"llm","data":{"node":{"template":{
  "api_key":{"password":true,"value":"","name":"api_key"},
  "model":{"password":false,"value":"gpt"},
  "empty_key":{"password":true,"value":""},
  "global":{"password":true,"value":"","load_from_db":true},
  "text":{"value":"<b>hi</b> & bye","temperature":0.10}}}}},
 {"id":"group","data":{"node":{"flow":{"data":{"nodes":[{"id":"inner","data":{"node":{"template":{
  "token":{"password":true,"value":""}}}}}]}}}}}],"edges":[]}`, got)
	assert.NotContains(t, got, "sk-secret")
	assert.Contains(t, got, "<b>hi</b> & bye", "HTML is not escaped")
	assert.Contains(t, got, "0.10", "numbers keep their text")

	for _, raw := range []string{`{"nodes":[{"id":"a","data":{"node":{"template":{"k":{"value":"v"}}}}}]}`, `null`, ``, `{bad`} {
		assert.Equal(t, raw, string(domain.MaskPasswordFields(json.RawMessage(raw))), "returned as it is: %s", raw)
	}
}
