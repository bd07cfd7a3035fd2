# SkillFlaw-Go. `make run` serves on :7860 (starting a local PostgreSQL if
# SKILLFLAW_DATABASE_URL is not set); `make test` runs every test against a
# throwaway PostgreSQL; `make bench` prints the benchmark table.
SHELL := /bin/bash
export GOTOOLCHAIN := local

BIN := bin/skillflaw
GO_TEST_FLAGS ?= -race -count=1 -timeout 15m

.PHONY: build run stop test vet bench migrate clean

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

bench:
	scripts/with-pg durable scripts/bench

clean:
	rm -rf bin
