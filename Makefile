# SPDX-License-Identifier: GPL-2.0
#
# dm-jobmirror: top-level build.
#
#   make            build dm-jobmirror.ko for every supported installed kernel
#                   and the dmtool binary (KVER=... picks one kernel)
#   make deps       install the Debian packages the build, tests and demo need
#   make check      deps, build, host unit tests, then the suites inside a VM
#                   of each kernel, both at once (JM_PARALLEL=0: one after
#                   the other); the last line is "N passed, N failed"
#   make demo       a live mirror of a mounted file system, in a VM
#   make bench      copy throughput and IOPS ratios, in one VM run
#   make stress     random faults and controls under a verified load, then
#                   a crash or complete, in VMs (JM_STRESS_RUNS, _SECS, _SEED)
#   make C=1        also run sparse over the module
#   make W=1        extra compiler warnings for the module
#   make checkpatch run the kernel's checkpatch.pl over kernel/ and include/
#   make install    dmtool, the udev rule, the hooks directory and the module
#                   for each built kernel (DESTDIR, PREFIX; runs depmod when
#                   DESTDIR is empty)
#   make clean

O ?= $(CURDIR)/build
SUPPORTED_KSERIES := 6.1 6.12
# Every installed kernel with headers whose series is supported.
KVERS ?= $(if $(KVER),$(KVER),$(shell tests/vm/kernels.sh $(SUPPORTED_KSERIES)))

export O

PREFIX ?= /usr
SBINDIR ?= $(PREFIX)/sbin
UDEVRULESDIR ?= /usr/lib/udev/rules.d
DEPMOD ?= depmod
# Compiled into dmtool (udev.c): not a variable.
HOOKSDIR := /etc/dm-jobmirror/hooks.d

.PHONY: all modules dmtool deps check unit clean checkpatch harness demo bench stress install

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

stress: deps
	@$(MAKE) -s all
	@tests/stress/run.sh $(KVERS)

checkpatch:
	@tests/checkpatch.sh

# What "make" built; it does not build, so that "sudo make install" after
# "make" leaves no root-owned files in the build tree.
install:
	@[ -x $(O)/dmtool/dmtool ] || { echo "make install: run 'make' first" >&2; exit 1; }
	install -D -m 755 $(O)/dmtool/dmtool $(DESTDIR)$(SBINDIR)/dmtool
	install -d $(DESTDIR)$(UDEVRULESDIR) $(DESTDIR)$(HOOKSDIR)
	sed 's|@DMTOOL@|$(SBINDIR)/dmtool|' udev/12-dm-jobmirror.rules \
		>$(DESTDIR)$(UDEVRULESDIR)/12-dm-jobmirror.rules
	rm -f $(DESTDIR)$(UDEVRULESDIR)/56-dm-jobmirror.rules
	install -m 755 udev/hooks.d/50-log-errors.sample $(DESTDIR)$(HOOKSDIR)/
	@set -e; n=0; for k in $(KVERS); do \
		[ -f $(O)/$$k/kernel/dm-jobmirror.ko ] || continue; \
		echo "install dm-jobmirror.ko for $$k"; \
		install -D -m 644 $(O)/$$k/kernel/dm-jobmirror.ko \
			$(DESTDIR)/lib/modules/$$k/updates/dm-jobmirror.ko; \
		[ -n "$(DESTDIR)" ] || $(DEPMOD) -a $$k; \
		n=$$((n + 1)); \
	done; \
	[ $$n -gt 0 ] || echo "make install: no module built for $(or $(KVERS),any kernel): run 'make'" >&2

clean:
	rm -rf $(O)
