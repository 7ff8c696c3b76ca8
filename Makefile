# Two fresh-machine entry points, `make demo` and `make test`, over two environments (see README):
#   .venv        default: numpy 2, current onnx + onnxruntime + onnxslim, torch/torchvision/transformers,
#                timm/ultralytics/diffusers (the zoo's model families), TensorRT-RTX, test tools. Runs every test
#                not marked `mxnet`.
#   .venv-mxnet  MXNet 1.9.1 with the pins it needs (numpy 1.23.5, onnx 1.16.2), TensorRT-RTX, test tools.
#                Runs the tests marked `mxnet`.
# Each environment is (re)installed from pyproject.toml's extras when pyproject.toml changes.
PYTHON ?= python3
VENV ?= .venv
VENV_MXNET ?= .venv-mxnet
EXTRAS ?= rtx,onnx,torch,zoo,test,plot
EXTRAS_MXNET ?= rtx,mxnet,test
PYTEST_ARGS ?= -q -n 2 --dist loadfile -rs
# The test files that hold MXNet tests (the MXNet environment lacks torch/onnxruntime: collect only these).
MXNET_TESTS = $(shell grep -rl "pytest.mark.mxnet" tests)

.PHONY: demo demo-torch lint test test-default test-mxnet install bench clean

# $(1): venv directory, $(2): extras. pip (not uv) so that pip's configured wheel directories are used.
define venv_rules
$(1)/bin/python:
	$(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install --quiet --upgrade pip

$(1)/.installed: $(1)/bin/python pyproject.toml
	$(1)/bin/python -m pip install --quiet -e ".[$(2)]"
	touch $$@
endef
$(eval $(call venv_rules,$(VENV),$(EXTRAS)))
$(eval $(call venv_rules,$(VENV_MXNET),$(EXTRAS_MXNET)))

install: $(VENV)/.installed $(VENV_MXNET)/.installed

demo: $(VENV_MXNET)/.installed
	$(VENV_MXNET)/bin/python -m tvm_trt.testing.demo

demo-torch: $(VENV)/.installed
	$(VENV)/bin/python -m tvm_trt.testing.demo --torch

# pytest's exit code 5 ("no tests collected") is not a failure here. TVM_TRT_TEST_REQUIRES makes the session fail
# at once if the environment lacks a package its tests need (tests/conftest.py), instead of skipping them.
test-default: $(VENV)/.installed
	TVM_TRT_TEST_REQUIRES="torch torchvision transformers timm ultralytics diffusers onnxruntime onnxslim tensorrt_rtx_bindings matplotlib" \
	  $(VENV)/bin/python -m pytest $(PYTEST_ARGS) -m "not mxnet" || [ $$? -eq 5 ]

test-mxnet: $(VENV_MXNET)/.installed
	TVM_TRT_TEST_REQUIRES="mxnet tensorrt_rtx_bindings" \
	  $(VENV_MXNET)/bin/python -m pytest $(PYTEST_ARGS) -m mxnet $(MXNET_TESTS) || [ $$? -eq 5 ]

# Lint (ruff) and the layer contracts (import-linter, [tool.importlinter] in pyproject.toml), in .venv only.
# LINT_FORMAT=0 skips `ruff format --check` (e.g. while a large change is in flight).
LINT_FORMAT ?= 1
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	PYTHONPATH=$(CURDIR) $(VENV)/bin/lint-imports
	@if [ "$(LINT_FORMAT)" = 1 ]; then $(VENV)/bin/ruff format --check .; fi

# Lint and both runs always happen; the target fails if any failed.
test: install
	@fail=0; \
	$(MAKE) --no-print-directory lint || fail=1; \
	$(MAKE) --no-print-directory test-default || fail=1; \
	$(MAKE) --no-print-directory test-mxnet || fail=1; \
	if [ $$fail -ne 0 ]; then echo "make test: FAILED (see above)"; fi; \
	exit $$fail

bench: $(VENV_MXNET)/.installed
	$(VENV_MXNET)/bin/python bench/run_all.py

clean:
	rm -rf $(VENV) $(VENV_MXNET) build dist *.egg-info
