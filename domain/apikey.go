package domain

import "github.com/google/uuid"

// MaxAPIKeyNameLength bounds an API key's name.
const MaxAPIKeyNameLength = 255

// APIKey is a user's API key (stream api_key-<uuid>). The aggregate never
// sees the key itself, only its hash.
type APIKey struct {
	root    Root
	id      uuid.UUID
	userID  int64
	revoked bool
}

// NewAPIKey is what CreateAPIKey needs: the hash and the masked form's
// parts of a key generated outside the domain.
type NewAPIKey struct {
	Name      string
	KeyHash   string
	KeyPrefix string
	KeyLength int
}

// CreateAPIKey records key id of user userID.
func CreateAPIKey(id uuid.UUID, userID int64, k NewAPIKey) (*APIKey, error) {
	if err := validLength("name", k.Name, MaxAPIKeyNameLength); err != nil {
		return nil, err
	}
	if k.KeyHash == "" {
		return nil, Invalidf("api key hash must not be empty")
	}
	a := &APIKey{}
	record(a, APIKeyCreated{APIKeyID: id.String(), UserID: userID, Name: k.Name,
		KeyHash: k.KeyHash, KeyPrefix: k.KeyPrefix, KeyLength: k.KeyLength})
	return a, nil
}

// LoadAPIKey returns an empty key to fold the stream of id into.
func LoadAPIKey(id uuid.UUID) *APIKey { return &APIKey{id: id} }

// StreamID implements commands.Aggregate.
func (a *APIKey) StreamID() string { return "api_key-" + a.id.String() }

// Root implements commands.Aggregate.
func (a *APIKey) Root() *Root { return &a.root }

// Revoke deletes the key on behalf of userID, who must own it: another
// user's key is reported as not found, so ids of others' keys leak nothing.
func (a *APIKey) Revoke(userID int64) error {
	if a.revoked || a.userID != userID {
		return NotFoundf("API Key not found")
	}
	record(a, APIKeyRevoked{APIKeyID: a.id.String(), UserID: a.userID})
	return nil
}

// Apply implements commands.Aggregate.
func (a *APIKey) Apply(e Event) {
	switch e := e.(type) {
	case APIKeyCreated:
		a.id, _ = uuid.Parse(e.APIKeyID)
		a.userID = e.UserID
	case APIKeyRevoked:
		a.revoked = true
	}
}
