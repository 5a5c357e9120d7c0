# The checks a contributor runs; .ci/run runs `make ci` after installing
# what they need (Go, git, staticcheck). The README's test command is
# `go test ./...`, which `make test` runs.

GO ?= go
# Fuzz targets as package:Name:executions. CI runs each for its count
# (execution counts, not -fuzztime durations: Go 1.26's coordinator can
# fail a duration run at its deadline, golang/go#75804); `make fuzz
# FUZZTIME=10m` runs each for a duration instead.
FUZZ_TARGETS = \
	detectors:FuzzScan:30000 detectors:FuzzDecode:3000 detectors:FuzzPrefilter:300 detectors:FuzzPairAWS:2000 \
	config:FuzzParse:20000 config:FuzzParseIgnores:50000 \
	finding:FuzzRedact:100000 report:FuzzRead:20000 report:FuzzEscape:50000 \
	scanner/gitsrc:FuzzParseDiffTree:20000 scanner/gitsrc:FuzzParseUpdates:20000 \
	hook:FuzzPushOptions:20000 cmd/keysweep:FuzzParseMaxBlobSize:20000 \
	aws:FuzzEchoes:20000 aws:FuzzParseRegionsAnswer:20000 aws:FuzzSanitizeText:20000 notify:FuzzNotice:20000 \
	remote:FuzzParse:20000 scanner/gitsrc:FuzzParseRevRange:20000 config:FuzzImportGitleaks:3000 config:FuzzParseGitleaksIgnores:5000 \
	report:FuzzSnippetLine:20000
FUZZTIME ?=

.PHONY: ci lint test race fuzz bench

ci: lint test race fuzz

lint:
	@echo "== gofmt"
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@echo "== go vet"
	$(GO) vet ./...
	@echo "== staticcheck"
	staticcheck ./...

test:
	@echo "== go test (the README's test command)"
	$(GO) test ./...

race:
	@echo "== go test -race"
	$(GO) test -race -count=1 ./...

fuzz:
	@echo "== fuzz"
	@set -e; for target in $(FUZZ_TARGETS); do \
		pkg=$${target%%:*}; rest=$${target#*:}; name=$${rest%%:*}; count=$${rest#*:}; \
		time=$${count}x; [ -z "$(FUZZTIME)" ] || time=$(FUZZTIME); \
		echo "-- $$pkg $$name $$time"; \
		$(GO) test "./$$pkg" -run '^$$' -fuzz "^$${name}\$$" -fuzztime "$$time"; \
	done

# Benchmarks that need nothing but this repository; the scripts under
# bench/ take a real repository (see CONTRIBUTING.md).
bench:
	$(GO) test ./detectors ./report -run '^$$' -bench . -benchtime 3x
