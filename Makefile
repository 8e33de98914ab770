# The two commands of the README: `make run` and `make test`. Both set up everything themselves.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app app
HOST  ?= 127.0.0.1
PORT  ?= 5000
JOB_WORKERS ?= 2
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

# Python packages come from hashed locks (pip-compile --generate-hashes): requirements.lock for the
# app, requirements-dev.lock for the app plus test tools. Edit requirements*.txt, then `make lock`.
LOCK      := requirements.lock
DEV_LOCK  := requirements-dev.lock
PIP_SYNC  := $(VENV)/bin/pip install -q --disable-pip-version-check --require-hashes
COMPILE   := $(VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
             --no-emit-find-links


.PHONY: run test test-pg test-cluster bench bench-pg setup devsetup sysdeps testdeps migrate seed lock

$(VENV)/.installed: $(LOCK)
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PIP_SYNC) -r $(LOCK)
	@touch $@

$(VENV)/.installed-dev: $(DEV_LOCK) $(VENV)/.installed
	$(PIP_SYNC) -r $(DEV_LOCK)
	@touch $@

devsetup: setup $(VENV)/.installed-dev

# Recompile both locks from requirements.txt / requirements-dev.txt (after adding or bumping a package).
# Pins already in a lock are kept unless requirements*.txt asks otherwise; `make lock UPGRADE=1` bumps all.
lock: $(VENV)/.installed-dev
	$(COMPILE) $(if $(UPGRADE),--upgrade) -o $(LOCK) requirements.txt
	$(COMPILE) $(if $(UPGRADE),--upgrade) -o $(DEV_LOCK) requirements-dev.txt
	@echo "已更新 $(LOCK) 与 $(DEV_LOCK)；请提交这两个文件。"

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
	@# The job worker (exports, imports, mail: core/jobs.py) runs beside the web server and stops with it.
	@$(VENV)/bin/huey_consumer worker.huey --workers $(JOB_WORKERS) & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(VENV)/bin/gunicorn --config gunicorn.conf.py --workers 2 --bind $(HOST):$(PORT) --access-logfile - 'app:create_app()'

# pytest, then the two-server scenario (about a minute: it fits CI's time, so `.ci/run` proves it too).
test: devsetup testdeps
	$(VENV)/bin/pytest
	$(call apt_ensure,$(CLUSTER_PKGS))
	bash .ci/test-cluster

test-pg: devsetup testdeps
	$(call apt_ensure,$(PG_PKGS))
	bash .ci/test-pg

# Two app servers on one throw-away PostgreSQL and Redis, a scenario across them (issue 16; also the end of `test`).
test-cluster: devsetup
	$(call apt_ensure,$(CLUSTER_PKGS))
	bash .ci/test-cluster

# Real HTTP against gunicorn as `run` starts it; BENCH_SCALE=10 builds (once) and measures the 10× city.
BENCH_SCALE ?= 1
bench: setup
	$(call apt_ensure,wrk)
	BENCH_SCALE=$(BENCH_SCALE) $(PY) bench/run.py
	@# Background jobs: a 200,000-row export and a 50,000-row import, time and peak worker memory ("jobs").
	$(PY) bench/jobs.py
	@$(PY) bench/verdict.py >/dev/null  # each target met or not, into results.json ("verdict")

# The same against a local PostgreSQL (port 55434), its cluster kept in bench/.pgdata[-<N>x]/.
bench-pg: setup
	$(call apt_ensure,$(PG_PKGS) wrk)
	BENCH_SCALE=$(BENCH_SCALE) bash .ci/bench-pg
	@$(PY) bench/verdict.py >/dev/null
