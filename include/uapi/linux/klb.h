/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * klb: generic netlink API of the klb load balancer.
 *
 * Family name "klb" (KLB_GENL_NAME), version KLB_GENL_VERSION. The family is
 * per network namespace: every object below lives in the netns of the socket
 * that talks to it, and nothing is shared between namespaces. Loading klb.ko
 * is enough: the family autoloads the module ("genl-family-klb" alias).
 *
 * ------------------------------------------------------------------------
 * Objects
 * ------------------------------------------------------------------------
 *
 * A service is a virtual service: (protocol, VIP, port), with how it picks
 * and reaches backends. A backend is one real server of one service. A
 * service that uses Maglev ("maglev", "maglev-bounded") also has a table:
 * M backend ids, computed in userspace and pushed down; the kernel never
 * builds a table, it validates and publishes one.
 *
 * Everything the fast path reads about a service (its settings, its backend
 * set and its table) is one immutable snapshot, replaced as a whole with RCU:
 * a packet sees the old snapshot or the new one, never a mix. Every change
 * to a service makes a new snapshot and bumps the service's version
 * (KLB_SVC_A_VERSION), which every reply about that service carries.
 * A change that pushes no table shares the published table: it costs
 * memory in proportion to the service's backends, not to its table size
 * or to its largest backend id.
 *
 * Service keys:  KLB_SVC_A_PROTO, KLB_SVC_A_FAMILY, KLB_SVC_A_ADDR,
 *                KLB_SVC_A_PORT. All four name a service.
 * Backend keys:  KLB_BE_A_FAMILY, KLB_BE_A_ADDR, KLB_BE_A_PORT, within a
 *                service. The backend id (KLB_BE_A_ID) is the name the table
 *                uses; it is chosen by userspace when the backend is created
 *                so that every gateway given the same configuration holds
 *                byte-identical tables, and never changes afterwards.
 *
 * ------------------------------------------------------------------------
 * Attribute tree (types as in the kernel's netlink policy)
 * ------------------------------------------------------------------------
 *
 * KLB_A_SERVICE                    nested
 *   KLB_SVC_A_PROTO                u8    IPPROTO_TCP (6) or IPPROTO_UDP (17)
 *   KLB_SVC_A_FAMILY               u16   AF_INET or AF_INET6
 *   KLB_SVC_A_ADDR                 binary, 4 bytes (AF_INET) or 16 (AF_INET6),
 *                                  network byte order
 *   KLB_SVC_A_PORT                 be16  1..65535
 *   KLB_SVC_A_SCHED                u8    enum klb_sched; default maglev
 *   KLB_SVC_A_FWD                  u8    enum klb_fwd; default nat
 *   KLB_SVC_A_TABLE_SIZE           u32   M, prime, 7..max_table_size
 *                                        (module parameter, default and
 *                                        upper bound 1048573); default 16381
 *   KLB_SVC_A_BOUND                u32   maglev-bounded load factor in
 *                                        percent of the mean, 100..1000
 *                                        (KLB_BOUND_MIN..KLB_BOUND_MAX);
 *                                        default 125 (KLB_BOUND_DEFAULT)
 *   KLB_SVC_A_SEED                 binary, 16 bytes: the 128-bit hash seed
 *                                  of flow hashing and of the table. A
 *                                  SERVICE_NEW without one gets a random
 *                                  seed (get_random_bytes), so that nobody
 *                                  can predict which backend a flow hits;
 *                                  gateways that must agree on tables are
 *                                  given the same explicit seed. Only
 *                                  reported to callers with CAP_NET_ADMIN.
 *   KLB_SVC_A_FLAGS                u32   mask of enum klb_service_flags, of
 *                                        the bits KLB_INFO_A_SERVICE_FLAGS
 *                                        reports
 *   KLB_SVC_A_VERSION              u64   read only: the snapshot's version
 *   KLB_SVC_A_BACKENDS             u32   read only: number of backends
 *   KLB_SVC_A_TABLE_LOADED         u8    read only: 1 when a table is
 *                                        published (table size entries)
 *
 * KLB_A_BACKEND                    nested
 *   KLB_BE_A_ID                    u16   0..65534 (KLB_BACKEND_ID_MAX),
 *                                        unique within the service
 *   KLB_BE_A_FAMILY                u16   must equal the service's family
 *   KLB_BE_A_ADDR                  binary, 4 or 16 bytes as KLB_SVC_A_ADDR
 *   KLB_BE_A_PORT                  be16  1..65535
 *   KLB_BE_A_WEIGHT                u32   0..65535 (KLB_WEIGHT_MAX); default
 *                                        1 (KLB_WEIGHT_DEFAULT)
 *   KLB_BE_A_STATE                 u8    enum klb_backend_state; default up
 *
 * KLB_A_TABLE                      nested
 *   KLB_TBL_A_SIZE                 u32   required: M; must equal the
 *                                        service's table size
 *   KLB_TBL_A_OFFSET               u32   index of the chunk's first entry;
 *                                        default 0
 *   KLB_TBL_A_ENTRIES              binary, required: array of u16 backend
 *                                  ids in host byte order, or
 *                                  KLB_BACKEND_ID_NONE for an empty slot;
 *                                  1 to KLB_INFO_A_TABLE_CHUNK_MAX entries
 *                                  (one attribute is < 64 KiB)
 *
 * KLB_A_GENERATION                 u64   the netns's config generation
 * KLB_A_GENERATION_EXPECT          u64   compare-and-swap guard, see below
 * KLB_A_TXN                        u32   transaction id, see below
 * KLB_A_INFO                       nested, read only (KLB_CMD_INFO_GET)
 *   KLB_INFO_A_MAX_SERVICES        u32   module parameter max_services
 *   KLB_INFO_A_MAX_BACKENDS        u32   module parameter max_backends, or
 *                                        65535 (KLB_BACKEND_ID_MAX + 1) if
 *                                        it is set higher: the limit in force
 *   KLB_INFO_A_MAX_TABLE_SIZE      u32   module parameter max_table_size, or
 *                                        KLB_TABLE_SIZE_LIMIT if it is set
 *                                        higher
 *   KLB_INFO_A_MAX_TXNS            u32   module parameter max_txns
 *   KLB_INFO_A_SERVICES            u32   services in this netns
 *   KLB_INFO_A_TXNS                u32   open transactions in this netns
 *   KLB_INFO_A_SERVICE_LIMIT_HITS  u64   writes refused by max_services
 *   KLB_INFO_A_BACKEND_LIMIT_HITS  u64   writes refused by max_backends
 *   KLB_INFO_A_TABLE_LIMIT_HITS    u64   writes refused by max_table_size
 *   KLB_INFO_A_TXN_LIMIT_HITS      u64   KLB_CMD_TXN_BEGIN refused by max_txns
 *   KLB_INFO_A_CHUNK_LIMIT_HITS    u64   TABLE_SET refused for a chunk of
 *                                        more than the chunk limit
 *   KLB_INFO_A_SERVICE_FLAGS       u32   the KLB_SVC_A_FLAGS bits this kernel
 *                                        knows (KLB_SVC_F_ALL is only what
 *                                        the client's header knew)
 *   KLB_INFO_A_TABLE_CHUNK_MAX     u32   most entries in one TABLE_SET chunk
 *                                        (KLB_TABLE_CHUNK_MAX is the value
 *                                        of the client's header)
 *   KLB_INFO_A_MAX_MEMORY          u64   module parameter max_netns_memory:
 *                                        bytes of configuration the netns
 *                                        may make the module hold
 *   KLB_INFO_A_MEMORY              u64   bytes held now: snapshots (with
 *                                        their backend slots), tables,
 *                                        scheduler wheels and backends,
 *                                        published, staged in transactions
 *                                        or replaced and not yet freed (a
 *                                        grace period later; a removed
 *                                        backend after the flow table's
 *                                        next sweep, seconds; the per-CPU
 *                                        counters of backends one
 *                                        BACKEND_NEW made are held in
 *                                        blocks of up to a page per CPU,
 *                                        until the block's last backend
 *                                        is freed)
 *   KLB_INFO_A_MEMORY_LIMIT_HITS   u64   writes refused by max_netns_memory
 *   KLB_INFO_A_BACKEND_BATCH_MAX   u32   most KLB_A_BACKEND nests in one
 *                                        BACKEND_NEW (KLB_BACKEND_BATCH_MAX
 *                                        is the value of the client's header)
 *   KLB_INFO_A_BATCH_LIMIT_HITS    u64   BACKEND_NEW refused for more
 *                                        backends than that
 *
 * INFO is the source of truth for limits: a client plans with what it
 * reports, not with the constants of the header it was built with.
 *
 * Unknown attributes and trailing garbage are rejected (strict validation).
 * Each command takes exactly the attributes listed for it under Commands
 * below, plus KLB_A_GENERATION, KLB_A_GENERATION_EXPECT and KLB_A_TXN where
 * the sections on them say so. Anything else is refused with EINVAL and an
 * extack naming the attribute, never ignored: at the top level, and inside
 * a nest that only names an object (a service's keys, a backend's keys and
 * id), where a setting is refused too.
 * So is a request whose genetlink header has a non-zero reserved field, or
 * whose nlmsg_flags hold anything but NLM_F_REQUEST, NLM_F_ACK, NLM_F_ECHO
 * and NLM_F_DUMP (EINVAL, checked by the genetlink core for every command).
 * The u64 attributes the kernel sends are aligned with KLB_A_PAD,
 * KLB_SVC_A_PAD and KLB_INFO_A_PAD, which carry nothing; requests must not
 * contain them.
 *
 * ------------------------------------------------------------------------
 * Commands
 * ------------------------------------------------------------------------
 *
 * Writes need CAP_NET_ADMIN in the user namespace that owns the socket's
 * netns (GENL_UNS_ADMIN_PERM); anyone else gets EPERM. Reads (the *_GET
 * commands) are open. Every command but the GETs and KLB_CMD_TXN_BEGIN
 * answers with an ACK only: send it with NLM_F_ACK.
 *
 * KLB_CMD_SERVICE_NEW    KLB_A_SERVICE: keys, optional settings.
 *                        EEXIST if it exists, ENOSPC at max_services.
 *                        A new service has no backends and no table: it
 *                        does not steer any packet until it has both.
 * KLB_CMD_SERVICE_SET    KLB_A_SERVICE: keys and the settings to change.
 *                        Changing the table size or the seed drops the table
 *                        (it was built for the old ones) unless the change
 *                        is part of a transaction that pushes a new table
 *                        after it. Changing the scheduler to one that does
 *                        not use a table (wlc, wrr, rr) drops it too.
 * KLB_CMD_SERVICE_DEL    KLB_A_SERVICE: keys. Deletes its backends and table.
 * KLB_CMD_SERVICE_GET    doit: KLB_A_SERVICE keys, replies with the service.
 *                        dumpit: no attributes; every service of the
 *                        netns, oldest first
 *                        (until 2^32 services were created in it),
 *                        one message each. A dump takes several reads
 *                        (parts); a service that exists from the first
 *                        part to the last is reported exactly once, one
 *                        created or deleted meanwhile at most once. When
 *                        anything it reports (a service, its settings,
 *                        the generation) changed between parts, a message
 *                        after the change carries NLM_F_DUMP_INTR (or the
 *                        NLMSG_DONE does): dump again for a consistent view.
 *
 * KLB_CMD_BACKEND_NEW    KLB_A_SERVICE keys, KLB_A_BACKEND with the id, the
 *                        keys and optional weight and state; or several
 *                        KLB_A_BACKEND (at most KLB_INFO_A_BACKEND_BATCH_MAX,
 *                        E2BIG above it), a service's whole list in one
 *                        message: all are added or none (staged in a
 *                        transaction, a failed request takes its own
 *                        backends out again). EEXIST for a duplicate
 *                        address:port or id, within the request too (extack
 *                        names the nest), ENOSPC at max_backends. The event
 *                        of a request of several backends names none.
 * KLB_CMD_BACKEND_SET    KLB_A_SERVICE keys, KLB_A_BACKEND keys and the
 *                        weight and/or state to change. The id cannot change.
 *                        SET, DEL and GET name one backend: a second
 *                        KLB_A_BACKEND is refused (EINVAL).
 * KLB_CMD_BACKEND_DEL    KLB_A_SERVICE keys, KLB_A_BACKEND keys. EBUSY while
 *                        the published table still names the backend: push
 *                        a table without it first, or delete it and push the
 *                        new table in one transaction.
 * KLB_CMD_BACKEND_GET    doit: service and backend keys. dumpit: KLB_A_SERVICE
 *                        keys only; every backend of that service, in id
 *                        order, from one snapshot (each message carries
 *                        the service's KLB_SVC_A_VERSION), see Dumps.
 *
 * KLB_CMD_TABLE_SET      KLB_A_SERVICE keys, KLB_A_TABLE. Only for Maglev
 *                        schedulers (EOPNOTSUPP otherwise). Outside a
 *                        transaction the message must carry the whole table
 *                        (offset 0, M entries), which fits one attribute for
 *                        M <= the chunk limit; larger tables go through
 *                        a transaction. Every entry must name a backend of
 *                        the service (ENOENT otherwise, extack names the
 *                        slot). An entry may be KLB_BACKEND_ID_NONE, an empty
 *                        slot: a flow that hashes there goes to its next
 *                        candidate (include/klb/maglev.h), and a table of
 *                        nothing else steers nothing. Backends that are
 *                        down, draining or have weight 0 may appear; the
 *                        kernel does not judge a table, it only checks that
 *                        it is well formed.
 * KLB_CMD_TABLE_DEL      KLB_A_SERVICE keys. Removes the table.
 * KLB_CMD_TABLE_GET      dumpit: KLB_A_SERVICE keys required. The published
 *                        table in chunks of at most KLB_INFO_A_TABLE_CHUNK_MAX
 *                        entries, in slot order, from one snapshot (each
 *                        message carries KLB_SVC_A_VERSION), see Dumps.
 *                        ENOENT when the service has no table.
 *
 * KLB_CMD_FLUSH          No attributes. Deletes every service of the netns
 *                        and aborts every open transaction.
 * KLB_CMD_GENERATION_GET No attributes. Replies with KLB_A_GENERATION.
 * KLB_CMD_GENERATION_SET KLB_A_GENERATION: the new value (any u64).
 * KLB_CMD_INFO_GET       No attributes. Replies with KLB_A_GENERATION and
 *                        KLB_A_INFO.
 *
 * KLB_CMD_TXN_BEGIN      KLB_A_SERVICE keys. Replies with KLB_A_TXN, the id
 *                        of a private copy of the service's snapshot. ENOSPC
 *                        at max_txns open transactions in the netns.
 * KLB_CMD_TXN_COMMIT     KLB_A_TXN. Validates the staged snapshot as a whole
 *                        and publishes it atomically.
 * KLB_CMD_TXN_ABORT      KLB_A_TXN. Discards it.
 *
 * KLB_CMD_FLOW_FLUSH     Optional KLB_A_SERVICE keys: ends the flows of that
 *                        service (of every service without). Their next
 *                        packets are scheduled afresh. ACK only.
 * KLB_CMD_STATS_GET      dumpit, optional KLB_A_SERVICE keys (ENOENT if no
 *                        such service): for each service (or that one) a
 *                        message with KLB_A_SERVICE (keys, version) and
 *                        KLB_A_STATS, then one per backend with KLB_A_BACKEND
 *                        (keys, id, weight, state) and its KLB_A_STATS.
 *                        Counters are per CPU, summed when read: a dump
 *                        taken under traffic is a moving picture. Open to
 *                        everyone, like the other GETs.
 * KLB_CMD_FLOW_GET       dumpit, optional KLB_A_SERVICE keys: the flow
 *                        table (or that service's flows), one message per
 *                        flow with KLB_A_SERVICE (keys), KLB_A_BACKEND (id
 *                        and keys) and KLB_A_FLOW. Read without any lock:
 *                        flows made or ended during the dump may be missed
 *                        or reported twice (a sample, not a snapshot).
 *
 * INFO_GET also reports the flow table: KLB_INFO_A_MAX_FLOWS (u32, module
 * parameter max_flows), KLB_INFO_A_FLOWS (u32, flows now),
 * KLB_INFO_A_FLOW_LIMIT_HITS (u64, flows refused an entry at the limit:
 * NAT flows are then dropped, tunnel flows go without an entry),
 * KLB_INFO_A_FLOW_EVICTIONS (u64, half-open flows that made room for an
 * established one) and KLB_INFO_A_FLOW_ENTRY_BYTES4/6 (u32, the memory of
 * one entry, IPv4 and IPv6). KLB_CMD_FLUSH also ends every flow.
 *
 * ------------------------------------------------------------------------
 * Dumps
 * ------------------------------------------------------------------------
 *
 * A dump takes several reads (parts) and the kernel keeps nothing of the
 * service between them: a reader that never reads on pins no memory and
 * delays no writer. Each part of a backend or table dump finds the service
 * again; if its version changed since the first part (a write, or the
 * service was deleted), the dump ends there and its NLMSG_DONE carries
 * NLM_F_DUMP_INTR: what was received is a prefix of the old snapshot, dump
 * again. A dump without NLM_F_DUMP_INTR is one whole snapshot. The
 * service dump is described under KLB_CMD_SERVICE_GET.
 *
 * ------------------------------------------------------------------------
 * Transactions: changing a service atomically, and tables over 64 KiB
 * ------------------------------------------------------------------------
 *
 * SERVICE_SET, BACKEND_NEW/SET/DEL and TABLE_SET/DEL carrying KLB_A_TXN
 * change the transaction's private snapshot instead of the published one;
 * packets keep using the published snapshot until KLB_CMD_TXN_COMMIT swaps
 * the whole staged snapshot in one RCU pointer update. Within a transaction:
 *
 *  - a table is sent as a sequence of TABLE_SET messages whose chunks cover
 *    [0, M) in order: each chunk's offset must be where the previous one
 *    ended (EINVAL otherwise); a chunk at offset 0 restarts the table;
 *  - entries are checked against the staged backend set at commit, so a
 *    transaction may delete a backend and push the table that no longer
 *    names it, in either order;
 *  - COMMIT fails with EINVAL if a table was started but not completed,
 *    with ENOENT if the table names a missing backend, and with ESTALE if
 *    the service changed since TXN_BEGIN (someone else committed first) or
 *    was deleted. A failed commit ends the transaction and changes nothing.
 *
 * A transaction belongs to the socket that began it (other sockets get
 * ENOENT for its id) and is aborted when that socket closes. Without
 * KLB_A_TXN each write is its own transaction, applied at once.
 *
 * ------------------------------------------------------------------------
 * Config generation: compare-and-swap between writers
 * ------------------------------------------------------------------------
 *
 * Each netns has a u64 config generation, reported by GENERATION_GET,
 * INFO_GET and in every dump message. klbd sets it to the Raft index of
 * the configuration it applied; klbctl uses it to detect concurrent writers.
 *
 * Every write command (all but GETs and TXN_BEGIN/ABORT, and staged writes
 * inside a transaction) may carry:
 *   KLB_A_GENERATION_EXPECT  the write is applied only if the generation
 *                            equals this value; otherwise ESTALE and nothing
 *                            changes (the cookie gives the current
 *                            value). Writers serialize in the kernel, so the
 *                            check and the write are one atomic step.
 *   KLB_A_GENERATION         the generation after the write. Without it, a
 *                            successful write adds one to the generation.
 * For a transaction these go on KLB_CMD_TXN_COMMIT; a staged write that
 * carries either is refused (EINVAL), and so are the GETs, TXN_BEGIN and
 * TXN_ABORT if they carry them: they write nothing to guard.
 *
 * ------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------
 *
 * Every rejected request changes nothing and carries an extack message
 * naming what is wrong, and the offending attribute where there is one
 * (EPERM excepted: the netlink core refuses those before klb sees them).
 * A dump that cannot start (no such service, no table) reports its errno
 * and message in the NLMSG_DONE that ends it, as netlink does for every
 * dump error. Two errors also carry a u64 cookie (NLMSGERR_ATTR_COOKIE):
 * ESTALE from KLB_A_GENERATION_EXPECT, the current generation; ENOENT from
 * a table entry at commit, the first slot that names no backend.
 *   EINVAL       missing or malformed attribute (wrong type or size, a
 *                flag bit outside KLB_INFO_A_SERVICE_FLAGS, table entries
 *                of an odd or zero byte length), an attribute the command
 *                does not take, address family mismatch (backend
 *                vs service, address length vs family), port 0, M not
 *                prime or below 7, table chunk out of order or of the
 *                wrong length, incomplete table at commit, a BACKEND_SET
 *                or BACKEND_DEL whose id differs from the backend's, a
 *                staged write that names another service than its
 *                transaction's or carries a generation, a transaction id
 *                on a command that cannot be staged
 *   ERANGE       a value outside its range (weight, table size above
 *                max_table_size, bound factor, id, an enum past its last
 *                value), a table chunk of more than the chunk limit
 *                entries, an address or seed longer than 16 bytes
 *   EEXIST       duplicate service, backend address:port or backend id
 *   ENOENT       unknown service, backend or transaction; table entry that
 *                names no backend; TABLE_GET of a service without a table
 *   ENOSPC       a limit (max_services, max_backends, max_txns) is reached,
 *                or a write needs more configuration memory than
 *                max_netns_memory leaves (SERVICE_NEW, any write to a
 *                service, TXN_BEGIN, a chunk that starts a table, and
 *                TXN_COMMIT for the scheduler's wheel)
 *   E2BIG        more KLB_A_BACKEND in one BACKEND_NEW than
 *                KLB_INFO_A_BACKEND_BATCH_MAX (counted in
 *                KLB_INFO_A_BATCH_LIMIT_HITS)
 *   EBUSY        BACKEND_DEL of a backend the published table names
 *   EOPNOTSUPP   a table for a scheduler that does not use one
 *   ESTALE       KLB_A_GENERATION_EXPECT did not match; a transaction's
 *                service changed or disappeared before commit
 *   EPERM        a write without CAP_NET_ADMIN
 *
 * ------------------------------------------------------------------------
 * Notifications
 * ------------------------------------------------------------------------
 *
 * Multicast group "events" (KLB_MCGRP_EVENTS). After every successful write
 * the kernel sends one message whose command is the write's command and
 * which carries KLB_A_GENERATION (the new value) and, where one is
 * concerned, KLB_A_SERVICE (keys and KLB_SVC_A_VERSION; keys alone for
 * a deleted service) and KLB_A_BACKEND (keys and id). Staged writes send
 * nothing; a transaction emits one KLB_CMD_TXN_COMMIT message.
 */

#ifndef _UAPI_LINUX_KLB_H
#define _UAPI_LINUX_KLB_H

#define KLB_GENL_NAME		"klb"
#define KLB_GENL_VERSION	1
#define KLB_MCGRP_EVENTS	"events"

#define KLB_BACKEND_ID_MAX	65534
/* A table entry that names no backend: the flow goes to its next candidate. */
#define KLB_BACKEND_ID_NONE	65535
#define KLB_TABLE_SIZE_DEFAULT	16381
#define KLB_TABLE_SIZE_MIN	7
#define KLB_TABLE_SIZE_LIMIT	1048573
/* The chunk limit of this header's kernel; KLB_INFO_A_TABLE_CHUNK_MAX rules. */
#define KLB_TABLE_CHUNK_MAX	32000
/* Backends in one BACKEND_NEW of this header's kernel; KLB_INFO_A_BACKEND_BATCH_MAX rules. */
#define KLB_BACKEND_BATCH_MAX	1000
#define KLB_BOUND_MIN		100
#define KLB_BOUND_MAX		1000
#define KLB_BOUND_DEFAULT	125
#define KLB_WEIGHT_MAX		65535
#define KLB_WEIGHT_DEFAULT	1
#define KLB_SEED_LEN		16

enum klb_cmd {
	KLB_CMD_UNSPEC,
	KLB_CMD_SERVICE_NEW,
	KLB_CMD_SERVICE_SET,
	KLB_CMD_SERVICE_DEL,
	KLB_CMD_SERVICE_GET,
	KLB_CMD_BACKEND_NEW,
	KLB_CMD_BACKEND_SET,
	KLB_CMD_BACKEND_DEL,
	KLB_CMD_BACKEND_GET,
	KLB_CMD_TABLE_SET,
	KLB_CMD_TABLE_DEL,
	KLB_CMD_TABLE_GET,
	KLB_CMD_FLUSH,
	KLB_CMD_GENERATION_GET,
	KLB_CMD_GENERATION_SET,
	KLB_CMD_INFO_GET,
	KLB_CMD_TXN_BEGIN,
	KLB_CMD_TXN_COMMIT,
	KLB_CMD_TXN_ABORT,
	KLB_CMD_STATS_GET,
	KLB_CMD_FLOW_GET,
	KLB_CMD_FLOW_FLUSH,

	__KLB_CMD_MAX
};

#define KLB_CMD_MAX (__KLB_CMD_MAX - 1)

enum klb_attr {
	KLB_A_UNSPEC,
	KLB_A_SERVICE,
	KLB_A_BACKEND,
	KLB_A_TABLE,
	KLB_A_GENERATION,
	KLB_A_GENERATION_EXPECT,
	KLB_A_TXN,
	KLB_A_INFO,
	KLB_A_PAD,
	KLB_A_STATS,
	KLB_A_FLOW,

	__KLB_A_MAX
};

#define KLB_A_MAX (__KLB_A_MAX - 1)

enum klb_service_attr {
	KLB_SVC_A_UNSPEC,
	KLB_SVC_A_PROTO,
	KLB_SVC_A_FAMILY,
	KLB_SVC_A_ADDR,
	KLB_SVC_A_PORT,
	KLB_SVC_A_SCHED,
	KLB_SVC_A_FWD,
	KLB_SVC_A_TABLE_SIZE,
	KLB_SVC_A_BOUND,
	KLB_SVC_A_SEED,
	KLB_SVC_A_FLAGS,
	KLB_SVC_A_VERSION,
	KLB_SVC_A_BACKENDS,
	KLB_SVC_A_TABLE_LOADED,
	KLB_SVC_A_PAD,

	__KLB_SVC_A_MAX
};

#define KLB_SVC_A_MAX (__KLB_SVC_A_MAX - 1)

enum klb_backend_attr {
	KLB_BE_A_UNSPEC,
	KLB_BE_A_ID,
	KLB_BE_A_FAMILY,
	KLB_BE_A_ADDR,
	KLB_BE_A_PORT,
	KLB_BE_A_WEIGHT,
	KLB_BE_A_STATE,

	__KLB_BE_A_MAX
};

#define KLB_BE_A_MAX (__KLB_BE_A_MAX - 1)

enum klb_table_attr {
	KLB_TBL_A_UNSPEC,
	KLB_TBL_A_SIZE,
	KLB_TBL_A_OFFSET,
	KLB_TBL_A_ENTRIES,

	__KLB_TBL_A_MAX
};

#define KLB_TBL_A_MAX (__KLB_TBL_A_MAX - 1)

enum klb_info_attr {
	KLB_INFO_A_UNSPEC,
	KLB_INFO_A_PAD,
	KLB_INFO_A_MAX_SERVICES,
	KLB_INFO_A_MAX_BACKENDS,
	KLB_INFO_A_MAX_TABLE_SIZE,
	KLB_INFO_A_MAX_TXNS,
	KLB_INFO_A_SERVICES,
	KLB_INFO_A_TXNS,
	KLB_INFO_A_SERVICE_LIMIT_HITS,
	KLB_INFO_A_BACKEND_LIMIT_HITS,
	KLB_INFO_A_TABLE_LIMIT_HITS,
	KLB_INFO_A_TXN_LIMIT_HITS,
	KLB_INFO_A_CHUNK_LIMIT_HITS,
	KLB_INFO_A_SERVICE_FLAGS,
	KLB_INFO_A_TABLE_CHUNK_MAX,
	KLB_INFO_A_MAX_FLOWS,
	KLB_INFO_A_FLOWS,
	KLB_INFO_A_FLOW_LIMIT_HITS,
	KLB_INFO_A_FLOW_EVICTIONS,
	KLB_INFO_A_FLOW_ENTRY_BYTES4,
	KLB_INFO_A_FLOW_ENTRY_BYTES6,
	KLB_INFO_A_MAX_MEMORY,
	KLB_INFO_A_MEMORY,
	KLB_INFO_A_MEMORY_LIMIT_HITS,
	KLB_INFO_A_BACKEND_BATCH_MAX,
	KLB_INFO_A_BATCH_LIMIT_HITS,

	__KLB_INFO_A_MAX
};

#define KLB_INFO_A_MAX (__KLB_INFO_A_MAX - 1)

enum klb_sched {
	KLB_SCHED_MAGLEV,		/* Maglev table lookup */
	KLB_SCHED_MAGLEV_BOUNDED,	/* Maglev candidates, bounded loads */
	KLB_SCHED_WLC,			/* weighted least connections */
	KLB_SCHED_WRR,			/* weighted round robin */
	KLB_SCHED_RR,			/* round robin */

	__KLB_SCHED_MAX
};

#define KLB_SCHED_MAX (__KLB_SCHED_MAX - 1)

enum klb_fwd {
	KLB_FWD_NAT,			/* rewrite the destination */
	KLB_FWD_TUNNEL,			/* IP-in-IP to the backend */

	__KLB_FWD_MAX
};

#define KLB_FWD_MAX (__KLB_FWD_MAX - 1)

enum klb_backend_state {
	KLB_BACKEND_UP,			/* takes new flows */
	KLB_BACKEND_DRAIN,		/* no new flows; existing ones stay */
	KLB_BACKEND_DOWN,		/* gone; flows follow the down policy */

	__KLB_BACKEND_STATE_MAX
};

#define KLB_BACKEND_STATE_MAX (__KLB_BACKEND_STATE_MAX - 1)

enum klb_service_flags {
	/* hash the source address only: a client sticks to one backend */
	KLB_SVC_F_AFFINITY_SRC	= 1 << 0,
	/*
	 * flows of a down backend are dropped instead of re-steered; the
	 * client of a TCP flow gets a reset from the VIP
	 */
	KLB_SVC_F_DOWN_DROP	= 1 << 1,
};

/*
 * The flags this header knows. A kernel may know fewer or more: what it
 * accepts is KLB_INFO_A_SERVICE_FLAGS.
 */
#define KLB_SVC_F_ALL (KLB_SVC_F_AFFINITY_SRC | KLB_SVC_F_DOWN_DROP)

/*
 * Counters of a service or a backend (KLB_A_STATS), u64 each. "in" is the
 * client-to-backend direction, "out" the replies klb translates (NAT).
 */
enum klb_stats_attr {
	KLB_STATS_A_UNSPEC,
	KLB_STATS_A_PAD,
	KLB_STATS_A_PKTS_IN,
	KLB_STATS_A_BYTES_IN,
	KLB_STATS_A_PKTS_OUT,
	KLB_STATS_A_BYTES_OUT,
	KLB_STATS_A_FLOWS_NEW,		/* flows scheduled */
	KLB_STATS_A_FLOWS_ACTIVE,	/* flows in the flow table now */
	KLB_STATS_A_FLOWS_STATELESS,	/* tunnel: no entry, table full */
	KLB_STATS_A_FLOWS_RESTEERED,	/* moved off a down or removed backend */
	KLB_STATS_A_DROP_NO_BACKEND,	/* no backend takes new flows */
	KLB_STATS_A_DROP_DOWN,		/* flow of a down backend, policy drop */
	KLB_STATS_A_DROP_MTU,		/* tunnel: too big, ICMP sent back */
	KLB_STATS_A_DROP_NO_ROUTE,	/* no route to the backend */
	KLB_STATS_A_DROP_ERROR,		/* out of memory, malformed packet */
	KLB_STATS_A_DROP_TABLE_FULL,	/* NAT: no entry for the replies */

	__KLB_STATS_A_MAX
};

#define KLB_STATS_A_MAX (__KLB_STATS_A_MAX - 1)

/* A flow table entry (KLB_A_FLOW), read only. */
enum klb_flow_attr {
	KLB_FLOW_A_UNSPEC,
	KLB_FLOW_A_FAMILY,		/* u16 */
	KLB_FLOW_A_PROTO,		/* u8 */
	KLB_FLOW_A_CLIENT_ADDR,		/* binary, 4 or 16 bytes */
	KLB_FLOW_A_CLIENT_PORT,		/* be16 */
	KLB_FLOW_A_BACKEND_ID,		/* u16 */
	KLB_FLOW_A_STATE,		/* u8, enum klb_flow_state */
	KLB_FLOW_A_EXPIRES_MS,		/* u32, time left before it expires */

	__KLB_FLOW_A_MAX
};

#define KLB_FLOW_A_MAX (__KLB_FLOW_A_MAX - 1)

enum klb_flow_state {
	KLB_FLOW_SYN,			/* TCP: handshake, only a SYN seen */
	KLB_FLOW_ESTABLISHED,		/* TCP: past the handshake */
	KLB_FLOW_CLOSING,		/* TCP: FIN seen */
	KLB_FLOW_CLOSED,		/* TCP: RST seen */
	KLB_FLOW_UDP,			/* UDP */

	__KLB_FLOW_STATE_MAX
};

#define KLB_FLOW_STATE_MAX (__KLB_FLOW_STATE_MAX - 1)

#endif /* _UAPI_LINUX_KLB_H */
