# dnsd: two commands do everything on a fresh Debian machine.
#   make run    install dnsd in .venv and run it on Corefile.example
#   make test   install what the tests need (apt + pip) and run `make check`
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
APT_PKGS := dig:bind9-dnsutils kdig:knot-dnsutils knotd:knot ip:iproute2 openssl:openssl musl-gcc:musl-tools

.PHONY: run test deps system-deps check lint type unit bench

run: $(BIN)/dnsd
	$(BIN)/dnsd -conf Corefile.example

$(BIN)/dnsd: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -e .
	touch $@

test: deps check

deps: system-deps
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[test]'
	$(BIN)/pip install -q ./tests/thirdparty/dnsd-hello

# Installs only the tools that are missing, so a rerun is quick.
system-deps:
	@missing=""; for t in $(APT_PKGS); do \
	  command -v $${t%%:*} >/dev/null 2>&1 || missing="$$missing $${t#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

check: lint type unit

lint:
	$(BIN)/ruff check dnsd plugins tests bench containers
	$(BIN)/ruff format --check dnsd plugins tests bench containers

type:
	$(BIN)/mypy --strict -p dnsd

unit:
	$(BIN)/python -m pytest -q

bench: $(BIN)/dnsd
	bash bench/run.sh
