package kurrentdb_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/skillflaw/skillflaw-go/eventstore"
	"github.com/skillflaw/skillflaw-go/eventstore/kurrentdb"
	"github.com/skillflaw/skillflaw-go/eventstore/storetest"
)

// EnvURL names the KurrentDB server of the conformance test, for example
// kurrentdb://localhost:2113?tls=false (make test-kurrentdb).
const EnvURL = "SKILLFLAW_KURRENTDB_URL"

// TestStore_Conformance runs the port's suite against a real server. Each
// test gets a fresh stream prefix, so the server may be shared and
// non-empty: a prefixed store sees only its own streams.
func TestStore_Conformance(t *testing.T) {
	url := os.Getenv(EnvURL)
	if url == "" {
		t.Skipf("%s is not set: the KurrentDB conformance test needs a server (KurrentDB 25.1 or later), e.g. %s=kurrentdb://localhost:2113?tls=false", EnvURL, EnvURL)
	}
	storetest.RunWith(t, func(t *testing.T) eventstore.Store {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		prefix := "sftest-" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12] + "-"
		s, err := kurrentdb.Open(ctx, url, kurrentdb.Options{StreamPrefix: prefix})
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		return s
	}, storetest.Options{NoCrossStreamDuplicateIDs: true})
}
