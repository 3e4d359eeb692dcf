# birjob — two commands for a newcomer: `make run` and `make test`.
GO      ?= go
BIN     := bin/birjob
PKGS    := ./...

.DEFAULT_GOAL := help

.PHONY: help run build test test-short test-fault lint bench capacity fmt clean axe screenshots

help: ## show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

build: ## build bin/birjob
	$(GO) build -o $(BIN) ./cmd/birjob

# The binary is run directly (not through `go run`) so Ctrl-C reaches it
# and it can stop its embedded PostgreSQL in order.
run: build ## run everything on :8080 (embedded PostgreSQL and demo board unless configured)
	./$(BIN)

test: axe ## run all tests with the race detector (real PostgreSQL: DATABASE_URL, else a throwaway cluster; real Chromium, axe-core)
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -p 2 -timeout 20m $(PKGS)

# -short skips every test that needs PostgreSQL or Chromium (pgtest.New and
# browsertest.New skip under it): the parsers, the query language, the
# matcher's index and fan-out plan, the frames, the layout rule. Seconds.
test-short: ## the tests that need neither PostgreSQL nor Chromium
	$(GO) test -short -count=1 -timeout 10m $(PKGS)

# The fault tests build bin/birjob into a temporary folder, run it as
# separate processes against PostgreSQL clusters of their own (never
# DATABASE_URL's: they stop and kill the server) and need BIRJOB_FAULT=1,
# so make test compiles them and skips them. The test process runs with
# the race detector, the birjob binaries without. One to three minutes.
test-fault: ## fault tests: PostgreSQL stopped, LISTEN killed, nodes killed and restarted under 1,000 clients
	BIRJOB_FAULT=1 $(GO) test -race -count=1 -v -run '^TestFault_' -timeout 10m ./internal/faulttest/

lint: ## gofmt, go vet, staticcheck (pinned as a tool in go.mod)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')

bench: ## benchmarks and load runs (long: about 45 min; results go in BENCHMARKS.md)
	$(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./matcher/... ./scraper/... ./notify/...
	$(GO) run ./cmd/birjob-alertgen -alerts 1000000 -jobs 20000
	$(GO) build -o bin/birjob-load ./cmd/birjob-load
	bin/birjob-load -transport sse  -clients 10000 -rate 1 -duration 30s -repeat 2
	bin/birjob-load -transport ws   -clients 10000 -rate 1 -duration 30s -repeat 2
	bin/birjob-load -transport poll -clients 10000 -rate 1 -duration 30s -repeat 2
	bin/birjob-load -transport poll -clients 10000 -rate 4 -duration 20s -repeat 2
	bin/birjob-load -transport sse  -clients 10000 -rate 1 -duration 30s -repeat 2 -channel me
	bin/birjob-load -transport ws   -clients 10000 -rate 1 -duration 30s -repeat 2 -channel me
	bin/birjob-load -transport sse  -clients 10000 -rate 1 -duration 30s -repeat 2 -channels jobs,me
	bin/birjob-load -transport ws   -clients 10000 -rate 1 -duration 30s -repeat 2 -channels jobs,me

# The capacity model of the README (operations, Capacity): the real binary as
# nodes on scratch databases of the local PostgreSQL (DATABASE_URL, else
# postgres://postgres@127.0.0.1:5432/postgres), loopback only. About 20 min.
capacity: build ## capacity figures: event log appends, unwanted events on 3 nodes, idle streams, start-up with 1M alerts (~20 min)
	$(GO) build -o bin/birjob-capacity ./cmd/birjob-capacity
	bin/birjob-capacity append   -writers 1,4,16 -batch 1,100 -duration 15s -repeat 2
	bin/birjob-capacity unwanted -nodes 3 -rates 1000,2000,4000 -window 20s -repeat 2
	bin/birjob-capacity idle     -clients 100000 -step 5000 -hold 30s
	bin/birjob-capacity startup  -alerts 1000000 -repeat 2

# axe-core, pinned in internal/browsertest/axe/package-lock.json, for the
# browser tests' accessibility checks; installed once (npm ci reads the
# lock file only, and uses npm's cache when it has the package).
AXE := internal/browsertest/axe/node_modules/axe-core/axe.min.js
axe: $(AXE) ## install axe-core for the browser tests (npm ci, when missing)
$(AXE): internal/browsertest/axe/package-lock.json
	cd internal/browsertest/axe && npm ci --no-audit --no-fund --prefer-offline
	@touch $@

screenshots: axe ## write docs/screenshots/*.png from the browser tests (desktop light and dark, phone)
	BIRJOB_SCREENSHOTS=1 $(GO) test -count=1 -run '^TestBrowser_Screenshots$$' -timeout 10m ./cmd/birjob

clean: ## remove build output (not the data folder)
	rm -rf bin
