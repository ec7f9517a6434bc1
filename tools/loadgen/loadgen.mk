# klb-loadgen and klb-echo: traffic for tests, benchmarks and the demo,
# and the backend that answers it with its identity.

LOADGEN_DIR := $(O)/tools/loadgen

LOADGEN_OBJS := $(addprefix $(LOADGEN_DIR)/,loadgen.o client.o report.o \
	stats.o hist.o addr.o ring.o)

$(LOADGEN_DIR)/klb-loadgen: $(LOADGEN_OBJS)
	$(CC) -o $@ $^ $(USER_LDFLAGS) -luring -ljson-c -lm

BINS += $(LOADGEN_DIR)/klb-loadgen

ECHO_OBJS := $(addprefix $(LOADGEN_DIR)/,echo.o echo_server.o addr.o ring.o)

$(LOADGEN_DIR)/klb-echo: $(ECHO_OBJS)
	$(CC) -o $@ $^ $(USER_LDFLAGS) -luring

BINS += $(LOADGEN_DIR)/klb-echo

# On loopback only; the script needs both programs.
HOST_TESTS += tools/loadgen/loadgen_test.sh
tools/loadgen/loadgen_test.sh: $(LOADGEN_DIR)/klb-loadgen $(LOADGEN_DIR)/klb-echo

# The tools' own ceiling on loopback (Documentation/loadgen.md).
BENCHES += tools/loadgen/loadgen_bench.sh
