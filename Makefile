# Every target sets itself up: a fresh clone needs only python3 (3.11+) and make.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.synced
# The console's browser packages (npm ci from console/package-lock.json) and the browser
# its tests drive: Debian's chromium, never one a test tool downloads.
CONSOLE_STAMP := console/node_modules/.installed
CHROMIUM ?= chromium
# The second ASL interpreter the end-to-end tests check moto's against (npm ci from
# tests/asl_interpreter/package-lock.json).
INTERPRETER_STAMP := tests/asl_interpreter/node_modules/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.synced
UV_VERSION := 0.13.8
# The shared package lives in the Lambda layer folder; the local runtime sits at the top.
export PYTHONPATH := $(CURDIR)/layers/shared:$(CURDIR)

.PHONY: demo test lint validate build serve openapi seed bench clean lock diagram browser reliability

$(STAMP): requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv pip sync --quiet --python $(PY) requirements.lock
	touch $(STAMP)

$(CHECKOV_STAMP): requirements-checkov.lock $(STAMP)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(VENV)/bin/uv pip sync --quiet --python $(CHECKOV_VENV)/bin/python requirements-checkov.lock
	touch $(CHECKOV_STAMP)


$(CONSOLE_STAMP): console/package-lock.json
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm >/dev/null; }
	cd console && npm ci --no-audit --no-fund --loglevel=error >/dev/null
	touch $(CONSOLE_STAMP)

$(INTERPRETER_STAMP): tests/asl_interpreter/package-lock.json
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm >/dev/null; }
	cd tests/asl_interpreter && npm ci --no-audit --no-fund --loglevel=error >/dev/null
	touch $(INTERPRETER_STAMP)

browser:  ## Debian's Chromium for the console's browser tests, when it is missing
	@command -v $(CHROMIUM) >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

demo: $(STAMP)  ## four sample orders through the real ASL on the local runtime
	$(PY) -m local_runtime demo

serve: $(STAMP) $(CONSOLE_STAMP)  ## the order API and its console on http://127.0.0.1:3000 (Ctrl-C stops it)
	$(PY) -m local_runtime serve

openapi: $(STAMP)  ## regenerate openapi.json from the API's routes and models
	$(PY) -m order_saga.entrypoints.openapi openapi.json

diagram: $(STAMP)  ## docs/state-machine.mmd and the README's diagram, drawn from the ASL
	$(PY) -m local_runtime diagram

seed: $(STAMP)  ## stock the sample catalog into a deployed stack: make seed STACK=order-saga-dev
	$(PY) -m local_runtime seed --stack "$(STACK)"

test: validate browser $(CONSOLE_STAMP) $(INTERPRETER_STAMP)  ## the template checks, then the whole suite (cfn-lint runs inside it too)
	$(PY) -m pytest -n 2 -q

reliability: $(STAMP)  ## 200 orders at once for 50 units, 500 orders under random faults, re-drive; the invariants
	$(PY) -m local_runtime reliability

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

BENCH ?=  # flags for bench, e.g. BENCH="--orders 400 --concurrency 32" or BENCH=--quick
bench: $(STAMP)  ## cost per order, cold starts, throughput, reservation cost against history, a flash sale, event store growth (bench/)
	$(PY) -m bench $(BENCH)

validate: $(STAMP) $(CHECKOV_STAMP)  ## what CloudFormation, SAM and checkov think of the template
	@# cfn-lint with the serverless rules (cfn-lint-serverless) as well as its own; any rule
	@# ignored is in template.yaml's Metadata (cfn-lint: config: ignore_checks) with its reason.
	$(VENV)/bin/cfn-lint --append-rules cfn_lint_serverless.rules -- template.yaml
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 $(VENV)/bin/sam validate --lint
	@# checkov on the SAM template and on the CloudFormation SAM makes of it (roles included);
	@# every suppression is in template.yaml's Metadata with its reason. No network: --skip-download.
	$(PY) -m ops.cloudformation template.yaml .aws-sam/checkov/template.json
	$(CHECKOV_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation \
		-f template.yaml -f .aws-sam/checkov/template.json

lock:  ## re-pin requirements.lock after editing pyproject.toml (and the layer's pins from it)
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --universal \
		--python-version 3.11 --generate-hashes -q -o requirements.lock
	$(VENV)/bin/uv pip compile pyproject.toml --extra checkov --universal \
		--python-version 3.11 --generate-hashes -q -o requirements-checkov.lock
	$(VENV)/bin/uv pip sync --quiet --python $(PY) requirements.lock && touch $(STAMP)
	$(PY) -m ops.layer_requirements > layers/shared/requirements.txt

# sam build builds with the Lambda runtime's own Python (python3.13 on PATH): ops.lambda_python
# finds one (PATH, pyenv, uv) or names the one install step that is missing.
build: $(STAMP)  ## sam build, for the Lambda runtime (python3.13, arm64), into .aws-sam/build
	@LAMBDA_PYTHON=$$($(PY) -m ops.lambda_python) && \
		echo "sam build with $$LAMBDA_PYTHON" && \
		PATH="$$(dirname $$LAMBDA_PYTHON):$$PATH" SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 \
		$(VENV)/bin/sam build

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .pytest_cache .aws-sam console/node_modules \
		tests/asl_interpreter/node_modules test-artifacts
