# The two commands of the README: `make run` (the service on 127.0.0.1) and `make test`.
# Each installs what it needs on a fresh machine: a virtualenv with the pinned packages.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# jsii reads the silenced Node major versions as a comma list, not a flag.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: run test synth deploy smoke first-admin bench clean screenshots axe-counts

# The web client's two libraries, as package-lock.json pins them (no install scripts run).
node_modules/installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --silent
	touch $@

# The browser tests drive Debian's Chromium (Playwright downloads no browser of its own).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null

$(VENV)/installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet ".[dev]"
	rm -rf build *.egg-info
	touch $@

run: $(VENV)/installed node_modules/installed
	TZ=UTC $(PY) -m local $(ARGS)

test: $(VENV)/installed node_modules/installed $(CHROMIUM)
	TZ=UTC $(PY) -m pytest -n 2 --dist loadgroup $(ARGS)

# Issue 17's evidence, on demand (tests/browser/evidence.py): docs/screenshots/*.png, and
# axe-core's serious and critical counts as docs/accessibility.md's rows.
screenshots: $(VENV)/installed node_modules/installed $(CHROMIUM)
	TZ=UTC $(PY) -m pytest -p no:randomly tests/browser/evidence.py -k test_screenshots $(ARGS)

axe-counts: $(VENV)/installed node_modules/installed $(CHROMIUM)
	TZ=UTC $(PY) -m pytest -p no:randomly tests/browser/evidence.py -k test_axe_counts $(ARGS)

bench: $(VENV)/installed
	TZ=UTC $(PY) -m bench

# The CDK CLI that package.json pins (not whatever is on PATH); cdk.json runs app.py with
# this project's venv. STAGE picks the stack; ARGS passes more `-c key=value` settings.
STAGE ?= dev
CDK := node_modules/.bin/cdk
CDK_FLAGS := --no-notices -c stage=$(STAGE)

synth: $(VENV)/installed node_modules/installed
	$(CDK) synth --quiet $(CDK_FLAGS) $(ARGS)

deploy: $(VENV)/installed node_modules/installed
	$(CDK) deploy $(CDK_FLAGS) --outputs-file cdk-outputs-$(STAGE).json $(ARGS)

# After a deploy: signs in as the test user, reads the test clinic, books and cancels (README, Deploy).
smoke: $(VENV)/installed
	$(PY) -m infra.smoke --stage $(STAGE)

# A new practice and its first admin (README, Deploy): make first-admin STAGE=prod ORGANIZATION=acme EMAIL=lead@acme.example
first-admin: $(VENV)/installed
	$(PY) -m infra.first_admin --stage $(STAGE) --organization "$(ORGANIZATION)" --email "$(EMAIL)" $(ARGS)

clean:
	rm -rf $(VENV) cdk.out node_modules
