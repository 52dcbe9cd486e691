# flashnews — every setup step a fresh machine needs. `make demo` and `make test` do it all.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# llama-cpp-python compiles (no wheel for this Python on PyPI). Not a native build: the native
# build of 0.3.36 crashed (general protection fault in ggml-cpu) on this machine's AVX-512/AMX
# CPU. AVX2, plus AVX-512 where the CPU has it (about 20% faster prompts here), no AMX, and no
# multimodal library (text only: a shorter build).
# The wheel is cached per flag set, so it is built once per machine.
LLAMA_VERSION    := 0.3.36
LLAMA_CMAKE_ARGS := -DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
ifneq ($(shell grep -m1 -o -E 'avx512_?vnni' /proc/cpuinfo 2>/dev/null),)
LLAMA_CMAKE_ARGS += -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON
endif
LLAMA_KEY        := $(shell printf '%s' '$(LLAMA_VERSION) $(LLAMA_CMAKE_ARGS)' | sha256sum | cut -c1-12)
WHEELS           := $(HOME)/.cache/flashnews/wheels/$(LLAMA_KEY)
DEMO_HOME        ?= $(CURDIR)/.flashnews
DEMO_OUT         ?= $(CURDIR)/editions

# One pip at a time in the one venv: the jobs' installs must not run side by side (make -j).
.NOTPARALLEL:

.PHONY: install install-core install-local install-dev llama demo docs serve test test-fast lint record clean bench bench-embedded bench-search eval eval-record calibrate

# Install by job, into the one .venv; a stamp per job, each redone when pyproject.toml changes.
#   install-core   flashnews and the ranking model: a run against any OpenAI-compatible endpoint
#   install-local  + the embedded model (llama.cpp, compiled once per machine): `make demo`
#   install-dev    flashnews and the test, lint and type tools, PostgreSQL's driver, LangGraph
#                  Server: `make lint` and `make test-fast` (no compile, no model weights)
#   install        all of them: `make test`
$(VENV)/.base: pyproject.toml deploy/parser.txt
	@deploy/preflight python $(PYTHON)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q --no-deps --require-hashes -r deploy/parser.txt
	touch $@

$(VENV)/.core: $(VENV)/.base
	$(BIN)/pip install -q -e '.[embed]'
	touch $@

