# Switchboard — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)

.PHONY: setup run test bench bench-ingest bench-senders bench-campaign bench-flows bench-inbox bench-notifications bench-webhooks bench-replay bench-rebuild contracts rebuild-projections k8s clean

# Installs uv (from PyPI, into .tools/) when it is missing, then the locked workspace.
setup:
	@if [ ! -x "$(UV)" ] && ! command -v uv >/dev/null 2>&1; then \
		echo "installing uv into .tools/"; \
		$(PYTHON) -m venv .tools/venv && .tools/venv/bin/pip install -q uv && \
		mkdir -p .tools/bin && ln -sf ../venv/bin/uv .tools/bin/uv; \
	fi
	@$(UV) sync --frozen --all-packages -q

run: setup
	@$(UV) run --frozen python -m switchboard_devkit run

test: setup
	@$(UV) run --frozen pytest

bench: setup
	@$(UV) run --frozen python -m bench.pipeline

bench-ingest: setup
	@$(UV) run --frozen python -m bench.ingest

bench-senders: setup
	@$(UV) run --frozen python -m bench.senders

bench-campaign: setup
	@$(UV) run --frozen python -m bench.campaign

bench-flows: setup
	@$(UV) run --frozen python -m bench.flows

bench-inbox: setup
	@$(UV) run --frozen python -m bench.inbox

bench-notifications: setup
	@$(UV) run --frozen python -m bench.notifications

bench-webhooks: setup
	@$(UV) run --frozen python -m bench.webhooks

bench-rebuild: setup
	@$(UV) run --frozen python -m bench.rebuild

bench-replay: setup
	@$(UV) run --frozen python -m bench.replay

contracts: setup
	@$(UV) run --frozen python -m switchboard_runtime.contract_docs docs/contracts
	@$(UV) run --frozen faststream docs gen switchboard_runtime.contract_docs:asyncapi_app --out docs/contracts/asyncapi.json >/dev/null
	@echo "wrote docs/contracts/"

rebuild-projections: setup
	@$(UV) run --frozen python -m switchboard_gateway.cli rebuild-projections
	@$(UV) run --frozen python -m switchboard_conversations.rebuild

k8s: setup
	@$(UV) run --frozen kubectl kustomize deploy/k8s

clean:
	rm -rf .data
