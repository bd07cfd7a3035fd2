package memory_test

import (
	"testing"

	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/memory"
	"github.com/skillflaw/skillflaw-go/eventstore/storetest"
)

func TestStore_Conformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) eventstore.Store { return memory.New() })
}
