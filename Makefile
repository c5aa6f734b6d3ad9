# phi-gate: the two commands a new user runs are `make demo` and `make test`; both set up what they need.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Node 22: the machine's node when it is >= 22, otherwise one from the npm registry (deploy/local/node.sh).
NODE_BIN := $(shell bash deploy/local/node.sh)
export PATH := $(NODE_BIN):$(PATH)
export KAFKAJS_NO_PARTITIONER_WARNING := 1

.PHONY: help setup deps stack-fetch stack-up stack-down stack-status lint typecheck build test test-unit test-integration deploy-check demo bench soak clean

help:
	@echo "make demo    run phi-gate on the bundled local stack with the example policy and show what each destination got"
	@echo "make test    set up everything, lint, type-check, run unit + integration tests and the deploy checks"
	@echo "make stack-up | stack-down | stack-status    the local Kafka + schema registry (deploy/local/stack.sh)"
	@echo "make bench   benchmarks against the local stack (BENCHMARKS.md)"
	@echo "make soak    a long kill -9 loop of two phi-gate instances on both engines (make test runs a short one)"

setup: deps stack-fetch

# node_modules follows package-lock.json; reinstalled only when the lock changed. deps.sh also builds
# (or takes from the cache) the native Kafka engine.
deps: node_modules/.installed
node_modules/.installed: package-lock.json package.json deploy/local/deps.sh native/aead/aead.c native/aead/binding.gyp
	bash deploy/local/deps.sh
	touch $@

stack-fetch:
	bash deploy/local/stack.sh fetch

stack-up:
	bash deploy/local/stack.sh start

stack-down:
	bash deploy/local/stack.sh stop

stack-status:
	bash deploy/local/stack.sh status

lint: deps
	npx biome check .

typecheck: deps
	npx tsc -p tsconfig.json --noEmit

build: deps
	rm -rf dist && npx tsc -p tsconfig.build.json

deploy-check: deps
	@if [ -f deploy/check.sh ]; then bash deploy/check.sh; fi

test-unit: deps
	node --test "test/unit/**/*.test.ts"

test-integration: setup
	bash deploy/local/with-stack.sh node --test --test-concurrency=1 "test/integration/**/*.test.ts"

# The whole gate, as CI runs it: one test run over unit and integration tests against the real stack.
test: setup lint typecheck build deploy-check
	bash deploy/local/with-stack.sh node --test --test-concurrency=1 "test/unit/**/*.test.ts" "test/integration/**/*.test.ts"

demo: setup build
	bash deploy/local/with-stack.sh node deploy/local/demo.ts

# The kill -9 loop of make test (test/integration/faults/kill-loop.test.ts), longer: 40 kills on each
# engine, up to 8 s apart; every PHIGATE_SOAK_* variable may be overridden (PHIGATE_SOAK_SEED replays a run).
soak: setup
	PHIGATE_SOAK_KILLS=$${PHIGATE_SOAK_KILLS:-40} PHIGATE_SOAK_ENGINES=$${PHIGATE_SOAK_ENGINES:-librdkafka,kafkajs} \
	  PHIGATE_SOAK_MAX_GAP_MS=$${PHIGATE_SOAK_MAX_GAP_MS:-8000} \
	  bash deploy/local/with-stack.sh node --test --test-concurrency=1 test/integration/faults/kill-loop.test.ts

bench: setup build
	bash deploy/local/with-stack.sh npm run bench

clean:
	rm -rf dist
