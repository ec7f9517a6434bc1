# The Maglev table library (classic and incremental builds). Link it with
# "include userspace/lib/maglev_objs.mk" and $(MAGLEV_OBJS).

include userspace/lib/maglev_objs.mk
