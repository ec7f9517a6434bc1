# The packet path end to end, in the guest: netns topologies, real traffic.
VM_TESTS += selftests/datapath/datapath_test.sh
selftests/datapath/datapath_test.sh: build/userspace/klbctl/klbctl \
	build/tools/loadgen/klb-loadgen build/tools/loadgen/klb-echo
