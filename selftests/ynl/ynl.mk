# The YNL spec of the family (Documentation/netlink/specs/klb.yaml): checked
# against YNL's genetlink schema and the UAPI header on the host, and used
# by YNL's own client against the real module in the guest. YNL comes from
# linux-source-6.12 at build time (tools/ynl-files.sh), never committed.

YNL_DIR := build/ynl

$(YNL_DIR)/cli.py:
	tools/ynl-files.sh $(YNL_DIR)

HOST_TESTS += selftests/ynl/spec_test.py
VM_TESTS += selftests/ynl/ynl_test.py
selftests/ynl/spec_test.py selftests/ynl/ynl_test.py: $(YNL_DIR)/cli.py
