# Developer shortcuts. The README's two commands need no make; CI calls `make docs`.

PYTHON ?= .venv/bin/python
SPHINXOPTS ?=
DOCS_OUT ?= docs/_build/html

.PHONY: docs docs-clean

## Build the HTML documentation offline; every warning is an error (output: docs/_build/html).
docs:
	$(PYTHON) -m sphinx -W --keep-going -b html $(SPHINXOPTS) docs $(DOCS_OUT)

## Remove the built documentation and the pages, figures and tables generated at build time.
docs-clean:
	rm -rf docs/_build docs/generated
