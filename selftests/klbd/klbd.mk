# klbd in the guest: three gateways in three network namespaces.
VM_TESTS += selftests/klbd/cluster_test.sh
selftests/klbd/cluster_test.sh: build/userspace/klbctl/klbctl \
	build/userspace/klbd/klbd
