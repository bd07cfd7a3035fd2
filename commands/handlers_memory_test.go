package commands_test

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/auth"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/memory"
	"github.com/skillflaw/skillflaw-go/secrets"
	"github.com/skillflaw/skillflaw-go/tenancy"
)

// counter allocates ids from memory (the sequences' stand-in).
type counter struct{ n atomic.Int64 }

func (c *counter) Next(context.Context, string) (int64, error) { return c.n.Add(1), nil }

// memHandler is a model catalogue handler over the in-memory event store:
// a use case tested with no database and no HTTP.
func memHandler(t *testing.T) (*commands.ModelCatalogHandler, *memory.Store) {
	t.Helper()
	repo, store := newMemRepo(t, domain.ModelCatalogEvents())
	return &commands.ModelCatalogHandler{Repo: repo, IDs: &counter{}}, store
}

// The catalogue's use cases, on their own: the seed once per version,
// unique keys and names, cascade removal, bulk counts, and concurrent
// writers that all land (lost races decided again).
func TestModelCatalogHandler_InMemory(t *testing.T) {
	t.Parallel()
	h, store := memHandler(t)
	// The built-in catalogue (the system tenant's) is changed by
	// superusers only; the seed asks for no caller.
	ctx := auth.WithPrincipal(context.Background(), auth.Principal{UserID: 1, IsSuperuser: true})
	md := eventstore.Metadata{ActorUserID: 1}

	n, err := h.SeedModelCatalog(context.Background(), md)
	require.NoError(t, err)
	assert.Positive(t, n)
	n, err = h.SeedModelCatalog(ctx, md)
	require.NoError(t, err)
	assert.Zero(t, n, "seeded once")

	tenant := tenancy.SystemTenantID
	f := domain.ModelProviderFields{ProviderKey: "acme", ProviderName: "Acme", VariableName: "ACME_KEY", ModelClass: "ChatOpenAI",
		Icon: "Bot", ModelNameParam: "model", APIKeyParam: "api_key", MaxTokensFieldName: "max_tokens", IsActive: true}
	p, err := h.AddProvider(ctx, commands.AddModelProvider{Tenant: tenant, Meta: md, Fields: f})
	require.NoError(t, err)
	_, err = h.AddProvider(ctx, commands.AddModelProvider{Tenant: tenant, Meta: md, Fields: f})
	assert.ErrorIs(t, err, domain.ErrConflict)

	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = h.AddModel(ctx, commands.AddProviderModel{Tenant: tenant, Meta: md, Fields: domain.ProviderModelFields{
				ProviderID: p.ID, ModelName: "m" + string(rune('a'+i)), ModelType: "language", IsActive: true}})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err, "every concurrent writer lands")
	}
	cat, err := commands.LoadModelCatalogAggregate(ctx, h.Repo, tenant)
	require.NoError(t, err)
	state := cat.AuditState().(domain.ModelCatalogState)
	var mine int
	for _, m := range state.Models {
		if m.ProviderID == p.ID {
			mine++
		}
	}
	assert.Equal(t, 8, mine)

	w, err := h.RemoveProviders(ctx, commands.RemoveModelProviders{Tenant: tenant, Meta: md, IDs: []int64{p.ID, 999999}})
	require.NoError(t, err)
	assert.Equal(t, 1, w.Removed)
	assert.Len(t, w.Result.Positions, 9, "8 model removals, then the provider's")
	head, err := store.Head(ctx)
	require.NoError(t, err)
	assert.Equal(t, w.Result.Last(), head)
}

// The built-in catalogue (the system tenant's) is changed by superusers
// only: a caller of another role, or no caller at all, is refused every
// write there and nothing is appended; another tenant's catalogue is not
// concerned, and the seed, the server's own write, asks for no caller.
func TestModelCatalogHandler_InMemoryBuiltinSuperusersOnly(t *testing.T) {
	t.Parallel()
	h, store := memHandler(t)
	md := eventstore.Metadata{ActorUserID: 2}
	n, err := h.SeedModelCatalog(context.Background(), md)
	require.NoError(t, err)
	require.Positive(t, n)
	head, err := store.Head(context.Background())
	require.NoError(t, err)
	f := domain.ModelProviderFields{ProviderKey: "acme", ProviderName: "Acme", VariableName: "ACME_KEY", ModelClass: "ChatOpenAI",
		Icon: "Bot", ModelNameParam: "model", APIKeyParam: "api_key", MaxTokensFieldName: "max_tokens", IsActive: true}
	sys := tenancy.SystemTenantID
	for name, ctx := range map[string]context.Context{
		"no caller":       context.Background(),
		"not a superuser": auth.WithPrincipal(context.Background(), auth.Principal{UserID: 2}),
	} {
		_, err := h.AddProvider(ctx, commands.AddModelProvider{Tenant: sys, Meta: md, Fields: f})
		assert.ErrorIs(t, err, domain.ErrForbidden, name)
		_, err = h.ChangeProvider(ctx, commands.ChangeModelProvider{Tenant: sys, Meta: md, ProviderID: 1})
		assert.ErrorIs(t, err, domain.ErrForbidden, name)
		_, err = h.RemoveProviders(ctx, commands.RemoveModelProviders{Tenant: sys, Meta: md, IDs: []int64{1}})
		assert.ErrorIs(t, err, domain.ErrForbidden, name)
		_, err = h.AddModel(ctx, commands.AddProviderModel{Tenant: sys, Meta: md, Fields: domain.ProviderModelFields{
			ProviderID: 1, ModelName: "x", ModelType: "language", IsActive: true}})
		assert.ErrorIs(t, err, domain.ErrForbidden, name)
		_, err = h.RemoveModels(ctx, commands.RemoveProviderModels{Tenant: sys, Meta: md, IDs: []int64{1}})
		assert.ErrorIs(t, err, domain.ErrForbidden, name)
	}
	now, err := store.Head(context.Background())
	require.NoError(t, err)
	assert.Equal(t, head, now, "the refused writes appended nothing")

	caller := auth.WithPrincipal(context.Background(), auth.Principal{UserID: 2})
	_, err = h.AddProvider(caller, commands.AddModelProvider{Tenant: uuid.New(), Meta: md, Fields: f})
	assert.NoError(t, err, "a tenant's own catalogue is not the built-in one")
}

