# Maglev tables and the shared flow hash: known-answer tests, the classic
# build, and the incremental updates' properties over random sequences.

include userspace/lib/maglev_objs.mk

MAGLEV_TEST_DIR := build/selftests/maglev
MAGLEV_TESTS := flow_hash_test build_test update_test

$(MAGLEV_TEST_DIR)/%.o: | build/ksft/kselftest_harness.h

$(addprefix $(MAGLEV_TEST_DIR)/,$(MAGLEV_TESTS)): %: %.o $(MAGLEV_OBJS)
	$(CC) -o $@ $^ $(USER_LDFLAGS)

HOST_TESTS += $(addprefix $(MAGLEV_TEST_DIR)/,$(MAGLEV_TESTS))
# The known answers in include/klb/flow_hash_kat.h are the independent ones.
HOST_TESTS += selftests/maglev/flow_hash_vectors.py
