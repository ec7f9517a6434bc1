# libFuzzer harnesses for the userspace parsers, one per file here, built
# with clang, libFuzzer, ASan and UBSan into build/fuzz/ (objects and all:
# the normal build is untouched). make check runs each for a short budget
# over its corpus (selftests/fuzz/run.sh); 'make fuzz' is for long runs:
# FUZZ_TIME seconds each, FUZZERS to choose which.
#
# This fragment is read before those of userspace/ (name order), so the
# objects are named by their sources' paths, not by the other fragments'
# variables.

include userspace/raft/objs.mk

FUZZ_DIR  := $(O)/fuzz
FUZZ_CC   := clang-14
FUZZ_SAN  := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZERS   := klbctl_args klbctl_restore raft_step wal_recovery snapshot_load \
	klbd_config klbd_frame
FUZZ_BINS := $(addprefix $(FUZZ_DIR)/,$(FUZZERS))
FUZZ_TIME ?= 600
# make check's budget, seconds per harness.
FUZZ_CHECK_TIME ?= 10

$(FUZZ_DIR)/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(USER_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link $(FUZZ_CFLAGS) \
		-MMD -MP -c -o $@ $<

# The harnesses have no prototypes for libFuzzer's entry points to match.
$(FUZZ_DIR)/selftests/fuzz/%.o: FUZZ_CFLAGS += -Wno-missing-prototypes
# klbctl's main() would clash with libFuzzer's: the rest of main.c (the
# command table, parse_command_line) is what the harness wants.
$(FUZZ_DIR)/userspace/klbctl/main.o: FUZZ_CFLAGS += -Dmain=klbctl_main -Wno-missing-prototypes

fuzz_objs = $(patsubst %.c,$(FUZZ_DIR)/%.o,$(1))
FUZZ_KLBCTL_OBJS := $(call fuzz_objs,$(wildcard userspace/klbctl/*.c userspace/lib/*.c))
FUZZ_RAFT_OBJS := $(patsubst $(O)/%,$(FUZZ_DIR)/%,$(RAFT_STORAGE_OBJS) $(RAFT_CORE_OBJS))

$(FUZZ_DIR)/klbctl_args $(FUZZ_DIR)/klbctl_restore: $(FUZZ_DIR)/%: \
		$(FUZZ_DIR)/selftests/fuzz/%.o $(FUZZ_KLBCTL_OBJS)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ -lmnl -pthread -ljson-c

$(FUZZ_DIR)/raft_step: $(FUZZ_DIR)/selftests/fuzz/raft_step.o \
		$(patsubst $(O)/%,$(FUZZ_DIR)/%,$(RAFT_CORE_OBJS))
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^

$(FUZZ_DIR)/wal_recovery $(FUZZ_DIR)/snapshot_load: $(FUZZ_DIR)/%: \
		$(FUZZ_DIR)/selftests/fuzz/%.o $(FUZZ_DIR)/selftests/fuzz/fuzz_dir.o \
		$(FUZZ_RAFT_OBJS)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(RAFT_STORAGE_LIBS)

# klbd's parsers: its configuration, and what peers and clients send.
# klbd's own list of its pure parts, so that a part added there is linked
# here too.
include userspace/klbd/objs.mk
FUZZ_KLBD_OBJS := $(call fuzz_objs,$(addprefix userspace/klbd/,$(KLBD_CORE_SRCS)) \
	userspace/raft/crc32c.c)

$(FUZZ_DIR)/klbd_config $(FUZZ_DIR)/klbd_frame: $(FUZZ_DIR)/%: \
		$(FUZZ_DIR)/selftests/fuzz/%.o $(FUZZ_KLBD_OBJS) $(FUZZ_KLBCTL_OBJS)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ -lmnl -pthread -ljson-c -linih -lcrypto

fuzzers: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	selftests/fuzz/run.sh $(FUZZ_TIME) $(FUZZERS)

.PHONY: fuzzers fuzz

# The binary seed corpora, written by the storage's own writers (run it
# after a format changes, and commit what it writes).
$(FUZZ_DIR)/make_corpus: $(O)/selftests/fuzz/make_corpus.o $(RAFT_STORAGE_OBJS) \
		$(RAFT_CORE_OBJS)
	$(CC) -o $@ $^ $(USER_LDFLAGS) $(RAFT_STORAGE_LIBS)

fuzz-corpus: $(FUZZ_DIR)/make_corpus
	$< selftests/fuzz/corpus

.PHONY: fuzz-corpus
