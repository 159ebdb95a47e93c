# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed-stamp
CATALOGS := $(wildcard translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)

# axe-core, the accessibility checker the browser tests run in each page, from the npm registry.
AXE_VERSION := 4.11.0
AXE := .cache/axe-core-$(AXE_VERSION)/axe.min.js

.PHONY: run test install db translations-update clean

run: install db
	$(FLASK) run --host 127.0.0.1 --port 5000

# The whole suite on SQLite, then again on PostgreSQL with Redis. scripts/services installs what
# the tests use from Debian's packages when missing (PostgreSQL, Redis, wrk, Chromium and a Chinese
# font) and starts the servers on loopback; where CI is set, all of it is required.
test: install
	$(BIN)/ruff check .
	@services=$$(scripts/services start) || exit 1; eval "$$services"; \
	$(MAKE) --no-print-directory $(AXE) || [ -z "$${CI:-}" ] || exit 1; \
	$(BIN)/pytest || exit 1; \
	if [ -n "$${TEST_DATABASE_URL:-}" ]; then \
		echo "== the suite again on PostgreSQL and Redis =="; \
		TEST_BACKEND=postgresql $(BIN)/pytest; \
	else echo "PostgreSQL/Redis are not available here: their run is skipped"; fi

install: $(STAMP) $(COMPILED)

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The translation catalogues are compiled at install time; the .mo files are not committed.
%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@

$(AXE):
	mkdir -p $(@D)
	cd $(@D) && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null \
		&& tar -xzf axe-core-$(AXE_VERSION).tgz --strip-components=1 package/axe.min.js \
		&& rm axe-core-$(AXE_VERSION).tgz

# Migrate the SQLite database in instance/ and load the demo campaign the first time.
db: install
	$(FLASK) db upgrade
	$(FLASK) demo load

# After changing user-visible strings: extract them and merge them into each catalogue.
translations-update: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot .
	$(BIN)/pybabel update --no-fuzzy-matching -i translations/messages.pot -d translations --width 100

clean:
	rm -rf $(VENV) $(COMPILED) .pytest_cache .cache test-artifacts
