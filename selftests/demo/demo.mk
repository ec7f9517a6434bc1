# The demo's scenario, short and non-interactive, its outcomes as TAP.
VM_TESTS += selftests/demo/demo_test.sh
selftests/demo/demo_test.sh: tools/demo/demo.py build/userspace/klbctl/klbctl \
	build/userspace/klbd/klbd build/tools/loadgen/klb-echo \
	build/tools/loadgen/klb-loadgen
