# The netlink fuzzer (selftests/nlfuzz/): requests built from the family's
# YNL spec, turned into C tables at build time (gen_spec.py writes
# klb_spec.h, never committed). Run as root in the guest with klb.ko loaded.

NLFUZZ_DIR := build/selftests/nlfuzz
NLFUZZ_SPEC := Documentation/netlink/specs/klb.yaml
NLFUZZ_OBJS := $(addprefix $(NLFUZZ_DIR)/,nlfuzz.o msg.o worker.o chaos.o \
	regress.o) build/selftests/api/api_nl.o build/selftests/api/api_klb.o

$(NLFUZZ_DIR)/klb_spec.h: selftests/nlfuzz/gen_spec.py $(NLFUZZ_SPEC)
	@mkdir -p $(@D)
	python3 selftests/nlfuzz/gen_spec.py $(NLFUZZ_SPEC) $@

$(NLFUZZ_DIR)/%.o: USER_CFLAGS += -Iselftests/nlfuzz -I$(NLFUZZ_DIR) -Iselftests/api
# Named, not a pattern: a pattern rule without a recipe adds no prerequisite.
$(filter $(NLFUZZ_DIR)/%,$(NLFUZZ_OBJS)): | $(NLFUZZ_DIR)/klb_spec.h

$(NLFUZZ_DIR)/nlfuzz: $(NLFUZZ_OBJS)
	$(CC) -o $@ $^ $(USER_LDFLAGS) -pthread -lmnl

VM_TESTS += $(NLFUZZ_DIR)/nlfuzz
