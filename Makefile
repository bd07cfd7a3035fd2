# SkillFlaw-Go. `make run` serves on :7860 (starting a local PostgreSQL if
# SKILLFLAW_DATABASE_URL is not set); `make test` runs every test against a
# throwaway PostgreSQL; `make bench` prints the benchmark table.
SHELL := /bin/bash
export GOTOOLCHAIN := local

BIN := bin/skillflaw
GO_TEST_FLAGS ?= -race -count=1 -timeout 15m

.PHONY: build run stop test test-kurrentdb vet bench migrate clean

build:
	go build -o $(BIN) ./cmd/skillflaw

run: build
	@scripts/run

stop:
	@scripts/pg stop .data/pg && echo "PostgreSQL in .data/pg stopped"

migrate: build
	$(BIN) migrate

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	go vet ./...
	@go mod tidy -diff >/dev/null || { echo "go.mod/go.sum are not tidy: run go mod tidy"; go mod tidy -diff; exit 1; }

test: vet
	scripts/with-pg fast go test $(GO_TEST_FLAGS) ./...

# The KurrentDB adapter's conformance suite against a real server (25.1 or
# later; it may be shared: every test writes under a fresh stream prefix).
# For example: docker compose --profile kurrentdb up -d kurrentdb, then
#   make test-kurrentdb SKILLFLAW_KURRENTDB_URL='kurrentdb://localhost:2113?tls=false'
test-kurrentdb:
	@if [ -z "$$SKILLFLAW_KURRENTDB_URL" ]; then \
	  echo "test-kurrentdb: set SKILLFLAW_KURRENTDB_URL to a KurrentDB 25.1+ server, e.g. SKILLFLAW_KURRENTDB_URL='kurrentdb://localhost:2113?tls=false'" >&2; \
	  exit 1; \
	fi
	SKILLFLAW_KURRENTDB_URL="$$SKILLFLAW_KURRENTDB_URL" go test -race -count=1 ./eventstore/kurrentdb/...

bench:
	scripts/with-pg durable scripts/bench

clean:
	rm -rf bin
