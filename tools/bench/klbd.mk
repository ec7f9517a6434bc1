# klbd's cluster benchmark: commit-to-kernel latency on three gateways,
# leader loss to new leader, configuration throughput, in the guest (see
# tools/bench/klbd.sh). klbd-bench is its timing client.
include userspace/lib/maglev_objs.mk

build/tools/bench/klbd-bench: build/tools/bench/klbd-bench.o \
		build/userspace/lib/klbd_proto.o build/userspace/lib/libklbclient.a \
		$(MAGLEV_OBJS)
	$(CC) -o $@ $^ $(USER_LDFLAGS) $(KLBCLIENT_LDLIBS) $(MAGLEV_LDLIBS)

BINS += build/tools/bench/klbd-bench
BENCHES += tools/bench/klbd-vm.sh
