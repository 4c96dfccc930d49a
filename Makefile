# Corral — see README.md. Every target works on a fresh machine with Go
# (and, for tests, redis-server and chromium: .ci/run installs them).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
GO      ?= go
PKGS    := ./...

.PHONY: run demo build cross generate test test-stress check-fmt vet check-generate bench load clean

run: ## run Corral on :8080 (data in ./data)
	$(GO) run -ldflags "$(LDFLAGS)" . serve

demo: ## run Corral against a simulated Proxmox cluster
	$(GO) run -ldflags "$(LDFLAGS)" . demo

build: ## build ./corral for this machine
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o corral .

cross: ## static builds for amd64, arm64 and 32-bit ARM (Raspberry Pi)
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o dist/corral-linux-amd64 .
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o dist/corral-linux-arm64 .
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=7 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o dist/corral-linux-armv7 .

generate: ## regenerate templ output
	$(GO) tool templ generate

check-fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go') | grep -v '_templ.go$$'); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

# templ output must match its sources: regenerate into the tree and fail on any difference.
check-generate:
	$(GO) tool templ generate >/dev/null
	@if [ -n "$$(git status --porcelain -- '*_templ.go')" ]; then \
		echo "generated templ files are out of date (run make generate and commit):"; \
		git status --porcelain -- '*_templ.go'; exit 1; fi

test: check-fmt vet check-generate ## the full test suite (as CI runs it)
	$(GO) test -race -count=1 -timeout 30m $(PKGS)
	$(MAKE) --no-print-directory cross

# The timing-sensitive tests, repeated: every browser test (with htmx's settle
# window widened, so a click that does not wait for htmx fails at once) and
# every SSH gateway test. Slow, so CI does not run it; run it after changing
# a page, the browser harness or the gateway.
STRESS_COUNT  ?= 5
STRESS_SETTLE ?= 300ms
test-stress: ## repeat the browser and gateway tests 5 times (not part of CI)
	CORRAL_BROWSER_SETTLE_DELAY=$(STRESS_SETTLE) $(GO) test -race -count=$(STRESS_COUNT) -timeout 60m \
		-run 'Browser|Htmx|Gateway' ./handlers/... ./exec/ .

bench: ## size, memory and start-up measurements, plus Go benchmarks
	$(GO) test -run '^$$' -bench . -skip BenchmarkLoad -benchmem -timeout 20m $(PKGS)

# Both load benchmarks (BenchmarkLoad*) start corral serve and the Proxmox
# simulator as processes of their own, so make bench skips them.
load: ## bounded load runs on loopback (about a minute): throughput, p50/p99, RSS and CPU per process, SSH gateway on its own CPU
	$(GO) test -run '^$$' -bench BenchmarkLoad -benchtime 1x -timeout 10m .

clean:
	rm -rf dist corral testout