// A secret config's value is sealed before any event: the in-memory log
// holds it only sealed, and the handler refuses a secret with no key.
func TestConfigsHandler_InMemorySealsSecrets(t *testing.T) {
	t.Parallel()
	repo, store := newMemRepo(t, domain.ConfigEvents())
	ring := testRing(t, 7)
	h := &commands.ConfigsHandler{Repo: repo, IDs: &counter{}, Secrets: ring}
	ctx := context.Background()
	tenant := tenancy.SystemTenantID
	const clear = "sk-in-memory-0042"
	w, err := h.Add(ctx, commands.AddConfig{Tenant: tenant, ConfigKey: "API", ConfigName: "api", ConfigValue: clear, Secret: true})
	require.NoError(t, err)
	_, err = h.Change(ctx, commands.ChangeConfig{Tenant: tenant, ConfigID: w.ID, ConfigValue: ptr(clear + "-2")})
	require.NoError(t, err)
	all, err := store.ReadAll(ctx, eventstore.Position{}, 100)
	require.NoError(t, err)
	require.Len(t, all, 2)
	for _, e := range all {
		assert.NotContains(t, string(e.Data), clear)
		assert.Contains(t, string(e.Data), "sf1:k1:")
	}
	h.Secrets = nil
	_, err = h.Add(ctx, commands.AddConfig{Tenant: tenant, ConfigKey: "B", ConfigName: "b", ConfigValue: "v", Secret: true})
	assert.ErrorIs(t, err, domain.ErrInvalid)
}

// testRing is a key ring of one key (id k1) made of fill.
func testRing(t *testing.T, fill byte) *secrets.Ring {
	t.Helper()
	key, err := secrets.NewKey("k1", bytes.Repeat([]byte{fill}, 32))
	require.NoError(t, err)
	ring, err := secrets.NewRing(key)
	require.NoError(t, err)
	return ring
}

func ptr[T any](v T) *T { return &v }

// newMemRepo is a repository over a fresh in-memory store knowing the
// event types of schemas.
func newMemRepo(t *testing.T, schemas ...[]domain.Schema) (*commands.Repository, *memory.Store) {
	t.Helper()
	store := memory.New()
	return commands.NewRepository(store, newRegistry(t, schemas...)), store
}

// The dictionary's rules, on their own: keys unique per index, an index
// with items is not removed (409), items' order and removal.
func TestDictionaryHandler_InMemory(t *testing.T) {
	t.Parallel()
	repo, store := newMemRepo(t, domain.DictionaryEvents())
	h := &commands.DictionaryHandler{Repo: repo, IDs: &counter{}}
	ctx := context.Background()
	tenant := tenancy.SystemTenantID
	idx, err := h.AddIndex(ctx, commands.AddDictionaryIndex{Tenant: tenant, ConfigKey: "colors", ConfigName: "Colors", ConfigEnName: "Colors"})
	require.NoError(t, err)
	_, err = h.AddIndex(ctx, commands.AddDictionaryIndex{Tenant: tenant, ConfigKey: "colors", ConfigName: "Again", ConfigEnName: "Again"})
	assert.ErrorIs(t, err, domain.ErrConflict, "an index key is unique in the tenant")
	item, err := h.AddItem(ctx, commands.AddDictionaryItem{Tenant: tenant, IndexID: idx.ID, ConfigKey: "red", ConfigName: "Red",
		ConfigEnName: "Red", ConfigValue: "#f00", KeyOrder: 1})
	require.NoError(t, err)
	_, err = h.AddItem(ctx, commands.AddDictionaryItem{Tenant: tenant, IndexID: idx.ID, ConfigKey: "red", ConfigName: "Red",
		ConfigEnName: "Red", ConfigValue: "#f00", KeyOrder: 2})
	assert.ErrorIs(t, err, domain.ErrConflict, "an item key is unique in its index")
	_, err = h.RemoveIndex(ctx, commands.RemoveDictionaryIndex{Tenant: tenant, IndexID: idx.ID})
	assert.ErrorIs(t, err, domain.ErrConflict, "an index with items is not removed")
	head, err := store.Head(ctx)
	require.NoError(t, err)
	_, err = h.RemoveItem(ctx, commands.RemoveDictionaryItem{Tenant: tenant, ItemID: item.ID})
	require.NoError(t, err)
	w, err := h.RemoveIndex(ctx, commands.RemoveDictionaryIndex{Tenant: tenant, IndexID: idx.ID})
	require.NoError(t, err)
	assert.True(t, head.Less(w.Result.Last()))
	all, err := store.ReadAll(ctx, eventstore.Position{}, 100)
	require.NoError(t, err)
	assert.Len(t, all, 4, "two adds and two removals; the refused writes wrote nothing")
}
