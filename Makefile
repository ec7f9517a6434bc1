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
#   make install    install klb.ko, klbd (and its unit), klbctl, man pages,
#                   completion
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

# Filled in by the fragments.
BINS        :=   # programs that are installed or used by tests
HOST_TESTS  :=   # host-side test programs: TAP on stdout, non-zero on failure
VM_TESTS    :=   # test programs run as root inside the guest, same contract
BENCHES     :=   # commands run by 'make bench'

all: module userspace

include $(sort $(wildcard userspace/*/*.mk tools/*.mk tools/*/*.mk selftests/*/*.mk))

userspace: $(BINS) $(HOST_TESTS) $(VM_TESTS)

# Every object may include the kselftest headers: extract them first.
$(O)/%.o: %.c | $(KSFT)/kselftest_harness.h
	@mkdir -p $(@D)
	$(CC) $(USER_CFLAGS) -MMD -MP -c -o $@ $<

# (build/asan/ is a tree of its own, with its own dependency files; kbuild
# owns build/debug-kmod/.)
-include $(shell find $(O) -path $(O)/debug-kmod -prune -o -path $(O)/asan -prune \
	-o -name '*.d' -type f -print 2>/dev/null)

# Objects and other intermediates stay after a build (make would delete
# those only a pattern rule chain made): the next build reuses them.
.SECONDARY:

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

# Install: the module for the kernel it was built against, the programs,
# their man pages and completion. DESTDIR and PREFIX as usual.
PREFIX   ?= /usr/local
KVER     ?= $(notdir $(patsubst %/build,%,$(KDIR)))
INSTALL_PROGS := build/userspace/klbctl/klbctl build/userspace/klbd/klbd
UNITDIR  ?= /lib/systemd/system
INSTALL_MAN8  := $(wildcard Documentation/*.8)
INSTALL_MAN5  := $(wildcard Documentation/*.5)

install: all
	install -D -m 0644 kmod/klb.ko $(DESTDIR)/lib/modules/$(KVER)/extra/klb.ko
	[ -n "$(DESTDIR)" ] || depmod -a $(KVER)
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0755 $(INSTALL_PROGS) $(DESTDIR)$(PREFIX)/sbin/
	$(if $(INSTALL_MAN8),install -m 0644 $(INSTALL_MAN8) $(DESTDIR)$(PREFIX)/share/man/man8/)
	install -d $(DESTDIR)$(PREFIX)/share/man/man5
	$(if $(INSTALL_MAN5),install -m 0644 $(INSTALL_MAN5) $(DESTDIR)$(PREFIX)/share/man/man5/)
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' userspace/klbd/klbd.service.in \
		>$(DESTDIR)$(UNITDIR)/klbd.service
	install -D -m 0644 userspace/klbctl/klbctl.bash-completion \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/klbctl

# 'make print-VAR' shows a variable, e.g. the test lists for tools/check.sh.
print-%:
	@echo $($*)

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/kmod clean
	rm -rf $(O)

.PHONY: all userspace module deps style check check-debug bench demo clean install
