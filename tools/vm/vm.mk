# tools/vm: the qemu guest the kernel tests run in. tools/vm/run builds and
# caches what it boots (build/vm/) by itself; this only names its own tests,
# which boot the guest eight times and so stay out of 'make check'.

vm-selftest:
	tools/vm/selftest.sh

.PHONY: vm-selftest
