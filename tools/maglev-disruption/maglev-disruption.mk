# maglev-disruption: entries moved and balance, classic rebuild vs
# incremental update, for a given N, M, weights and change.

include userspace/lib/maglev_objs.mk

MAGLEV_DISRUPTION_DIR := build/tools/maglev-disruption

$(MAGLEV_DISRUPTION_DIR)/%.o: USER_CFLAGS += -Itools

$(MAGLEV_DISRUPTION_DIR)/maglev-disruption: \
		$(MAGLEV_DISRUPTION_DIR)/maglev-disruption.o \
		$(MAGLEV_DISRUPTION_DIR)/experiment.o $(MAGLEV_OBJS)
	$(CC) -o $@ $^ $(USER_LDFLAGS)

BINS += $(MAGLEV_DISRUPTION_DIR)/maglev-disruption
