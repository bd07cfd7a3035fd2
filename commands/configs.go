package commands

import (
	"context"

	"github.com/google/uuid"

	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/secrets"
)

// The use cases of the configs (#108–#110): each is a command value and
// one method of ConfigsHandler that decides on the tenant's Configs
// aggregate and appends, with no HTTP in sight (ports.Configs binds,
// resolves the tenant, calls and answers). A secret config's value is
// sealed here, with Secrets, before it reaches the aggregate or an event
// (additional data: tenant and config_key, ConfigAAD); without Secrets a
// secret config is refused.

// MsgConfigSecretsUnset answers a secret config written while no key is
// configured.
const MsgConfigSecretsUnset = "Secret configs need an encryption key: set SKILLFLAW_SECRETS_KEY_FILE or SKILLFLAW_SECRET_KEY"

// AddConfig adds a config to a tenant.
type AddConfig struct {
	Tenant                             uuid.UUID
	Meta                               eventstore.Metadata
	ConfigKey, ConfigName, ConfigValue string
	Note                               *string // nil: ""
	Secret                             bool
}

// ChangeConfig changes a config's name, value and note (nil: as it is).
// A secret config's value sent back as the mask stays as it is.
type ChangeConfig struct {
	Tenant                        uuid.UUID
	Meta                          eventstore.Metadata
	ConfigID                      int64
	ConfigName, ConfigValue, Note *string
}

// RemoveConfig removes a config.
type RemoveConfig struct {
	Tenant   uuid.UUID
	Meta     eventstore.Metadata
	ConfigID int64
}

// ConfigWritten is what a config command did.
type ConfigWritten struct {
	ID     int64
	Result eventstore.AppendResult
}

// ConfigAAD is the additional data a secret config's value is sealed
// with: a sealed value moved to another tenant or key does not open.
func ConfigAAD(tenant uuid.UUID, key string) []byte {
	return []byte("config:" + tenant.String() + ":" + key)
}

// ConfigsHandler handles the configs' commands.
type ConfigsHandler struct {
	Repo *Repository
	IDs  IDs
	// Secrets seals secret values (nil: secret configs are refused).
	Secrets *secrets.Ring
}

func (h *ConfigsHandler) decide(ctx context.Context, tenant uuid.UUID, md eventstore.Metadata, fn func(*domain.Configs) error) (eventstore.AppendResult, error) {
	return decideIn(ctx, h.Repo, tenant, domain.LoadConfigs, md, fn)
}

func (h *ConfigsHandler) seal(tenant uuid.UUID, key, value string) (string, error) {
	if h.Secrets == nil {
		return "", domain.Invalidf(MsgConfigSecretsUnset)
	}
	return h.Secrets.Seal([]byte(value), ConfigAAD(tenant, key))
}

// Add handles AddConfig: the key must be free in the tenant (409).
func (h *ConfigsHandler) Add(ctx context.Context, cmd AddConfig) (ConfigWritten, error) {
	spec := domain.ConfigSpec{ConfigKey: cmd.ConfigKey, ConfigName: cmd.ConfigName, ConfigValue: cmd.ConfigValue,
		Note: noteOrEmpty(cmd.Note), Secret: cmd.Secret}
	// Validate (and seal) before an id is allocated: bad input costs nothing.
	if err := spec.Valid(); err != nil {
		return ConfigWritten{}, err
	}
	if err := domain.ValidConfigValue(cmd.ConfigValue); err != nil {
		return ConfigWritten{}, err
	}
	if cmd.Secret {
		if secrets.IsMask(cmd.ConfigValue) {
			return ConfigWritten{}, domain.Invalidf("config_value must not be the mask %q", domain.SecretMask)
		}
		sealed, err := h.seal(cmd.Tenant, cmd.ConfigKey, cmd.ConfigValue)
		if err != nil {
			return ConfigWritten{}, err
		}
		spec.ConfigValue = sealed
	}
	id, err := h.IDs.Next(ctx, "config")
	if err != nil {
		return ConfigWritten{}, err
	}
	res, err := h.decide(ctx, cmd.Tenant, cmd.Meta, func(c *domain.Configs) error { return c.Add(id, spec) })
	return ConfigWritten{ID: id, Result: res}, err
}

// Change handles ChangeConfig.
func (h *ConfigsHandler) Change(ctx context.Context, cmd ChangeConfig) (ConfigWritten, error) {
	if cmd.ConfigValue != nil {
		if err := domain.ValidConfigValue(*cmd.ConfigValue); err != nil {
			return ConfigWritten{}, err
		}
	}
	var sealedFor string // the key the value was sealed for
	var sealed *string
	res, err := h.decide(ctx, cmd.Tenant, cmd.Meta, func(c *domain.Configs) error {
		cur, ok := c.Config(cmd.ConfigID)
		if !ok {
			return domain.NotFoundf(domain.MsgConfigNotFound)
		}
		ch := domain.ConfigChange{ConfigName: cmd.ConfigName, ConfigValue: cmd.ConfigValue, Note: cmd.Note}
		if cur.Secret && cmd.ConfigValue != nil {
			switch {
			case secrets.IsMask(*cmd.ConfigValue):
				ch.ConfigValue = nil // the mask sent back: keep the secret
			case sealed != nil && sealedFor == cur.ConfigKey:
				ch.ConfigValue = sealed
			default:
				v, err := h.seal(cmd.Tenant, cur.ConfigKey, *cmd.ConfigValue)
				if err != nil {
					return err
				}
				sealed, sealedFor = &v, cur.ConfigKey
				ch.ConfigValue = sealed
			}
		}
		return c.Change(cmd.ConfigID, ch)
	})
	return ConfigWritten{ID: cmd.ConfigID, Result: res}, err
}

// Remove handles RemoveConfig.
func (h *ConfigsHandler) Remove(ctx context.Context, cmd RemoveConfig) (ConfigWritten, error) {
	res, err := h.decide(ctx, cmd.Tenant, cmd.Meta, func(c *domain.Configs) error { return c.Remove(cmd.ConfigID) })
	return ConfigWritten{ID: cmd.ConfigID, Result: res}, err
}

// LoadConfigsAggregate folds the configs of tenant (an empty aggregate
// when the tenant has none yet).
func LoadConfigsAggregate(ctx context.Context, repo *Repository, tenant uuid.UUID) (*domain.Configs, error) {
	return loadOrNew(ctx, repo, func() *domain.Configs { return domain.LoadConfigs(tenant) })
}
