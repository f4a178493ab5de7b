# Two commands on a fresh machine:  `make lab`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.acglab-installed

.PHONY: install lab app lint test html clean-venv

# JupyterLab settings for a class: no news pop-up or update check, Markdown opens rendered
LAB_OVERRIDES = $(VENV)/share/jupyter/lab/settings/overrides.json

install: $(STAMP) $(LAB_OVERRIDES)

$(LAB_OVERRIDES): .jupyter/lab/settings/overrides.json $(STAMP)
	mkdir -p $(dir $@)
	cp $< $@

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[lab,weights,test]"
	# facenet-pytorch ships the MTCNN face-detector weights; its metadata pins an old
	# torch, so it is installed without its (already satisfied) dependencies.
	$(PY) -m pip install --no-deps "facenet-pytorch==2.6.0"
	# Debian's chromium (PDF reports, browser tests) and poppler-utils, where this machine lets us
	@if { ! command -v chromium >/dev/null || ! command -v pdftoppm >/dev/null; }; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt-get install -y -qq chromium poppler-utils >/dev/null \
	      || echo "note: could not install chromium and poppler-utils; PDF reports need them"; \
	  else echo "note: PDF reports need Debian's chromium (sudo apt-get install chromium poppler-utils)"; fi; fi
	touch $(STAMP)

# containers often run as root, which JupyterLab refuses unless told
ROOT_FLAG = $(if $(filter 0,$(shell id -u)),--allow-root)

# opens on the course's README (notebooks/README.md)
lab: install
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks --LabApp.default_url=/lab/tree/README.md $(ROOT_FLAG) $(LAB_ARGS)

# notebook 07 as a web app (Voila, code hidden) on 127.0.0.1; ACGLAB_DETECTOR=CKPT picks the
# detector (default: a small one trained once and cached)
APP_PORT ?= 8866
app: install
	$(VENV)/bin/voila notebooks/07_analysis_app.ipynb --no-browser --Voila.ip=127.0.0.1 --port=$(APP_PORT) \
	  --strip_sources=True --VoilaExecutor.timeout=1800 --VoilaConfiguration.http_keep_alive_timeout=30 $(APP_ARGS)

# lint, import order and format (ruff, configured in pyproject.toml); notebooks stored without outputs
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/nbstripout --verify --keep-id notebooks/*.ipynb

test: install lint
	$(PY) -m pytest

# every notebook executed (quick mode unless ACGLAB_QUICK=0) to static HTML, with an index;
# figures and explorer snapshots load plotly.js from its CDN when the pages are opened
HTML_DIR ?= build/html
html: install
	mkdir -p $(HTML_DIR)
	ACGLAB_QUICK=$${ACGLAB_QUICK:-1} ACGLAB_STATIC=1 PLOTLY_RENDERER=notebook_connected \
	  $(VENV)/bin/jupyter nbconvert --to html --execute \
	  --ExecutePreprocessor.timeout=1800 --output-dir $(HTML_DIR) notebooks/*.ipynb
	$(PY) -m acglab.notebook index notebooks/README.md $(HTML_DIR)/index.html

clean-venv:
	rm -rf $(VENV)
