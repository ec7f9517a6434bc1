# The klb netlink client library, shared by klbctl and klbd.
KLBCLIENT_OBJS := build/userspace/lib/nl.o build/userspace/lib/klb_client.o \
	build/userspace/lib/klb_idset.o
KLBCLIENT_LIB := build/userspace/lib/libklbclient.a
KLBCLIENT_LDLIBS := -lmnl

$(KLBCLIENT_LIB): $(KLBCLIENT_OBJS)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

BINS += $(KLBCLIENT_LIB)
