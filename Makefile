# Tenancy — every install step lives here; `make test` works on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
LAMBDA_PYTHON := 3.13
# The runtime's own interpreter (PATH, then pyenv), to ship the layer as bytecode: Lambda's /opt is
# read-only, so a layer without it is compiled again on every cold start (about 300 ms here).
LAMBDA_PYTHON_BIN ?= $(shell for p in $$(command -v python$(LAMBDA_PYTHON)) $(HOME)/.pyenv/versions/$(LAMBDA_PYTHON).*/bin/python$(LAMBDA_PYTHON); do "$$p" -c '' 2>/dev/null && { echo "$$p"; break; }; done)
LAYER_DIR := .build/layer
# The engine layer (topology Layer.ENGINE): DuckDB, attached only to the functions that read or write Parquet.
ENGINE_LAYER_DIR := .build/engine-layer
BENCH_ENV := .build/bench
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

export AWS_ACCOUNT_ID_ENDPOINT_MODE := disabled
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_RUNTIME_PACKAGE_CACHE_ROOT := $(CURDIR)/.jsii-cache
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: FORCE help install build test test-unit test-integration test-infra lint format typecheck synth deploy dev invoke token openapi bench bench-env clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(NODE_STAMP): package.json
	npm install --no-audit --no-fund --silent
	touch $@

install: $(STAMP) $(NODE_STAMP) ## create .venv and node_modules (CDK CLI)

# The shared layer, built without Docker: manylinux wheels for the Lambda runtime, plus the tenancy package.
.build/layer-requirements.txt: pyproject.toml $(STAMP)
	mkdir -p .build
	$(BIN)/python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml","rb"))["project"]["dependencies"]))' > $@

# Which interpreter compiles the layer (empty: none found); rewritten only when that changes, so
# installing python$(LAMBDA_PYTHON) later rebuilds the layer with bytecode.
.build/layer-interpreter: FORCE
	@mkdir -p .build && echo "$(LAMBDA_PYTHON_BIN)" | cmp -s - $@ || echo "$(LAMBDA_PYTHON_BIN)" > $@

$(LAYER_DIR)/.built: .build/layer-requirements.txt .build/layer-interpreter $(shell find layers/shared/python -name '*.py' 2>/dev/null)
	rm -rf $(LAYER_DIR) && mkdir -p $(LAYER_DIR)/python
	$(BIN)/pip install --quiet --platform manylinux2014_x86_64 --implementation cp \
		--python-version $(LAMBDA_PYTHON) --only-binary=:all: \
		-r .build/layer-requirements.txt -t $(LAYER_DIR)/python
	rm -rf $(LAYER_DIR)/python/boto3* $(LAYER_DIR)/python/botocore* $(LAYER_DIR)/python/s3transfer* $(LAYER_DIR)/python/bin
	cp -r layers/shared/python/tenancy $(LAYER_DIR)/python/
	find $(LAYER_DIR) -name '__pycache__' -type d -prune -exec rm -rf {} +
	@if [ -n "$(LAMBDA_PYTHON_BIN)" ]; then \
		echo "compiling the layer with $(LAMBDA_PYTHON_BIN) (unchecked-hash bytecode: valid whatever the file times)"; \
		$(LAMBDA_PYTHON_BIN) -m compileall -q -j 0 --invalidation-mode unchecked-hash \
			-s $(LAYER_DIR)/python -p /opt/python $(LAYER_DIR)/python; \
	else \
		echo "warning: no python$(LAMBDA_PYTHON) found; the layer ships without bytecode, so every cold start compiles it" >&2; \
	fi
	touch $@

# The engine layer: pyproject's optional-dependencies `engine` (DuckDB), manylinux wheels for the
# Lambda runtime, compiled to bytecode like the shared layer. Its own layer, so no other function's
# cold start carries it.
.build/engine-requirements.txt: pyproject.toml $(STAMP)
	mkdir -p .build
	$(BIN)/python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml","rb"))["project"]["optional-dependencies"]["engine"]))' > $@

$(ENGINE_LAYER_DIR)/.built: .build/engine-requirements.txt .build/layer-interpreter
	rm -rf $(ENGINE_LAYER_DIR) && mkdir -p $(ENGINE_LAYER_DIR)/python
	$(BIN)/pip install --quiet --platform manylinux2014_x86_64 --implementation cp \
		--python-version $(LAMBDA_PYTHON) --only-binary=:all: --no-deps \
		-r .build/engine-requirements.txt -t $(ENGINE_LAYER_DIR)/python
	rm -rf $(ENGINE_LAYER_DIR)/python/bin
	find $(ENGINE_LAYER_DIR) -name '__pycache__' -type d -prune -exec rm -rf {} +
	@if [ -n "$(LAMBDA_PYTHON_BIN)" ]; then \
		echo "compiling the engine layer with $(LAMBDA_PYTHON_BIN)"; \
		$(LAMBDA_PYTHON_BIN) -m compileall -q -j 0 --invalidation-mode unchecked-hash \
			-s $(ENGINE_LAYER_DIR)/python -p /opt/python $(ENGINE_LAYER_DIR)/python; \
	else \
		echo "warning: no python$(LAMBDA_PYTHON) found; the engine layer ships without bytecode" >&2; \
	fi
	touch $@

