# SPDX-License-Identifier: GPL-2.0
#
# dm-jobmirror: top-level build.
#
#   make            build dm-jobmirror.ko for every supported installed kernel
#                   and the dmtool binary (KVER=... picks one kernel)
#   make deps       install the Debian packages the build, tests and demo need
#   make check      deps, build, host unit tests, then the suites inside a VM
#                   of each kernel; the last line is "N passed, N failed"
#   make demo       a live mirror of a mounted file system, in a VM
#   make bench      copy throughput and IOPS ratios, in one VM run
#   make C=1        also run sparse over the module
#   make W=1        extra compiler warnings for the module
#   make checkpatch run the kernel's checkpatch.pl over kernel/ and include/
#   make clean

O ?= $(CURDIR)/build
SUPPORTED_KSERIES := 6.1 6.12
# Every installed kernel with headers whose series is supported.
KVERS ?= $(if $(KVER),$(KVER),$(shell tests/vm/kernels.sh $(SUPPORTED_KSERIES)))

export O

.PHONY: all modules dmtool deps check unit clean checkpatch harness demo bench

# The newest supported kernel runs the demo and the benchmark.
DEMO_KVER ?= $(lastword $(KVERS))

all: modules dmtool

modules:
	@[ -n "$(KVERS)" ] || { echo "make: no kernel headers for $(SUPPORTED_KSERIES) installed: run 'make deps'" >&2; exit 1; }
	@set -e; for k in $(KVERS); do \
		d=$(O)/$$k/kernel; mkdir -p $$d; \
		for f in $(CURDIR)/kernel/*; do ln -sf $$f $$d/; done; \
		ln -sfn $(CURDIR)/include $(O)/$$k/include; \
		echo "  MODULE  $$k"; \
		$(MAKE) -s -C /lib/modules/$$k/build M=$$d CONFIG_DM_JOBMIRROR=m \
			$(if $(W),W=$(W)) $(if $(C),C=$(C)) modules; \
	done

dmtool:
	@$(MAKE) -s -C dmtool O=$(O)/dmtool

harness:
	@tests/kselftest/harness.sh $(O)/kselftest

deps:
	@tests/deps.sh

unit: dmtool harness
	@$(MAKE) -s -C tests/unit O=$(O)/unit run

check: deps
	@$(MAKE) -s all
	@tests/run-all.sh $(KVERS)

demo: deps
	@$(MAKE) -s all
	@tests/vm/run.sh -l -t 600 $(DEMO_KVER) $(O)/demo $(CURDIR)/tests/demo/demo.sh $(O)

bench: deps
	@$(MAKE) -s all
	@tests/vm/run.sh -t 1200 $(DEMO_KVER) $(O)/bench $(CURDIR)/tests/bench/bench.sh $(O) && \
		cat $(O)/bench/bench.txt

checkpatch:
	@tests/checkpatch.sh

clean:
	rm -rf $(O)
