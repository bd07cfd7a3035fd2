package testkit

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", for goose

	"github.com/skillflaw/skillflaw-go/migrations"
)

// EnvDatabaseURL names the variable that points tests at a PostgreSQL
// server on which they may create and drop databases. `make test` sets it
// to a throwaway cluster.
const EnvDatabaseURL = "SKILLFLAW_TEST_DATABASE_URL"

// template is the migrated database each test database is copied from; it
// is made once per test binary (copying is ~20x faster than migrating).
var template struct {
	once sync.Once
	name string
	err  error
}

// spares are test databases copied from the template ahead of their
// tests, while the tests before them run: a test takes one ready (a copy
// costs PostgreSQL ~0.15 s, a fifth of a short system test's time) and the
// next copy starts. The spares still unused when the test binary exits
// stay on the server, as the template does; `make test`'s throwaway
// cluster takes them with it.
var spares = &spareDBs{}

type spareDBs struct {
	start sync.Once
	ready chan spareDB
}

type spareDB struct {
	name string
	err  error
}

// spareAhead is how many copies are made ahead.
const spareAhead = 2

// take returns a fresh copy of tmpl, made ahead when one is ready, and
// starts the next copies.
func (s *spareDBs) take(ctx context.Context, admin, tmpl string) (string, error) {
	s.start.Do(func() {
		s.ready = make(chan spareDB, spareAhead)
		for range spareAhead {
			go s.make(admin, tmpl)
		}
	})
	select {
	case db := <-s.ready:
		go s.make(admin, tmpl)
		return db.name, db.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// make copies tmpl into a new database and hands it (or the failure) to
// the next take.
func (s *spareDBs) make(admin, tmpl string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := "sf_test_" + randomSuffix()
	conn, err := pgx.Connect(ctx, admin)
	if err == nil {
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tmpl))
	}
	s.ready <- spareDB{name: name, err: err}
}

// DatabaseURL creates a fresh database with every migration applied and
// returns its URL; the database is dropped when the test ends.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	admin := adminURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	template.once.Do(func() { template.name, template.err = makeTemplate(ctx, admin) })
	if template.err != nil {
		t.Fatalf("test database template: %v", template.err)
	}
	name, err := spares.take(ctx, admin, template.name)
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop test database: %v", err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name)); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	return withDatabase(admin, name)
}

// NewDatabase is DatabaseURL plus a pool on it, closed when the test ends.
func NewDatabase(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), DatabaseURL(t))
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func adminURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvDatabaseURL)
	if u == "" {
		t.Fatalf("%s is not set: run the tests with `make test`, which starts a throwaway PostgreSQL, "+
			"or point it at a server where the tests may create databases", EnvDatabaseURL)
	}
	return u
}

func makeTemplate(ctx context.Context, admin string) (string, error) {
	name := "sf_template_" + randomSuffix()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", fmt.Errorf("connect %s: %w", EnvDatabaseURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	db, err := sql.Open("pgx", withDatabase(admin, name))
	if err != nil {
		return "", err
	}
	_, err = migrations.Up(ctx, db)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return name, err
}

func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	u.Path = "/" + name
	return u.String()
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}
