package ports_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"

	"github.com/skillflaw/skillflaw-go/access"
	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/httpapi"
	"github.com/skillflaw/skillflaw-go/ports"
)

// A tenant parameter needs a tenant field to resolve it into.
func TestWriteTenantParamWithoutTenant(t *testing.T) {
	type noTenant struct {
		TenantID *uuid.UUID `form:"tenant_id"`
	}
	s := httpapi.New(httpapi.Options{})
	ports.Write[noTenant, struct{}]{
		Op: httpapi.Operation{Method: http.MethodDelete, Path: "/a", Access: access.Tenant("things", "delete")},
		Handle: func(context.Context, noTenant) (struct{}, eventstore.Position, error) {
			return struct{}{}, eventstore.Position{}, nil
		},
		TenantParam: func(r noTenant) *uuid.UUID { return r.TenantID },
	}.Register(ports.Port{Server: s, Clock: time.Now})
	_, err := s.Handler()
	assert.ErrorContains(t, err, "a tenant parameter but no tenant field")
}
