# Two commands on a fresh machine:  `make lab`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.acglab-installed

.PHONY: install lab test clean-venv

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[lab,weights,test]"
	# facenet-pytorch ships the MTCNN face-detector weights; its metadata pins an old
	# torch, so it is installed without its (already satisfied) dependencies.
	$(PY) -m pip install --no-deps "facenet-pytorch==2.6.0"
	touch $(STAMP)

# containers often run as root, which JupyterLab refuses unless told
ROOT_FLAG = $(if $(filter 0,$(shell id -u)),--allow-root)

lab: install
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(ROOT_FLAG) $(LAB_ARGS)

test: install
	$(PY) -m pytest

clean-venv:
	rm -rf $(VENV)
