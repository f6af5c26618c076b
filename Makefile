# Every target sets itself up: a fresh clone needs only python3 (3.11+) and make.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.synced
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.synced
UV_VERSION := 0.13.8
# The shared package lives in the Lambda layer folder; the local runtime sits at the top.
export PYTHONPATH := $(CURDIR)/layers/shared:$(CURDIR)

.PHONY: demo test lint validate serve openapi seed bench clean lock reliability

$(STAMP): requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv pip sync --quiet --python $(PY) requirements.lock
	touch $(STAMP)

$(CHECKOV_STAMP): requirements-checkov.lock $(STAMP)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(VENV)/bin/uv pip sync --quiet --python $(CHECKOV_VENV)/bin/python requirements-checkov.lock
	touch $(CHECKOV_STAMP)

demo: $(STAMP)  ## three sample orders through the real ASL on the local runtime
	$(PY) -m local_runtime.demo

serve: $(STAMP)  ## the order API on http://127.0.0.1:3000, sample catalog stocked (Ctrl-C stops it)
	$(PY) -m local_runtime.http_server

openapi: $(STAMP)  ## regenerate openapi.json from the API's routes and models
	$(PY) -m order_saga.entrypoints.openapi openapi.json

seed: $(STAMP)  ## stock the sample catalog into a deployed stack: make seed STACK=order-saga-dev
	$(PY) -m local_runtime.seed --stack "$(STACK)"

test: validate  ## the template checks, then the whole suite (cfn-lint runs inside it too)
	$(PY) -m pytest -n 2 -q

reliability: $(STAMP)  ## 200 orders at once for 50 units, 500 orders under random faults, re-drive; the invariants
	$(PY) -m local_runtime.reliability

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

validate: $(STAMP) $(CHECKOV_STAMP)  ## what CloudFormation, SAM and checkov think of the template
	$(VENV)/bin/cfn-lint template.yaml
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 $(VENV)/bin/sam validate --lint
	@# checkov on the SAM template and on the CloudFormation SAM makes of it (roles included);
	@# every suppression is in template.yaml's Metadata with its reason. No network: --skip-download.
	$(PY) -m ops.cloudformation template.yaml .aws-sam/checkov/template.json
	$(CHECKOV_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation \
		-f template.yaml -f .aws-sam/checkov/template.json

lock:  ## re-pin requirements.lock after editing pyproject.toml
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --universal \
		--python-version 3.11 --generate-hashes -q -o requirements.lock
	$(VENV)/bin/uv pip compile pyproject.toml --extra checkov --universal \
		--python-version 3.11 --generate-hashes -q -o requirements-checkov.lock

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .pytest_cache .aws-sam
