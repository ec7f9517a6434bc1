# Raft tests: unit tests of the pure pieces, scripted scenarios, storage
# against a real directory (synchronously and through io_uring), and a
# simulation budget.

include userspace/raft/objs.mk

RAFT_TEST_DIR := build/selftests/raft

$(RAFT_TEST_DIR)/%.o: | build/ksft/kselftest_harness.h
# The harness's FIXTURE_SETUP/TEARDOWN define functions without prototypes.
$(RAFT_TEST_DIR)/%.o: USER_CFLAGS += -Wno-missing-prototypes

$(RAFT_TEST_DIR)/core_test: $(RAFT_TEST_DIR)/core_test.o $(RAFT_CORE_OBJS)
	$(CC) -o $@ $^ $(USER_LDFLAGS)

HOST_TESTS += $(RAFT_TEST_DIR)/core_test

$(RAFT_TEST_DIR)/codec_test: $(RAFT_TEST_DIR)/codec_test.o $(RAFT_CODEC_OBJS) $(RAFT_CORE_OBJS)
	$(CC) -o $@ $^ $(USER_LDFLAGS)

HOST_TESTS += $(RAFT_TEST_DIR)/codec_test

$(RAFT_TEST_DIR)/cluster_test: $(RAFT_TEST_DIR)/cluster_test.o $(RAFT_CODEC_OBJS) \
		$(RAFT_CORE_OBJS)
	$(CC) -o $@ $^ $(USER_LDFLAGS)

HOST_TESTS += $(RAFT_TEST_DIR)/cluster_test

$(RAFT_TEST_DIR)/scenario_test: $(RAFT_TEST_DIR)/scenario_test.o $(RAFT_TEST_DIR)/scenario.o \
		$(RAFT_CORE_OBJS)
	$(CC) -o $@ $^ $(USER_LDFLAGS)

HOST_TESTS += $(RAFT_TEST_DIR)/scenario_test

$(RAFT_TEST_DIR)/storage_test: $(RAFT_TEST_DIR)/storage_test.o $(RAFT_STORAGE_OBJS) \
		$(RAFT_CORE_OBJS)
	$(CC) -o $@ $^ $(USER_LDFLAGS) $(RAFT_STORAGE_LIBS)

HOST_TESTS += $(RAFT_TEST_DIR)/storage_test

$(RAFT_TEST_DIR)/storage_async_test: $(RAFT_TEST_DIR)/storage_async_test.o \
		$(RAFT_STORAGE_OBJS) $(RAFT_URING_OBJS) $(RAFT_CORE_OBJS)
	$(CC) -o $@ $^ $(USER_LDFLAGS) $(RAFT_STORAGE_LIBS) $(RAFT_URING_LIBS)

HOST_TESTS += $(RAFT_TEST_DIR)/storage_async_test

$(RAFT_TEST_DIR)/crash_test: $(RAFT_TEST_DIR)/crash_test.o $(RAFT_STORAGE_OBJS) \
		$(RAFT_SIM_FS_OBJS) $(RAFT_CORE_OBJS)
	$(CC) -o $@ $^ $(USER_LDFLAGS) $(RAFT_STORAGE_LIBS)

HOST_TESTS += $(RAFT_TEST_DIR)/crash_test

$(RAFT_TEST_DIR)/sim_test: $(RAFT_TEST_DIR)/sim_test.o $(RAFT_SIM_OBJS) $(RAFT_STORAGE_OBJS) \
		$(RAFT_SIM_FS_OBJS) $(RAFT_CORE_OBJS)
	$(CC) -o $@ $^ $(USER_LDFLAGS) $(RAFT_STORAGE_LIBS)

HOST_TESTS += $(RAFT_TEST_DIR)/sim_test
