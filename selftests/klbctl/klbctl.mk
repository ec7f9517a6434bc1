# klbctl against the real module, in the guest. The script needs the binary.
VM_TESTS += selftests/klbctl/klbctl_test.sh
selftests/klbctl/klbctl_test.sh: build/userspace/klbctl/klbctl
