# The host tests once more under AddressSanitizer and UBSan ('make asan',
# run by make check). The fragments name their outputs under build/, so the
# sanitized build is the same Makefile run in a tree of its own: symlinks
# to the sources and a real build/ of its own (build/asan/build/). The
# normal build is never touched.

ASAN_TREE := $(O)/asan
ASAN_CC := gcc -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
ASAN_SOURCES := Makefile include selftests tools userspace
ASAN_KSFT := $(ASAN_TREE)/build/ksft

# Scripts need nothing built (the Python ones) or take their programs
# from $O (loadgen_test.sh); only the latter are worth building here.
ASAN_TARGETS = $(filter $(O)/% %.sh,$(HOST_TESTS))

# The kselftest headers, with a longer timeout per test: sanitized code
# runs three to six times slower, and the harness's default (30 s) is
# compiled in with no way to change it from outside.
ASAN_TEST_TIMEOUT := 150

# (-MMD leaves -isystem headers out of the dependencies: the tests built
# against an older wrapper are removed here.)
$(ASAN_KSFT)/kselftest_harness.h: tools/asan.mk | $(KSFT)/kselftest_harness.h
	rm -rf $(ASAN_TREE)/build/selftests
	@mkdir -p $(@D)
	ln -sfn $(CURDIR)/$(KSFT)/kselftest.h $(@D)/kselftest.h
	printf '#include "%s"\n#undef TEST_TIMEOUT_DEFAULT\n#define TEST_TIMEOUT_DEFAULT %s\n' \
		$(CURDIR)/$(KSFT)/kselftest_harness.h $(ASAN_TEST_TIMEOUT) >$@

asan: $(ASAN_KSFT)/kselftest_harness.h
	@for f in $(ASAN_SOURCES); do ln -sfn $(CURDIR)/$$f $(ASAN_TREE)/$$f; done
	$(MAKE) -C $(ASAN_TREE) CC="$(ASAN_CC)" $(ASAN_TARGETS)

.PHONY: asan
