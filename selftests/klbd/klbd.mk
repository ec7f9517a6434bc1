# klbd in the guest: three gateways in three network namespaces.
VM_TESTS += selftests/klbd/cluster_test.sh
selftests/klbd/cluster_test.sh: build/userspace/klbctl/klbctl \
	build/userspace/klbd/klbd
# Health checks and failover, with klb-echo backends.
VM_TESTS += selftests/klbd/health_test.sh
selftests/klbd/health_test.sh: build/userspace/klbctl/klbctl \
	build/userspace/klbd/klbd build/tools/loadgen/klb-echo
# Adding and removing gateways on a running cluster.
VM_TESTS += selftests/klbd/membership_test.sh
selftests/klbd/membership_test.sh: build/userspace/klbctl/klbctl \
	build/userspace/klbd/klbd
# klbctl restore through klbd: 50 services x 20 backends, three gateways.
VM_TESTS += selftests/klbd/restore_test.sh
selftests/klbd/restore_test.sh: build/userspace/klbctl/klbctl \
	build/userspace/klbd/klbd
# klbctl monitor with klbd's events: verdicts, failover, leader, limits.
VM_TESTS += selftests/klbd/monitor_test.sh
selftests/klbd/monitor_test.sh: build/userspace/klbctl/klbctl \
	build/userspace/klbd/klbd build/tools/loadgen/klb-echo
# The https, dns and exec checks, on one gateway (openssl, python3).
VM_TESTS += selftests/klbd/health_kinds_test.sh
selftests/klbd/health_kinds_test.sh: build/userspace/klbctl/klbctl \
	build/userspace/klbd/klbd
# check tcp via-vip: SYNs through the tunnel to the VIP (klb-echo).
VM_TESTS += selftests/klbd/via_vip_test.sh
selftests/klbd/via_vip_test.sh: build/userspace/klbctl/klbctl \
	build/userspace/klbd/klbd build/tools/loadgen/klb-echo
# The Prometheus endpoint, with traffic from klb-loadgen (promtool, curl).
VM_TESTS += selftests/klbd/metrics_test.sh
selftests/klbd/metrics_test.sh: build/userspace/klbctl/klbctl \
	build/userspace/klbd/klbd build/tools/loadgen/klb-echo \
	build/tools/loadgen/klb-loadgen
# Leases: backends that register themselves over HTTP (curl) and klbctl.
VM_TESTS += selftests/klbd/lease_test.sh
selftests/klbd/lease_test.sh: build/userspace/klbctl/klbctl \
	build/userspace/klbd/klbd
# Bootstrap services from klbd.conf: once, the operator's deletions stick.
VM_TESTS += selftests/klbd/bootstrap_test.sh
selftests/klbd/bootstrap_test.sh: build/userspace/klbctl/klbctl \
	build/userspace/klbd/klbd
# The leader's klbd dies: a new leader long before the election timeout.
VM_TESTS += selftests/klbd/leader_loss_test.sh
selftests/klbd/leader_loss_test.sh: build/userspace/klbctl/klbctl \
	build/userspace/klbd/klbd

# Host-side: the configuration parser, the peer frames and handshake, the
# replicated state, the health verdicts, the save format's reader (its
# bootstrap services) (kselftest harness).
include userspace/lib/maglev_objs.mk
include userspace/klbd/objs.mk

KLBD_TEST_DIR := build/selftests/klbd
KLBD_TESTS := config_test frame_test state_test health_test member_test \
	      event_test replace_test dirty_test save_parse_test

$(KLBD_TEST_DIR)/%.o: | build/ksft/kselftest_harness.h
# The harness's FIXTURE_SETUP/TEARDOWN define functions without prototypes.
$(KLBD_TEST_DIR)/%.o: USER_CFLAGS += -Wno-missing-prototypes

$(addprefix $(KLBD_TEST_DIR)/,$(KLBD_TESTS)): $(KLBD_TEST_DIR)/%: \
		$(KLBD_TEST_DIR)/%.o $(KLBD_CORE_OBJS) \
		build/userspace/lib/libklbclient.a $(MAGLEV_OBJS)
	$(CC) -o $@ $^ $(USER_LDFLAGS) $(KLBD_LDLIBS) $(KLBCLIENT_LDLIBS) $(MAGLEV_LDLIBS)

HOST_TESTS += $(addprefix $(KLBD_TEST_DIR)/,$(KLBD_TESTS))

# The systemd unit, checked by systemd-analyze against the built binary.
HOST_TESTS += selftests/klbd/unit_test.sh
selftests/klbd/unit_test.sh: build/userspace/klbd/klbd

# The example klbd.conf that install and the packages ship passes
# --check-config.
HOST_TESTS += selftests/klbd/example_config_test.sh
selftests/klbd/example_config_test.sh: build/userspace/klbd/klbd
