# One entry point for setting up, testing and demonstrating kocr.
#   make demo   set everything up and read the bundled sample page
#   make test   set everything up and run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.kocr-installed
APT_PACKAGES := $(shell cat .ci/apt-packages.txt)

.PHONY: setup system demo test bench clean

setup: system $(STAMP)

# Debian packages: fonts for the data generator, Tesseract for the example plugin and the peer
# benchmark. Installed only when something is missing (needs root or sudo).
system:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages: $$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# torch is installed first and pinned to the CPU build (on these machines `torch==2.13.0` is a
# CPU wheel on disk), so that no dependency drags in a multi-GB CUDA build.
# OCRmyPDF (for plugins/ocrmypdf-kocr) comes as wheels; it needs neither Tesseract nor Ghostscript.
# kocr-ppocr's rapidocr carries PP-OCR's weights in its wheel and reuses kocr's OpenCV and onnxruntime.
$(STAMP): pyproject.toml plugins/kocr-tesseract/pyproject.toml plugins/ocrmypdf-kocr/pyproject.toml plugins/kocr-ppocr/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev]" -e "plugins/kocr-tesseract[api]" -e plugins/kocr-ppocr -e plugins/ocrmypdf-kocr ocrmypdf
	touch $(STAMP)

demo: setup
	$(BIN)/kocr read kocr_sdk/data/sample_ko.png --format json

test: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest

clean:
	rm -rf $(VENV) build *.egg-info