# The silo tenant template, synthesized by the CDK app's SiloTenantStack (the local cloud ships it).
.build/silo-template.json: $(STAMP) $(wildcard cdk/tenancy_infra/stacks/*.py) cdk/tenancy_infra/topology.py
	PYTHONPATH=layers/shared/python:cdk $(BIN)/python -m tenancy_infra.silo_template $@
	touch $@

# For the cold-start bench (bench/cold.py): the runtime's boto3, as a Lambda execution environment
# holds it, and the layer's dependencies for this machine's Python, used where the runtime's own
# interpreter is missing (with it, the bench imports the built layer itself).
$(BENCH_ENV)/.built: .build/layer-requirements.txt
	rm -rf $(BENCH_ENV) && mkdir -p $(BENCH_ENV)
	$(BIN)/python -c 'import tomllib; print("\n".join(d for d in tomllib.load(open("pyproject.toml","rb"))["project"]["optional-dependencies"]["dev"] if d.startswith("boto3")))' > $(BENCH_ENV)/runtime-requirements.txt
	$(BIN)/pip install --quiet -r $(BENCH_ENV)/runtime-requirements.txt -t $(BENCH_ENV)/runtime
	$(BIN)/pip install --quiet -r .build/layer-requirements.txt -t $(BENCH_ENV)/layer
	rm -rf $(BENCH_ENV)/layer/boto3* $(BENCH_ENV)/layer/botocore* $(BENCH_ENV)/layer/s3transfer* $(BENCH_ENV)/layer/bin
	@# The runtime's boto3 as AWS ships it, compiled for the runtime's Python too (bench: layer bytecode).
	@if [ -n "$(LAMBDA_PYTHON_BIN)" ]; then $(LAMBDA_PYTHON_BIN) -m compileall -q -j 0 $(BENCH_ENV)/runtime; fi
	touch $@

bench-env: $(BENCH_ENV)/.built ## build .build/bench/: the runtime's boto3 and a layer for this machine's Python

build: $(LAYER_DIR)/.built $(ENGINE_LAYER_DIR)/.built .build/silo-template.json ## build the Lambda layers (shared, engine) and the silo template into .build/

test: install build bench-env ## run unit, integration and infrastructure tests
	$(BIN)/pytest tests -n 2 --dist loadfile -q

test-unit: $(STAMP)
	$(BIN)/pytest tests/unit -q

test-integration: $(STAMP) build bench-env
	$(BIN)/pytest tests/integration -q

test-infra: install build bench-env
	$(BIN)/pytest tests/infrastructure -q

lint: $(STAMP) ## ruff lint + format check, mypy, import contracts (docs/architecture.md)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy layers/shared/python/tenancy functions cdk localcloud bench
	PYTHONPATH=layers/shared/python:cdk:. $(BIN)/lint-imports --no-cache --no-logo

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

synth: install build ## synthesize the CDK app into cdk.out
	npx cdk synth --quiet

deploy: install build ## deploy to the AWS account in your environment (STAGE=dev by default)
	@test -n "$(LAMBDA_PYTHON_BIN)" || [ "$(ALLOW_SOURCE_LAYER)" = 1 ] || { echo "no python$(LAMBDA_PYTHON) to compile the layer: every cold start would compile it (several hundred ms). Install it, or deploy anyway with ALLOW_SOURCE_LAYER=1" >&2; exit 1; }
	npx cdk deploy --all --require-approval never -c stage=$${STAGE:-dev}

API_PORT ?= 3000
AWS_PORT ?= 4566

dev: install build ## run the whole system locally (moto server + API on :3000); Ctrl-C stops it
	$(BIN)/python -m localcloud --port $(API_PORT) --aws-port $(AWS_PORT) $(if $(VERBOSE),--verbose)

invoke: $(STAMP) ## run one handler against the running local cloud: make invoke FN=tenant_api EVENT=events/apigw-create-tenant.json
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=<function> EVENT=events/<file>.json"; exit 2; }
	@$(BIN)/python -m localcloud.invoke $(FN) $(EVENT) --port $(API_PORT) --aws-port $(AWS_PORT)

token: $(STAMP) ## print an ID token of a tenant user of the running local cloud: make token TENANT=acme USER=admin@acme.example
	@test -n "$(TENANT)" -a -n "$(USER)" || { echo "usage: make token TENANT=<slug> USER=<email>"; exit 2; }
	@$(BIN)/python -m localcloud.token $(TENANT) $(USER) --aws-port $(AWS_PORT)

openapi: $(STAMP) ## write the OpenAPI documents generated from the API handlers to .build/openapi/
	@PYTHONPATH=layers/shared/python:cdk:. $(BIN)/python -m localcloud.openapi .build/openapi

bench: install build bench-env ## measure cold start, warm latency, AWS calls, onboarding, scale, sizes, plans (quota check, cached reads, noisy neighbour), workspace (a dashboard read with 0/10/100 shares and groups), datasets (import throughput, Parquet size, preview, card execution cold/warm/cached, engine cold starts) -> bench/results.json
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.readme

clean:
	rm -rf .build cdk.out .pytest_cache .mypy_cache .ruff_cache

FORCE:
