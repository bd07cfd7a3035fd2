package app

import (
	"github.com/skillflaw/skillflaw-go/audit"
	"github.com/skillflaw/skillflaw-go/commands"
	"github.com/skillflaw/skillflaw-go/domain"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/ports"
	"github.com/skillflaw/skillflaw-go/projections"
	"github.com/skillflaw/skillflaw-go/readapi"
)

// Dictionary is the dictionary module: each tenant's indexes (lookup
// lists) and their ordered items (Dictionary #111–#118), one Dictionary
// aggregate per tenant, RBAC module "dictionary". Removing an index that
// still has items is refused (409), never cascaded. It reads the tenants
// table (tenancy.Resolve).
type Dictionary struct{}

var _ Module = Dictionary{}

// Register implements Module.
func (Dictionary) Register(reg *eventstore.Registry) error {
	return registerEvents(reg, domain.DictionaryEvents())
}

// Projections implements Module.
func (Dictionary) Projections() []*projections.Projection {
	return []*projections.Projection{projections.Dictionary()}
}

// Routes implements Module.
func (Dictionary) Routes(s *httpapi.Server, d Deps) {
	ports.Dictionary(ports.Port{Server: s, Pool: d.Pool, Clock: d.Clock},
		&commands.DictionaryHandler{Repo: d.Repository, IDs: commands.NewSequences(d.Pool)})
	readapi.RegisterDictionaryReads(s, d.Pool)
}

// TenantResources implements TenantResourcer.
func (Dictionary) TenantResources() []commands.TenantResource {
	return []commands.TenantResource{
		{Table: "dictionary_entries", One: "dictionary entry", Many: "dictionary entries"},
	}
}

// AuditSources implements AuditSourcer.
func (Dictionary) AuditSources() []audit.Source {
	return []audit.Source{
		auditSource("dictionary", domain.DictionaryStream, domain.LoadDictionary),
	}
}
