# Tests of klb.ko's generic netlink API (include/uapi/linux/klb.h), run as
# root inside the guest against the real module: raw netlink messages built
# with libmnl, so that malformed ones can be sent too.

API_TEST_DIR := build/selftests/api
API_TEST_LIB := $(API_TEST_DIR)/api_nl.o $(API_TEST_DIR)/api_klb.o
API_TESTS := commands_test errors_test consistency_test perm_test netns_test \
	reload_test fuzz_test txn_scope_test info_test parallel_test \
	dump_pin_test memory_test

$(API_TEST_DIR)/%.o: | build/ksft/kselftest_harness.h
# The harness's FIXTURE_SETUP/TEARDOWN define functions without prototypes.
$(API_TEST_DIR)/%_test.o: USER_CFLAGS += -Wno-missing-prototypes

$(API_TEST_DIR)/parallel_test: USER_LDFLAGS += -pthread
$(API_TEST_DIR)/%_test: $(API_TEST_DIR)/%_test.o $(API_TEST_LIB)
	$(CC) -o $@ $^ $(USER_LDFLAGS) -lmnl

VM_TESTS += $(addprefix $(API_TEST_DIR)/,$(API_TESTS))