# The compile uses the CPU while pip installs the rest (disk and network) beside it; the
# compiler is checked first, so its one line is the last thing a machine without one prints.
# The build runs in its own process group (setsid), so a failed install stops all of it.
$(VENV)/.local: $(VENV)/.base
	@ls $(WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 || deploy/preflight compiler
	@setsid $(MAKE) --no-print-directory llama & build=$$!; \
	$(BIN)/pip install -q -e '.[embed]' || { kill -- -$$build 2>/dev/null; exit 1; }; \
	wait $$build || exit $$?; \
	$(BIN)/pip install -q --find-links $(WHEELS) -e '.[local]'
	touch $(VENV)/.core $@

$(VENV)/.dev: $(VENV)/.base
	$(BIN)/pip install -q -e '.[dev,postgres-driver,langgraph-server]'
	touch $@

install-core: $(VENV)/.core
install-local: $(VENV)/.local
install-dev: $(VENV)/.dev
install: $(VENV)/.local $(VENV)/.dev

llama:
	@if ls $(WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1; then \
		echo "llama-cpp-python $(LLAMA_VERSION): using the wheel built earlier in $(WHEELS)"; \
	else \
		deploy/preflight compiler || exit 2; \
		echo "llama-cpp-python $(LLAMA_VERSION): compiling (about 4 minutes on 2 cores)"; \
		test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
			$(BIN)/pip wheel -q --no-deps --no-cache-dir \
			-w $(WHEELS) llama-cpp-python==$(LLAMA_VERSION); \
	fi

# One real edition on the embedded model and the bundled 2026-02-25 snapshot, then the bulletin
# and how long each stage took.
demo:
	@start=$$(date +%s); $(MAKE) --no-print-directory install-local || exit $$?; \
	took=$$(( $$(date +%s) - start )); \
	FLASHNEWS_HOME=$(DEMO_HOME) $(BIN)/flashnews run --date 2026-02-25 --format flash \
		--headless --out $(DEMO_OUT) --timings; \
	code=$$?; echo "install: $$took s (make install-local; 0 when already installed)"; \
	echo "bulletin: $(DEMO_OUT)/2026-02-25-flash.md; scores and model calls:" \
		"FLASHNEWS_HOME=$(DEMO_HOME) $(BIN)/flashnews status 2026-02-25-flash"; exit $$code

# flashnews on LangGraph's dev server (in-memory runtime) at http://127.0.0.1:2024; its state in
# SERVE_DIR/.langgraph_api, flashnews' data in DEMO_HOME. The embedded model is served from the
# server process unless FLASHNEWS_BASE_URL or OPENAI_API_KEY name an endpoint.
SERVE_DIR ?= $(DEMO_HOME)/server
serve: install-local install-dev
	mkdir -p $(SERVE_DIR)
	cd $(SERVE_DIR) && FLASHNEWS_HOME=$${FLASHNEWS_HOME:-$(DEMO_HOME)} \
		FLASHNEWS_SERVER_EMBEDDED=$${FLASHNEWS_SERVER_EMBEDDED:-true} LANGGRAPH_CLI_NO_ANALYTICS=1 \
		$(CURDIR)/$(BIN)/langgraph dev --no-browser --config $(CURDIR)/langgraph.json

# On every core (pytest-xdist); a test file alone: .venv/bin/pytest tests/test_cli.py
test: install
	$(BIN)/pytest -n auto

# Everything but the tests that need model weights (the embedded model or the embeddings).
test-fast: install-dev
	$(BIN)/pytest -n auto -m "not model and not embed"

# ruff, the layers contract (import-linter, pyproject.toml) and the type checker (mypy).
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# Re-record the wire cassettes from a real local llama.cpp server (see tests/cassettes/README.md).
record: install
	$(BIN)/python -m tests.record_cassettes

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info

# Triage of a real day (837 papers): against a stub endpoint priced by tokens, and on the
# embedded stack (the real local model; docs/benchmarks.md).
bench: install
	$(BIN)/python -m bench.triage
	$(BIN)/python -m bench.docs

# Archive search over 1,000 published items (docs/search.md).
bench-search: install
	$(BIN)/python -m bench.search
	$(BIN)/python -m bench.docs

# Only the embedded-stack rows of `make bench` (the whole day, one listing, the dev papers).
bench-embedded: install
	$(BIN)/python -m bench.triage --embedded-only
	$(BIN)/python -m bench.docs

# Prompt-regression evals: replay the embedded model's recorded cassettes (no server, a few
# seconds) and compare every metric with the committed baseline; exit 11 on a regression. (The
# generated-scoring setup is not recorded since the ranking stage: see docs/evals.md.)
eval: install
	$(BIN)/flashnews eval --replay --baseline evals/baseline.json

# Run the evals on the real embedded model (about 25 minutes on 2 cores), compare them with the
# baseline, and only if nothing regressed keep the new cassettes and make this run the baseline
# (and the smoke subset's, replayed from them). `make eval-record EVAL_BASELINE=` accepts a
# change that the comparison would refuse.
# The live run also fits the seed ranker on the labelled examples (--calibrate); the baselines
# are then made by replay, with that ranker in place.
EVAL_BASELINE ?= --baseline evals/baseline.json
eval-record: install
	$(BIN)/flashnews eval --live --record --calibrate $(EVAL_BASELINE)
	$(BIN)/flashnews eval --replay --write-baseline evals/baseline.json
	$(BIN)/flashnews eval --replay --subset smoke --write-baseline evals/baseline.json
	$(BIN)/python -m bench.docs

# Fit the seed ranker (flashnews/data/ranker.json) again from the recorded cassettes and the
# labelled examples (no model server; needs the eval data: docs/evals.md).
calibrate: install
	$(BIN)/flashnews eval --replay --calibrate

# Write the figures that commands produce into the docs (bench/docs.py): the eval baseline
# table, the bench table, the README's demo excerpt. `make docs BULLETIN=editions/2026-02-25-flash.md`
# first keeps that bulletin (after `make demo`) as the example.
docs: install-dev
	$(BIN)/python -m bench.docs $(if $(BULLETIN),--bulletin $(BULLETIN))
