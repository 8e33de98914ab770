# The two commands of the README: `make run` and `make test`. Both set up everything themselves.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app app
HOST  ?= 127.0.0.1
PORT  ?= 5000
export HOST PORT

# Debian packages: HarfBuzz subsetting (fast CJK PDFs) and TrueType CJK fonts for WeasyPrint.
SYS_PKGS  := libharfbuzz-subset0 fonts-arphic-uming fonts-wqy-zenhei fontconfig
# Test tools: Chromium for the Playwright browser tests, poppler for pdftotext/pdftoppm.
TEST_PKGS := chromium poppler-utils
PG_PKGS   := postgresql
CLUSTER_PKGS := postgresql redis-server

# Install only what is missing; `apt-get update` first, once, when something is.
define apt_ensure
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "正在安装系统软件包:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

.PHONY: run test test-pg test-cluster bench setup sysdeps testdeps migrate seed

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

sysdeps:
	$(call apt_ensure,$(SYS_PKGS))

testdeps:
	$(call apt_ensure,$(TEST_PKGS))

setup: $(VENV)/.installed sysdeps

migrate: setup
	$(FLASK) db upgrade

run: migrate
	@$(FLASK) seed-demo --if-empty
	@echo
	@$(FLASK) demo-accounts
	@echo
	@echo "志愿服务管理平台: http://$(HOST):$(PORT)"
	$(VENV)/bin/gunicorn --config gunicorn.conf.py --workers 2 --bind $(HOST):$(PORT) --access-logfile - 'app:create_app()'

test: setup testdeps
	$(VENV)/bin/pytest

test-pg: setup testdeps
	$(call apt_ensure,$(PG_PKGS))
	bash .ci/test-pg

# Two app servers on one throw-away PostgreSQL and Redis, a scenario across them (issue 16; on demand).
test-cluster: setup
	$(call apt_ensure,$(CLUSTER_PKGS))
	bash .ci/test-cluster

bench: setup
	$(PY) bench/run.py
