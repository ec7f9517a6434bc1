# maglev-bench: the Maglev library's entries moved, balance and build and
# update times (make bench); --one for callgrind instruction counts.

include userspace/lib/maglev_objs.mk

build/tools/bench/maglev-bench.o: USER_CFLAGS += -Itools

build/tools/bench/maglev-bench: build/tools/bench/maglev-bench.o \
		build/tools/maglev-disruption/experiment.o $(MAGLEV_OBJS)
	$(CC) -o $@ $^ $(USER_LDFLAGS)

BINS += build/tools/bench/maglev-bench
BENCHES += build/tools/bench/maglev-bench
