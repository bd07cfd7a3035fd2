package postgres_test

import (
	"testing"

	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/postgres"
	"github.com/skillflaw/skillflaw-go/eventstore/storetest"
	"github.com/skillflaw/skillflaw-go/internal/testkit"
)

func TestStore_Conformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		s := postgres.New(testkit.NewDatabase(t), postgres.Options{})
		t.Cleanup(s.Close)
		return s
	})
}
