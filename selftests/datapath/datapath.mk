# The packet path end to end, in the guest: netns topologies, real traffic.
# Several programs, each under the runner's time bound; the lifecycle one
# unloads the module and loads it again, as the programs after it expect.
DATAPATH_TESTS := $(addprefix selftests/datapath/,datapath_test.sh \
	datapath_changes_test.sh datapath_icmp_test.sh datapath_ipvs_test.sh datapath_churn_test.sh \
	datapath_lifecycle_test.sh)
VM_TESTS += $(DATAPATH_TESTS)
$(DATAPATH_TESTS): build/userspace/klbctl/klbctl \
	build/tools/loadgen/klb-loadgen build/tools/loadgen/klb-echo

# The churn test's writer: one process, the apply engine.
include userspace/lib/maglev_objs.mk
build/selftests/datapath/churn: build/selftests/datapath/churn.o \
		build/userspace/lib/libklbclient.a $(MAGLEV_OBJS)
	$(CC) -o $@ $^ $(USER_LDFLAGS) -lmnl $(MAGLEV_LDLIBS)
selftests/datapath/datapath_churn_test.sh: build/selftests/datapath/churn
