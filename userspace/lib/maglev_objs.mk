# Object list of the Maglev table library, for whoever links it (klbctl,
# klbd, tests, tools). Only := assignments: safe to include more than once.

MAGLEV_OBJS := $(addprefix build/userspace/lib/,maglev.o maglev_backend.o \
	maglev_error.o maglev_perm.o maglev_quota.o maglev_state.o \
	maglev_stats.o maglev_update.o)
