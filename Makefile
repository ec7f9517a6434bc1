# klb: top-level build.
#
#   make            klb.ko and all userspace programs
#   make check      install what is missing, build, run every test
#   make check-debug  the kernel tests on a debug kernel (KASAN, lockdep ...)
#   make asan       the host tests built with ASan and UBSan (build/asan/)
#   make fuzz       the parsers' fuzz harnesses, FUZZ_TIME seconds each (600)
#   make demo       a gateway cluster with backends and live traffic, in a VM
#   make bench      benchmarks (host side and in the VM, beside IPVS)
#   make style      checkpatch --strict over the kernel and shared code
#   make install    install klb.ko, klbd, klbctl, man pages, completion
#   make dkms-install  the module's sources into DKMS, built and installed
#   make deb        the Debian packages klb-dkms and klb-tools (build/deb/)
#   make deps       install the Debian packages the above need (as root)
#
# Userspace is built non-recursively: every component has a fragment
# (*.mk next to its sources) that adds its programs to the lists below.
# Objects go to $(O)/ mirroring the source tree.

O       := build
KDIR    ?= $(shell tools/kdir.sh)
KSFT    := $(O)/ksft

USER_CFLAGS := -std=gnu11 -O2 -g -D_GNU_SOURCE \
	-Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2 \
	-Wmissing-prototypes -Wstrict-prototypes \
	-Iinclude -Iinclude/uapi -Iuserspace -isystem $(KSFT)
USER_LDFLAGS :=
# A distribution's flags (hardening, debug info) from the environment.
USER_CFLAGS += $(CPPFLAGS) $(CFLAGS)
USER_LDFLAGS += $(LDFLAGS)

# Filled in by the fragments.
BINS        :=   # programs that are installed or used by tests
HOST_TESTS  :=   # host-side test programs: TAP on stdout, non-zero on failure
VM_TESTS    :=   # test programs run as root inside the guest, same contract
BENCHES     :=   # commands run by 'make bench'

all: module userspace

include $(sort $(wildcard userspace/*/*.mk tools/*.mk tools/*/*.mk selftests/*/*.mk))

userspace: $(BINS) $(HOST_TESTS) $(VM_TESTS)

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -MMD -MP -c -o $@ $<

# Tests may include the kselftest headers: extract them first. (The
# programs do not need them, so a package build does without.)
$(O)/selftests/%.o: selftests/%.c | $(KSFT)/kselftest_harness.h
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -MMD -MP -c -o $@ $<

# (build/asan/ is a tree of its own, with its own dependency files; kbuild
# owns build/debug-kmod/.)
-include $(shell find $(O) -path $(O)/debug-kmod -prune -o -path $(O)/asan -prune \
	-o -name '*.d' -type f -print 2>/dev/null)

# Headers borrowed from the kernel tree at build time (never committed).
$(KSFT)/kselftest_harness.h:
	tools/kernel-files.sh $(KSFT)

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/kmod modules W=1

deps:
	tools/deps.sh

style: $(KSFT)/kselftest_harness.h
	perl $(KSFT)/checkpatch.pl --strict --no-tree --quiet --show-types \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG \
		-f $(shell git ls-files 'kmod/*.[ch]' 'include/*.h')

check: deps
	tools/check.sh

check-debug: deps
	tools/vm/check-debug.sh

bench: deps all
	tools/bench.sh $(BENCHES)

demo: deps all
	tools/demo.sh

# Install (DESTDIR and PREFIX as usual): the programs operators run, their
# man pages and completion, and the module for the kernel it was built
# against. 'install-programs' and 'install-module' do one half each (the
# Debian packages use the first; DKMS builds the module).
#
# Programs are picked from BINS by name, so a program is installed as soon
# as its fragment builds it. Man pages, completions, systemd units (from
# their templates, with the programs' path filled in) and an example
# klbd.conf (never over an existing one) are picked up where the
# tree has them.
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
KVER       ?= $(notdir $(patsubst %/build,%,$(KDIR)))

INSTALL_SBIN   := $(filter $(addprefix %/,klbctl klbd),$(BINS))
INSTALL_MAN5   := $(wildcard Documentation/*.5)
INSTALL_MAN8   := $(wildcard Documentation/*.8)
INSTALL_COMPLETIONS := $(wildcard userspace/*/*.bash-completion)
INSTALL_UNITS  := $(wildcard userspace/*/*.service.in)
INSTALL_CONFIG := $(wildcard userspace/klbd/klbd.conf)

programs: $(INSTALL_SBIN)

install: install-programs install-module

install-programs: programs
	install -d $(DESTDIR)$(SBINDIR)
	install -m 0755 $(INSTALL_SBIN) $(DESTDIR)$(SBINDIR)/
	$(if $(INSTALL_MAN5),install -d $(DESTDIR)$(MANDIR)/man5)
	$(if $(INSTALL_MAN5),install -m 0644 $(INSTALL_MAN5) $(DESTDIR)$(MANDIR)/man5/)
	$(if $(INSTALL_MAN8),install -d $(DESTDIR)$(MANDIR)/man8)
	$(if $(INSTALL_MAN8),install -m 0644 $(INSTALL_MAN8) $(DESTDIR)$(MANDIR)/man8/)
	for f in $(INSTALL_COMPLETIONS); do \
		install -D -m 0644 $$f $(DESTDIR)$(COMPLETIONDIR)/$$(basename $$f .bash-completion) || exit; \
	done
	$(if $(INSTALL_UNITS),install -d $(DESTDIR)$(UNITDIR))
	for f in $(INSTALL_UNITS); do \
		sed 's|@SBINDIR@|$(SBINDIR)|g' $$f >$(DESTDIR)$(UNITDIR)/$$(basename $$f .in) || exit; \
	done
	$(if $(INSTALL_CONFIG),[ -e $(DESTDIR)$(SYSCONFDIR)/klb/klbd.conf ] || \
		install -D -m 0644 $(INSTALL_CONFIG) $(DESTDIR)$(SYSCONFDIR)/klb/klbd.conf)

# depmod only for the running system: a staged tree (DESTDIR) gets it when
# it is installed for real.
install-module: module
	install -D -m 0644 kmod/klb.ko $(DESTDIR)/lib/modules/$(KVER)/updates/klb.ko
	$(if $(DESTDIR),,depmod -a $(KVER))

# 'make print-VAR' shows a variable, e.g. the test lists for tools/check.sh.
print-%:
	@echo $($*)

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/kmod clean
	rm -rf $(O)

.PHONY: all userspace module deps style check check-debug bench demo clean \
	programs install install-programs install-module
