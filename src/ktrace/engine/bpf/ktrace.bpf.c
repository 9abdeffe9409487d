// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only)
/*
 * ktrace's recording engine in the kernel: the ktrace facility as a BPF program.
 *
 * The map "procs" is the kernel's p_traceflag: which processes are traced,
 * for which record types.  Tracepoints write whole FreeBSD amd64 v1 records
 * (ktrace.h) for the traced ones.  Records are first staged per CPU, in a
 * batch of one process's records, and each batch goes to the ring buffer as
 * one sample, so that user space moves them to the trace file in bulk.  A
 * batch is flushed when another process's record comes, when it is full,
 * when the thread leaves the CPU (so a thread's records stay in order when it
 * migrates), at process exit, and on demand from user space (ktr_flush, run
 * on each CPU).  A batch that finds no room in the ring is dropped: its
 * records are counted and the process's next record carries KTR_DROP.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "ktrace.h"
#include "ktrace_plan.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define MAX_DATA	16384		/* largest data part of one record */
#define STAGE_LIMIT	32768		/* a batch never grows past this */
#define STAGE_BUF	(STAGE_LIMIT + 2 * MAX_DATA + 256)	/* verifier-provable room */
#define MAX_RECORD	(STAGE_LIMIT - sizeof(struct ktr_batch))
#define MAX_STRING	4096		/* longest path or string read */
#define MAX_IOVECS	64		/* iovecs gathered into one GIO */
#define MAX_CASES	16

#define X86_PF_WRITE	(1 << 1)
#define X86_PF_INSTR	(1 << 4)
#define SIGSEGV		11
#define SIGBUS		7
#define SIGSTOP		19
#define SEGV_MAPERR	1
#define NR_GETCWD	79

static const __u8 zeros[CAP_PATH_MAX] = {};

/* Each in a section of its own, so that the loader finds it at offset 0 */
const volatile struct ktr_config ktr_cfg SEC(".rodata.cfg") = {};
struct ktr_live ktr_live SEC(".data.live") = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 << 20);		/* the loader sets the real size */
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);			/* pid in ktrace's namespace */
	__type(value, struct ktr_proc);
} procs SEC(".maps");

/*
 * A byte per pid: may it be in procs?  Every syscall of every process on the
 * machine asks, so this is a plain load rather than a hash lookup.  Bytes
 * (not bits) because the program and the loader both store them.
 */
#define MAX_PIDS	(1 << 22)	/* PID_MAX_LIMIT */
__u8 maybe_traced[MAX_PIDS] SEC(".bss.pids");

static __always_inline struct ktr_proc *proc_of(__u32 pid)
{
	if (pid >= MAX_PIDS || !maybe_traced[pid])
		return NULL;
	return bpf_map_lookup_elem(&procs, &pid);
}

static __always_inline void mark_traced(__u32 pid)
{
	if (pid < MAX_PIDS)
		maybe_traced[pid] = 1;
}

static __always_inline void forget_proc(__u32 pid)
{
	if (pid < MAX_PIDS)
		maybe_traced[pid] = 0;
	bpf_map_delete_elem(&procs, &pid);
}

/* What a traced thread is doing (task storage: freed with the task) */
struct ktr_thread {
	__u64	args[6];
	__s64	nr;
	__u32	in_syscall;
	__u32	path_retry;		/* PATH args unreadable at entry: re-read at exit */
	__u32	fault_pending;		/* a PFLT waits for its PRET */
	__u32	comm_age;		/* events left before comm is read again */
	char	comm[16];		/* the thread's name, cached */
};

/*
 * The thread name is read again after COMM_EVENTS events, and at once after
 * exec and prctl(PR_SET_NAME); a rename through /proc/PID/comm shows within
 * COMM_EVENTS records.
 */
#define COMM_EVENTS	64
#define NR_PRCTL	157
#define NR_PWRITEV2	328
/* read, write, pread64, pwrite64, readv, writev (preadv* and pwritev* above 63 aside) */
#define FILE_IO_CALLS	((1ull << 0) | (1ull << 1) | (1ull << 17) | (1ull << 18) | \
			 (1ull << 19) | (1ull << 20))

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ktr_thread);
} threads SEC(".maps");

static __always_inline struct ktr_thread *thread_of(struct task_struct *task, int create)
{
	return bpf_task_storage_get(&threads, task, 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

/* One CPU's batch in the making */
struct stage {
	__u32	pos;			/* bytes used in buf, batch header included */
	__u32	pid;
	__u32	nrec;
	__u32	flags;
	__u32	busy;			/* a program is writing here (see ktr_flush) */
	__u32	pad;
	__s64	sec;			/* a second of CLOCK_REALTIME ... */
	__s64	sec_ns;			/* ... and where it starts, in ns: saves divisions */
	/* the event being recorded, for the global functions (see resume()) */
	struct ktr_header tmpl;		/* what every record of the event shares */
	__u32	cur_pid, cur_tid, cur_flags, cur_genio;
	__u8	buf[STAGE_BUF];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);			/* the loader sets the CPU count */
	__type(key, __u32);
	__type(value, struct stage);
} stages SEC(".maps");

/* Who a record is about */
struct who {
	__u32	pid;			/* in ktrace's pid namespace */
	__u32	tid;
	struct task_struct *task;	/* NULL: the current task */
};

/* One event being recorded: where, for whom */
struct ev {
	struct stage *st;
	struct ktr_proc *p;		/* NULL in the global functions */
	struct ktr_thread *t;		/* may be NULL */
	struct who w;
	__u32	flags;			/* p->flags when the event began */
	__u32	genio;			/* p->genio_size */
};

/* A record holding user memory: see emit_user() */
struct ureq {
	__u64	fixed[2];		/* the fixed part of the payload */
	__u64	src;			/* user address */
	__u32	len;			/* most bytes to read */
	__u16	type;			/* KTR_* */
	__u8	flen;			/* bytes of fixed (0, 8) */
	__u8	type_id;		/* plan_types index of a STRU name, 0 none */
	__u8	str;			/* a NUL-terminated string (NUL not kept) */
};

static __always_inline struct stage *my_stage(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&stages, &cpu);
}

/* ------------------------------------------------------------------ ids */

static __always_inline int current_who(struct who *w)
{
	__u64 id;

	w->task = NULL;
	if (!ktr_cfg.pidns_level) {
		id = bpf_get_current_pid_tgid();
		w->pid = id >> 32;
		w->tid = (__u32)id;
		return 0;
	}
	struct bpf_pidns_info ns = {};
	if (bpf_get_ns_current_pid_tgid(ktr_cfg.pidns_dev, ktr_cfg.pidns_ino, &ns, sizeof(ns)))
		return -1;
	w->pid = ns.tgid;
	w->tid = ns.pid;
	return 0;
}

/*
 * A struct pid's number in ktrace's namespace (0: not visible there): the
 * upid whose namespace is ktrace's.  Nested namespaces are few levels deep.
 */
#define PIDNS_LEVELS	8

static __always_inline __u32 ns_nr(struct pid *pid)
{
	__u32 level = BPF_CORE_READ(pid, level);

	for (int i = 0; i < PIDNS_LEVELS; i++) {
		struct upid up = {};

		if (i > level)
			break;
		bpf_probe_read_kernel(&up, sizeof(up), &pid->numbers[i]);
		if (up.ns && BPF_CORE_READ(up.ns, ns.inum) == ktr_cfg.pidns_ino)
			return up.nr;
	}
	return 0;
}

static __always_inline void task_who(struct task_struct *task, struct who *w)
{
	w->task = task;
	if (!ktr_cfg.pidns_level) {
		w->pid = BPF_CORE_READ(task, tgid);
		w->tid = BPF_CORE_READ(task, pid);
		return;
	}
	w->pid = ns_nr(BPF_CORE_READ(task, group_leader, thread_pid));
	w->tid = ns_nr(BPF_CORE_READ(task, thread_pid));
}

/* ------------------------------------------------------------ batching */

/* Send the stage's batch to the ring: 0, or -1 when it found no room (dropped) */
static __noinline int flush(struct stage *st)
{
	struct ktr_batch *b = (struct ktr_batch *)st->buf;
	__u32 len = st->pos;
	__u32 pid = st->pid;
	__u64 avail, wake = BPF_RB_NO_WAKEUP;
	int lost = 0;

	if (len <= sizeof(*b)) {
		st->pos = 0;
		return 0;
	}
	if (len > STAGE_LIMIT)
		len = STAGE_LIMIT;
	b->pid = pid;
	b->flags = st->flags;
	b->nrec = st->nrec;
	/*
	 * A wakeup costs an IPI (a VM exit in a guest): the loader polls, and
	 * is woken only when the waiting data crosses wake_bytes, or at an exit.
	 */
	avail = bpf_ringbuf_query(&ring, BPF_RB_AVAIL_DATA);
	if ((st->flags & KTR_BATCH_EXIT) ||
	    (avail < ktr_cfg.wake_bytes && avail + len >= ktr_cfg.wake_bytes))
		wake = BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_output(&ring, st->buf, len, wake)) {
		struct ktr_proc *p = bpf_map_lookup_elem(&procs, &pid);

		if (p) {
			__sync_fetch_and_or(&p->flags, KTRFAC_DROP);
			__sync_fetch_and_add(&p->dropped, st->nrec);
		}
		__sync_fetch_and_add(&ktr_live.dropped, st->nrec);
		lost = -1;
	}
	st->pos = 0;
	st->nrec = 0;
	st->flags = 0;
	b->aux = 0;
	return lost;
}

/*
 * Room for a record of ``size`` bytes for process ``pid``: the offset of
 * its header in st->buf, or -1.  The caller fills it and calls rec_end().
 */
static __always_inline int rec_begin(struct stage *st, __u32 pid, __u32 size)
{
	if (size > MAX_RECORD)
		return -1;
	if (st->pos && (st->pid != pid || st->pos + size > STAGE_LIMIT))
		flush(st);
	if (!st->pos) {
		st->pos = sizeof(struct ktr_batch);
		st->pid = pid;
	}
	return st->pos & (STAGE_LIMIT - 1);
}

static __always_inline void rec_end(struct stage *st, __u32 off, __u32 size)
{
	st->pos = off + size;
	st->nrec++;
}

/* The header fields all records of one event share: time, ids, name, CPU */
static __noinline void stamp(struct ev *e)
{
	struct stage *st = e->st;
	struct ktr_header *h = &st->tmpl;
	struct ktr_thread *t = e->t;
	__s64 now = bpf_ktime_get_ns() + ktr_live.realtime_offset;

	__builtin_memset(h, 0, sizeof(*h));
	h->ktr_version = KTR_VERSION1;
	h->ktr_pid = e->w.pid;
	if (e->w.task) {
		bpf_probe_read_kernel_str(h->ktr_comm, 16, e->w.task->comm);
	} else if (t) {
		if (!t->comm_age) {
			bpf_get_current_comm(t->comm, sizeof(t->comm));
			t->comm_age = COMM_EVENTS;
		}
		t->comm_age--;
		__builtin_memcpy(h->ktr_comm, t->comm, 16);
	} else {
		bpf_get_current_comm(h->ktr_comm, 16);
	}
	if (now - st->sec_ns < 0 || now - st->sec_ns >= 1000000000) {
		st->sec = (__u64)now / 1000000000;
		st->sec_ns = st->sec * 1000000000;
	}
	h->ktr_sec = st->sec;
	h->ktr_nsec = now - st->sec_ns;
	h->ktr_tid = e->w.tid;
	h->ktr_cpu = bpf_get_smp_processor_id();
	st->cur_pid = e->w.pid;
	st->cur_tid = e->w.tid;
	st->cur_flags = e->flags;
	st->cur_genio = e->genio;
}

/* Fill the header at ``off``: the record's type and payload length */
static __noinline void header(struct ev *e, __u32 off, int type, __u32 len)
{
	struct stage *st = e->st;
	struct ktr_header *h;

	off &= STAGE_LIMIT - 1;
	h = (struct ktr_header *)&st->buf[off];
	__builtin_memcpy(h, &st->tmpl, sizeof(*h));
	h->ktr_len = len;
	h->ktr_type = type | KTR_VERSIONED;
	if (e->p && (e->p->flags & KTRFAC_DROP)) {
		__sync_fetch_and_and(&e->p->flags, ~KTRFAC_DROP);
		h->ktr_type |= KTR_DROP;
		st->flags |= KTR_BATCH_DROPPED;
	}
}

/*
 * A record with a small fixed payload: ``size`` bytes copied (a constant),
 * the first ``plen`` of them recorded.
 */
static __always_inline void emit_sized(struct ev *e, int type, const void *payload,
				       __u32 size, __u32 plen)
{
	struct stage *st = e->st;
	int off = rec_begin(st, e->w.pid, sizeof(struct ktr_header) + size);

	if (off < 0)
		return;
	header(e, off, type, plen);
	if (size)
		__builtin_memcpy(&st->buf[off + sizeof(struct ktr_header)], payload, size);
	rec_end(st, off, sizeof(struct ktr_header) + plen);
}

#define emit_fixed(e, type, payload, size) emit_sized(e, type, payload, size, size)

static __always_inline struct ktr_proc *traced(const struct who *w, __u32 type)
{
	struct ktr_proc *p = proc_of(w->pid);

	if (p && (p->flags & KTRFAC(type)))
		return p;
	return NULL;
}

/* --------------------------------------------------- variable records */

/*
 * The leading bytes of a buffer that are in memory, page by page.  Memory
 * a program never touched and the syscall did not read (a write of fresh
 * pages to /dev/null) is not there for a BPF program to copy: the GIO
 * record then holds what was (possibly nothing).
 */
static __noinline long resident_prefix(__u8 *dst, __u32 len, __u64 src)
{
	__u32 done = 0;

	for (int i = 0; i < MAX_DATA / 4096 + 1; i++) {
		__u32 chunk = 4096 - ((src + done) & 4095);

		if (done >= len || done > MAX_DATA)
			break;
		if (chunk > len - done)
			chunk = len - done;
		if (chunk > 4096 || bpf_probe_read_user(dst + done, chunk, (const void *)(src + done)))
			break;
		done += chunk;
	}
	return done;
}

/*
 * A record of r->type: the fixed part, then the STRU name (NUL included)
 * when r->type_id is set, then up to r->len bytes of user memory at r->src.
 * Returns the data bytes recorded, or -1 when the memory was unreadable
 * (then nothing is recorded: the staged space is simply reused).
 */
static __noinline int emit_user(struct ev *e, const struct ureq *r)
{
	struct stage *st = e->st;
	__u32 hdr = sizeof(struct ktr_header), flen = r->flen & 8, namelen = 0;
	__u32 type_id = r->type_id, len = r->len;
	long got = 0;
	int off;
	__u8 *dst;

	if (type_id) {
		if (type_id >= PLAN_NTYPES)
			return -1;
		for (int i = 0; i < PLAN_NAME_SIZE; i++) {
			if (!plan_types[type_id][i])
				break;
			namelen++;
		}
		namelen++;
	}
	if (len > MAX_DATA)
		len = MAX_DATA;
	off = rec_begin(st, e->w.pid, hdr + flen + namelen + len);
	if (off < 0)
		return -1;
	dst = &st->buf[off + hdr];
	__builtin_memcpy(dst, r->fixed, 8);
	if (type_id)
		__builtin_memcpy(dst + flen, plan_types[type_id], PLAN_NAME_SIZE);
	dst += (flen + namelen) & 31;
	if (len) {
		if (r->str) {
			got = bpf_probe_read_user_str(dst, len, (const void *)r->src);
			if (got > 0)
				got--;
		} else if (bpf_probe_read_user(dst, len, (const void *)r->src) == 0) {
			got = len;
		} else if (r->type == KTR_GENIO) {
			got = resident_prefix(dst, len, r->src);
		} else {
			got = -1;
		}
		if (got < 0)
			return -1;
	}
	got &= MAX_DATA * 2 - 1;
	header(e, off, r->type, flen + namelen + got);
	rec_end(st, off, hdr + flen + namelen + got);
	return got;
}

/* A STRU record of plan type ``type_id``: ``len`` bytes at ``addr`` */
static __always_inline void emit_struct(struct ev *e, __u32 type_id, __u64 addr,
					__u64 len)
{
	struct ureq r = {.src = addr, .type = KTR_STRUCT, .type_id = type_id};

	if (!addr || !(e->flags & KTRFAC(KTR_STRUCT)))
		return;
	r.len = len > e->genio ? e->genio : len;
	emit_user(e, &r);
}

/* A STRUCT_ARRAY record: ``count`` items of ``elem`` bytes at ``addr`` */
static __always_inline void emit_array(struct ev *e, __u32 type_id, __u32 elem,
				       __u64 addr, __u64 count)
{
	struct ureq r = {.fixed = {elem}, .src = addr, .type = KTR_STRUCT_ARRAY,
			 .flen = 8, .type_id = type_id};
	__u32 most;

	if (!addr || !elem || !(e->flags & KTRFAC(KTR_STRUCT_ARRAY)))
		return;
	/* as ktrstructarray(): whole items within genio_size, at least one */
	most = e->genio / elem;
	if (count > most)
		count = most ? most : 1;
	r.len = count * elem;
	emit_user(e, &r);
}

static __always_inline void emit_gio(struct ev *e, int fd, int rw, __u64 buf,
				     __u64 len)
{
	struct ureq r = {.fixed = {(__u32)fd | ((__u64)rw << 32)}, .src = buf,
			 .type = KTR_GENIO, .flen = 8};

	r.len = len > e->genio ? e->genio : len;
	emit_user(e, &r);
}

static __always_inline int emit_string(struct ev *e, int type, __u32 type_id,
				       __u64 addr, __u64 len, int str)
{
	struct ureq r = {.src = addr, .type = type, .type_id = type_id, .str = str};

	r.len = len;
	return emit_user(e, &r);
}

/* One GIO record gathering up to ``total`` bytes from an iovec array */
static __noinline void emit_iovec_gio(struct ev *e, int fd_rw, __u64 iov,
				      __u64 count, __u64 total)
{
	struct stage *st = e->st;
	__u64 fixed = (__u32)(fd_rw >> 1) | ((__u64)(fd_rw & 1) << 32);
	__u32 hdr = sizeof(struct ktr_header) + sizeof(struct ktr_genio);
	__u32 done = 0;
	int off;

	if (total > e->genio)
		total = e->genio;
	if (total > MAX_DATA)
		total = MAX_DATA;
	off = rec_begin(st, e->w.pid, hdr + total);
	if (off < 0)
		return;
	__builtin_memcpy(&st->buf[off + sizeof(struct ktr_header)], &fixed, sizeof(fixed));
	for (int k = 0; k < MAX_IOVECS; k++) {
		struct iovec v = {};
		__u32 n;

		if (k >= count || done >= total)
			break;
		if (bpf_probe_read_user(&v, sizeof(v), (const void *)(iov + k * sizeof(v))))
			break;
		n = v.iov_len < total - done ? v.iov_len : total - done;
		if (n > MAX_DATA || done > MAX_DATA)
			break;
		if (bpf_probe_read_user(&st->buf[off + hdr + done], n, v.iov_base))
			break;
		done += n;
	}
	done &= MAX_DATA * 2 - 1;
	header(e, off, KTR_GENIO, sizeof(struct ktr_genio) + done);
	rec_end(st, off, hdr + done);
}

/* ------------------------------------------------------------- the plan */

/* The roles that record something at entry, and at exit (a PATH only to retry) */
#define BIT(role)	(1u << (role))
#define ENTRY_ROLES	(BIT(ROLE_PATH) | BIT(ROLE_IN_STRUCT) | BIT(ROLE_INOUT_STRUCT) | \
			 BIT(ROLE_IN_ARRAY) | BIT(ROLE_INOUT_ARRAY) | BIT(ROLE_IN_IOVEC) | \
			 BIT(ROLE_OUT_IOVEC) | BIT(ROLE_IN_MSGHDR) | BIT(ROLE_IN_STRING))
#define EXIT_ROLES	(BIT(ROLE_OUT_STRUCT) | BIT(ROLE_INOUT_STRUCT) | BIT(ROLE_OUT_ARRAY) | \
			 BIT(ROLE_INOUT_ARRAY) | BIT(ROLE_IN_BUF) | BIT(ROLE_OUT_BUF) | \
			 BIT(ROLE_IN_IOVEC) | BIT(ROLE_OUT_IOVEC) | BIT(ROLE_IN_MSGHDR) | \
			 BIT(ROLE_OUT_MSGHDR) | BIT(ROLE_OUT_STRING))

static __always_inline const struct plan_syscall *plan_of(__s64 nr)
{
	asm volatile("" : "+r"(nr));	/* keep the checked value in a register */
	if (nr < 0 || nr >= PLAN_NR_SYSCALLS)
		return NULL;
	return &plan_syscalls[nr];
}

static __always_inline __u64 arg_at(const struct ktr_thread *t, __u32 n)
{
	asm volatile("" : "+r"(n));	/* keep the checked value in a register */
	if (n >= 6)
		return 0;
	return t->args[n];
}

/* The spec of argument ``i`` of the call in progress, selectors applied */
static __noinline int spec_of(const struct ktr_thread *t, __u32 i, struct plan_arg *s)
{
	const struct plan_syscall *ps = plan_of(t->nr);

	if (!ps || i >= 6)
		return -1;
	__builtin_memcpy(s, &ps->args[i], sizeof(*s));
	for (int c = 0; c < MAX_CASES; c++) {
		const struct plan_case *pc;
		__u32 k;

		if (c >= ps->ncases)
			break;
		k = ps->first_case + c;
		if (k >= PLAN_NCASES)
			break;
		pc = &plan_cases[k];
		if (pc->target != i)
			continue;
		if ((arg_at(t, pc->sel_arg) & pc->mask) == pc->value)
			__builtin_memcpy(s, &pc->spec, sizeof(*s));
	}
	return 0;
}

/* A length by its source; ``ret`` is the return value (0 at entry) */
static __noinline __u64 length_of(const struct ktr_thread *t, const struct plan_arg *s,
				  long ret)
{
	__u32 v = 0;

	switch (s->len_kind) {
	case LEN_FIXED:
		return s->len_n;
	case LEN_ARG:
		return arg_at(t, s->len_n);
	case LEN_RET:
		return ret > 0 ? ret : 0;
	case LEN_ARG_PTR:
		bpf_probe_read_user(&v, sizeof(v), (const void *)arg_at(t, s->len_n));
		return v;
	case LEN_FDSET:
		v = arg_at(t, s->len_n);
		return (((__u64)v + 63) / 64) * 8;
	default:
		return s->size;
	}
}

struct msghdr_user {			/* struct user_msghdr, x86-64 */
	__u64	name;
	__u32	namelen;
	__u32	pad;
	__u64	iov;
	__u64	iovlen;
	__u64	control;
	__u64	controllen;
	__u32	flags;
	__u32	pad2;
};

static __always_inline __u64 capped(struct ev *e, __u64 len)
{
	return len > e->genio ? e->genio : len;
}

/* Entry records of argument i (after CALL) */
static __noinline void arg_entry(struct ev *e, __u32 i)
{
	struct ktr_thread *t = e->t;
	__u32 flags = e->flags;
	struct plan_arg s;
	__u64 addr;

	if (!t || spec_of(t, i, &s))
		return;
	addr = arg_at(t, i);
	switch (s.role) {
	case ROLE_PATH:
		if ((flags & KTRFAC(KTR_NAMEI)) &&
		    emit_string(e, KTR_NAMEI, 0, addr, MAX_STRING, 1) < 0)
			t->path_retry |= 1u << i;
		break;
	case ROLE_IN_STRUCT:
	case ROLE_INOUT_STRUCT:
	case ROLE_IN_MSGHDR:
		emit_struct(e, s.type, addr, length_of(t, &s, 0));
		break;
	case ROLE_IN_ARRAY:
	case ROLE_INOUT_ARRAY:
	case ROLE_IN_IOVEC:
	case ROLE_OUT_IOVEC:
		emit_array(e, s.type, s.size, addr, length_of(t, &s, 0));
		break;
	case ROLE_IN_STRING:
		if (addr && (flags & KTRFAC(KTR_STRUCT))) {
			int str = s.len_kind == LEN_NONE;

			emit_string(e, KTR_STRUCT, s.type, addr,
				    capped(e, str ? MAX_STRING : length_of(t, &s, 0)), str);
		}
		break;
	}
}

/* Exit records of argument i (before RET) */
static __noinline void arg_exit(struct ev *e, __u32 i, long ret)
{
	struct ktr_thread *t = e->t;
	__u32 flags = e->flags;
	struct plan_arg s;
	__u64 addr;
	int fd;

	if (!t || spec_of(t, i, &s))
		return;
	addr = arg_at(t, i);
	fd = s.fd >= 0 ? (int)arg_at(t, s.fd) : -1;
	switch (s.role) {
	case ROLE_PATH:
		if ((t->path_retry & (1u << i)) && (flags & KTRFAC(KTR_NAMEI)))
			emit_string(e, KTR_NAMEI, 0, addr, MAX_STRING, 1);
		break;
	case ROLE_OUT_STRUCT:
	case ROLE_INOUT_STRUCT:
		if (ret >= 0)
			emit_struct(e, s.type, addr, length_of(t, &s, ret));
		break;
	case ROLE_OUT_ARRAY:
	case ROLE_INOUT_ARRAY:
		if (ret >= 0)
			emit_array(e, s.type, s.size, addr, length_of(t, &s, ret));
		break;
	case ROLE_IN_BUF:
	case ROLE_OUT_BUF:
		if (ret >= 0 && (flags & KTRFAC(KTR_GENIO)))
			emit_gio(e, fd, s.role == ROLE_IN_BUF, addr, length_of(t, &s, ret));
		break;
	case ROLE_IN_IOVEC:
	case ROLE_OUT_IOVEC:
		if (ret >= 0 && (flags & KTRFAC(KTR_GENIO)))
			emit_iovec_gio(e, fd << 1 | (s.role == ROLE_IN_IOVEC), addr,
				       length_of(t, &s, 0), ret);
		break;
	case ROLE_IN_MSGHDR:
	case ROLE_OUT_MSGHDR: {
		struct msghdr_user m = {};

		if (ret < 0 || bpf_probe_read_user(&m, sizeof(m), (const void *)addr))
			break;
		if (s.role == ROLE_OUT_MSGHDR)
			emit_struct(e, s.type, addr, sizeof(m));
		if (flags & KTRFAC(KTR_GENIO))
			emit_iovec_gio(e, fd << 1 | (s.role == ROLE_IN_MSGHDR), m.iov,
				       m.iovlen, ret);
		break;
	}
	case ROLE_OUT_STRING:
		if (ret >= 0 && addr && (flags & KTRFAC(KTR_STRUCT))) {
			/* a byte count (readlink) or a NUL-terminated string (getcwd, PR_GET_NAME) */
			int str = s.len_kind == LEN_FIXED || ret == 0 || t->nr == NR_GETCWD;
			__u64 len = s.len_kind == LEN_FIXED ? s.len_n :
				    str ? MAX_STRING : length_of(t, &s, ret);

			emit_string(e, KTR_STRUCT, s.type, addr, capped(e, len), str);
		}
		break;
	}
}

/*
 * The argument records are written by global functions: the verifier checks
 * a global function once, not once per call site and path, which keeps the
 * load time of the syscall programs in hand.  A global function cannot be
 * handed the event's pointers, so it takes them up again (resume()).
 */
static __always_inline int resume(struct ev *e)
{
	e->st = my_stage();
	if (!e->st || !e->st->busy)
		return -1;			/* only within an event begun by begin() */
	e->p = NULL;
	e->w.pid = e->st->cur_pid;
	e->w.tid = e->st->cur_tid;
	e->w.task = NULL;
	e->flags = e->st->cur_flags;
	e->genio = e->st->cur_genio;
	e->t = thread_of(bpf_get_current_task_btf(), 0);
	return 0;
}

__noinline int ktr_arg_entry(__u32 i)
{
	struct ev e;

	if (!resume(&e))
		arg_entry(&e, i);
	return 0;
}

__noinline int ktr_arg_exit(__u32 i, long ret)
{
	struct ev e;

	if (!resume(&e))
		arg_exit(&e, i, ret);
	return 0;
}

/*
 * SCTL: reading or writing a file under /proc/sys is Linux's sysctl.  The
 * record names it as sysctl(8) does: /proc/sys/kernel/hostname is
 * "kernel.hostname".  Written at the exit of the read or write, before GIO.
 */
#define PROC_SUPER_MAGIC	0x9fa0

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
#define SYSCTL_DEPTH		8

__noinline int ktr_sysctl(__u32 fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	const unsigned char *names[SYSCTL_DEPTH];
	struct dentry *d, *root;
	struct file *f = NULL;
	struct fdtable *fdt;
	struct ev e;
	int depth = 0, off, n;
	__u32 len = 0;
	__u8 *dst;

	/* the common case (not procfs) first, with plain loads */
	fdt = task->files->fdt;
	if (!fdt || fd >= fdt->max_fds)
		return 0;
	bpf_probe_read_kernel(&f, sizeof(f), fdt->fd + fd);
	f = bpf_rdonly_cast(f, bpf_core_type_id_kernel(struct file));
	if (!f || f->f_inode->i_sb->s_magic != PROC_SUPER_MAGIC || resume(&e))
		return 0;
	d = BPF_CORE_READ(f, f_path.dentry);
	root = BPF_CORE_READ(f, f_inode, i_sb, s_root);
	/* walk up to the child of the proc root, which must be "sys" */
	for (int i = 0; i < SYSCTL_DEPTH; i++) {
		struct dentry *parent = BPF_CORE_READ(d, d_parent);

		if (!parent || parent == d)
			return 0;
		if (parent == root) {
			char top[4] = {};

			bpf_probe_read_kernel_str(top, sizeof(top), BPF_CORE_READ(d, d_name.name));
			if (top[0] != 's' || top[1] != 'y' || top[2] != 's' || top[3])
				return 0;
			break;
		}
		names[i] = BPF_CORE_READ(d, d_name.name);
		depth = i + 1;
		d = parent;
		if (i == SYSCTL_DEPTH - 1)
			return 0;		/* deeper than any sysctl */
	}
	if (!depth)
		return 0;
	off = rec_begin(e.st, e.w.pid, sizeof(struct ktr_header) + SYSCTL_DEPTH * 64);
	if (off < 0)
		return 0;
	dst = &e.st->buf[off + sizeof(struct ktr_header)];
	for (int i = SYSCTL_DEPTH - 1; i >= 0; i--) {
		if (i >= depth)
			continue;
		if (len) {
			dst[len & (SYSCTL_DEPTH * 64 - 1)] = '.';
			len++;
		}
		n = bpf_probe_read_kernel_str(dst + (len & (SYSCTL_DEPTH * 64 - 1)), 63, names[i]);
		if (n <= 1)
			return 0;
		len += n - 1;
	}
	len &= SYSCTL_DEPTH * 64 - 1;
	header(&e, off, KTR_SYSCTL, len);
	rec_end(e.st, off, sizeof(struct ktr_header) + len);
	return 0;
}

/* ARGS/ENVS of the new image, from its mm (execve succeeded) */
static __noinline void exec_strings(struct ev *e)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct mm_struct *mm = task->mm;
	__u64 start, end;

	if (!mm)
		return;
	if (e->flags & KTRFAC(KTR_ARGS)) {
		start = BPF_CORE_READ(mm, arg_start);
		end = BPF_CORE_READ(mm, arg_end);
		if (end > start)
			emit_string(e, KTR_ARGS, 0, start, end - start, 0);
	}
	if (e->flags & KTRFAC(KTR_ENVS)) {
		start = BPF_CORE_READ(mm, env_start);
		end = BPF_CORE_READ(mm, env_end);
		if (end > start)
			emit_string(e, KTR_ENVS, 0, start, end - start, 0);
	}
}

/* --------------------------------------------------- faults (PFLT/PRET) */

/*
 * No tracepoint marks the end of a page fault.  A PFLT leaves the thread
 * with a pending PRET, written when the thread is next seen entering the
 * kernel for something else (a syscall, another fault, a signal, its exit):
 * the fault was over by then.  Its result is KERN_SUCCESS, unless that next
 * thing is SIGSEGV/SIGBUS being delivered (the fault failed).
 */
static __always_inline void fault_end(struct ev *e, int result)
{
	struct ktr_faultend fe = {.result = result};

	if (!e->t || !e->t->fault_pending)
		return;
	e->t->fault_pending = 0;
	if (e->flags & KTRFAC(KTR_FAULTEND))
		emit_fixed(e, KTR_FAULTEND, &fe, sizeof(fe));
}

/* ------------------------------------------------------------ syscalls */

static __always_inline __s32 freebsd_errno(long ret)
{
	long e = -ret;

	if (e >= ERESTART_FIRST && e <= ERESTART_LAST)
		return -1;			/* ERESTART */
	asm volatile("" : "+r"(e));	/* keep the checked value in a register */
	if (e > 0 && e <= ERRNO_MAX)
		return plan_freebsd_errno[e];
	return 0x10000 | e;
}


/*
 * Start recording an event of the current task: 0 with e filled, or -1
 * (not traced, or this CPU's stage is in use by an interrupted writer).
 */
static __always_inline int begin(struct ev *e, int thread)
{
	if (current_who(&e->w))
		return -1;
	e->p = proc_of(e->w.pid);
	if (!e->p)
		return -1;
	e->st = my_stage();
	if (!e->st || e->st->busy)
		return -1;
	e->st->busy = 1;
	asm volatile("" ::: "memory");
	e->flags = e->p->flags;
	e->genio = e->p->genio_size;
	e->t = thread_of(bpf_get_current_task_btf(), thread > 1);
	stamp(e);
	return 0;
}

static __always_inline void end(struct ev *e)
{
	asm volatile("" ::: "memory");
	e->st->busy = 0;
}

/*
 * --lossless: a thread about to return to user space while the ring is
 * fuller than throttle_bytes gets SIGSTOP.  ktrace has seized it, so the
 * signal stops it in a signal-delivery-stop that only ktrace sees; ktrace
 * lets it go (dropping the signal) once the ring has drained.  It is sent
 * only to processes ktrace has seized (KTR_OPT_THROTTLE).
 */
static __always_inline void throttle(struct ev *e)
{
	if (!ktr_cfg.throttle_bytes || !(e->p->opts & KTR_OPT_THROTTLE))
		return;
	if (bpf_ringbuf_query(&ring, BPF_RB_AVAIL_DATA) + e->st->pos >= ktr_cfg.throttle_bytes)
		bpf_send_signal_thread(SIGSTOP);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(ktr_sys_enter, struct pt_regs *regs, long id)
{
	const struct plan_syscall *ps;
	struct ktr_thread *t;
	struct ev e;

	if (begin(&e, 2))
		return 0;
	t = e.t;
	if (!t)
		goto out;
	t->nr = id;
	t->args[0] = regs->di;
	t->args[1] = regs->si;
	t->args[2] = regs->dx;
	t->args[3] = regs->r10;
	t->args[4] = regs->r8;
	t->args[5] = regs->r9;
	t->in_syscall = 1;
	t->path_retry = 0;
	if (id == NR_PRCTL)
		t->comm_age = 0;	/* PR_SET_NAME: read the name again at exit */
	fault_end(&e, KERN_SUCCESS);

	ps = plan_of(id);
	if (e.p->flags & KTRFAC(KTR_SYSCALL)) {
		struct ktr_syscall sc = {.ktr_code = id, .ktr_narg = 6};

		if (ps && ps->nargs >= 0 && ps->nargs < 6)
			sc.ktr_narg = ps->nargs;
		__builtin_memcpy(sc.ktr_args, t->args, sizeof(sc.ktr_args));
		emit_sized(&e, KTR_SYSCALL, &sc, sizeof(sc), 8 + 8 * sc.ktr_narg);
	}
	if (id == KTRACE_UTRACE_NR && (e.p->flags & KTRFAC(KTR_USER)) &&
	    t->args[1] <= KTR_USER_MAXLEN)
		emit_string(&e, KTR_USER, 0, t->args[0], t->args[1], 0);
	if (ps && (ps->records & e.p->flags)) {
		for (int i = 0; i < 6; i++) {
			if ((1u << ps->args[i].role) & ENTRY_ROLES || ps->ncases)
				ktr_arg_entry(i);
		}
	}
out:
	end(&e);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(ktr_sys_exit, struct pt_regs *regs, long ret)
{
	const struct plan_syscall *ps = NULL;
	struct ktr_thread *t;
	struct ev e;
	__s64 nr;

	if (begin(&e, 1))
		return 0;
	t = e.t;
	nr = regs->orig_ax;
	if (t && t->in_syscall) {
		nr = t->nr;
		ps = plan_of(nr);
	}
	if (ret >= 0 && (e.p->flags & KTRFAC(KTR_SYSCTL)) && nr >= 0 && nr <= NR_PWRITEV2 &&
	    (1ull << nr) & FILE_IO_CALLS)
		ktr_sysctl(t ? t->args[0] : 0);
	if (ps && (ps->records & e.p->flags)) {
		for (int i = 0; i < 6; i++) {
			__u32 role = ps->args[i].role;

			if ((1u << role) & EXIT_ROLES || ps->ncases ||
			    (role == ROLE_PATH && (t->path_retry & (1u << i))))
				ktr_arg_exit(i, ret);
		}
		if (ret == 0 && (ps->args[1].role == ROLE_ARGV || ps->args[2].role == ROLE_ARGV))
			exec_strings(&e);
	}
	if (e.p->flags & KTRFAC(KTR_SYSRET)) {
		struct ktr_sysret sr = {.ktr_code = nr, .ktr_retval = ret};

		if (ret < 0 && ret >= -4095)
			sr.ktr_error = freebsd_errno(ret);
		emit_fixed(&e, KTR_SYSRET, &sr, sizeof(sr));
	}
	if (t)
		t->in_syscall = 0;
	throttle(&e);
	end(&e);
	return 0;
}

/* ------------------------------------------------------------ lifecycle */

SEC("tp_btf/sched_process_fork")
int BPF_PROG(ktr_fork, struct task_struct *parent, struct task_struct *child)
{
	struct ktr_proc_ctor ctor = {.sv_flags = SV_LINUX_X86_64};
	struct ktr_proc np = {}, *p;
	struct ev e;

	if (current_who(&e.w))
		return 0;
	p = proc_of(e.w.pid);
	if (!p || !(p->flags & KTRFAC_INHERIT))
		return 0;
	np.parent = e.w.pid;
	task_who(child, &e.w);
	if (!e.w.pid || e.w.pid == np.parent)
		return 0;			/* a thread, or invisible to ktrace */
	np.flags = p->flags & ~KTRFAC_DROP;
	np.genio_size = p->genio_size;
	np.opts = p->opts & KTR_OPT_OWNER_ROOT;
	if (BPF_CORE_READ(child, ptrace))	/* followed by ktrace's ptrace too */
		np.opts |= p->opts & KTR_OPT_THROTTLE;
	if (bpf_map_update_elem(&procs, &e.w.pid, &np, BPF_ANY))
		return 0;
	mark_traced(e.w.pid);
	if (np.flags & KTRFAC(KTR_CSW))
		__sync_fetch_and_add(&ktr_live.csw_inherited, 1);
	e.p = bpf_map_lookup_elem(&procs, &e.w.pid);
	e.st = my_stage();
	e.t = NULL;
	if (!e.p || !e.st || e.st->busy)
		return 0;
	e.st->busy = 1;
	e.flags = e.p->flags;
	e.genio = e.p->genio_size;
	stamp(&e);
	emit_fixed(&e, KTR_PROCCTOR, &ctor, sizeof(ctor));
	if (e.st->pos && e.st->pid == e.w.pid) {
		/* tells the loader whose child it is; sent now, as the child may run elsewhere */
		e.st->flags |= KTR_BATCH_FORK;
		((struct ktr_batch *)e.st->buf)->aux = np.parent;
		flush(e.st);
	}
	end(&e);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(ktr_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct ktr_proc_ctor ctor = {.sv_flags = SV_LINUX_X86_64};
	struct ev e;

	if (begin(&e, 0))
		return 0;
	if (BPF_CORE_READ_BITFIELD(bprm, secureexec) && !(e.p->opts & KTR_OPT_OWNER_ROOT)) {
		/* ktrprocexec(): privilege gained and the tracer is not root */
		struct ktr_batch note = {.pid = e.w.pid, .flags = KTR_BATCH_EXEC_PRIV};

		flush(e.st);
		if (e.p->parent && (e.p->flags & KTRFAC(KTR_CSW)))
			__sync_fetch_and_add(&ktr_live.csw_inherited, -1);
		forget_proc(e.w.pid);
		bpf_ringbuf_output(&ring, &note, sizeof(note), BPF_RB_FORCE_WAKEUP);
	} else {
		if (e.t) {
			e.t->comm_age = 0;	/* the new image's name */
			stamp(&e);
		}
		emit_fixed(&e, KTR_PROCCTOR, &ctor, sizeof(ctor));
	}
	end(&e);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(ktr_exit, struct task_struct *task, bool group_dead)
{
	struct ev e;

	if (begin(&e, 0))
		return 0;
	fault_end(&e, KERN_SUCCESS);
	if (group_dead) {
		struct stage *st = e.st;

		int lost = 0;

		emit_fixed(&e, KTR_PROCDTOR, NULL, 0);
		if (st->pos && st->pid == e.w.pid) {
			st->flags |= KTR_BATCH_EXIT;
			((struct ktr_batch *)st->buf)->aux = e.p->dropped;
			lost = flush(st);
		}
		if (e.p->parent && (e.p->flags & KTRFAC(KTR_CSW)))
			__sync_fetch_and_add(&ktr_live.csw_inherited, -1);
		if (lost) {
			/* the loader learns of the exit from the table, with the count */
			__sync_fetch_and_or(&e.p->opts, KTR_OPT_EXITED);
			if (e.w.pid < MAX_PIDS)
				maybe_traced[e.w.pid] = 0;
		} else {
			forget_proc(e.w.pid);
		}
	}
	end(&e);
	return 0;
}

/* ----------------------------------------------------- context switches */

/* A CSW record for a task switching out (out=1, the current one) or in */
static __noinline void switch_record(struct stage *st, struct task_struct *task, int out,
				     int preempt)
{
	struct ktr_csw c = {.out = out, .user = preempt};
	struct ktr_thread *t;
	struct ev e = {.st = st};

	if (out)
		current_who(&e.w);
	else
		task_who(task, &e.w);
	e.p = traced(&e.w, KTR_CSW);
	if (!e.p)
		return;
	e.flags = e.p->flags;
	e.genio = e.p->genio_size;
	stamp(&e);
	t = thread_of(task, 0);
	if (t && t->in_syscall) {
		const struct plan_syscall *ps = plan_of(t->nr);

		if (ps)
			__builtin_memcpy(c.wmesg, ps->name, sizeof(c.wmesg));
	}
	emit_fixed(&e, KTR_CSW, &c, sizeof(c));
}

SEC("tp_btf/sched_switch")
int BPF_PROG(ktr_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct stage *st = my_stage();
	int csw;

	if (!st || st->busy)
		return 0;
	csw = ktr_live.csw_inherited + ktr_live.csw_attached > 0;
	if (!csw && !st->pos)
		return 0;
	st->busy = 1;
	if (csw)
		switch_record(st, prev, 1, preempt);
	if (st->pos)
		flush(st);		/* prev may run elsewhere next: keep its order */
	if (csw)
		switch_record(st, next, 0, preempt);
	st->busy = 0;
	return 0;
}

/* -------------------------------------------------------------- signals */

SEC("tp_btf/signal_deliver")
int BPF_PROG(ktr_signal, int sig, struct kernel_siginfo *info, struct k_sigaction *ka)
{
	int code = info ? info->si_code : 0;
	struct ev e;

	if (begin(&e, 0))
		return 0;
	if (sig == SIGSEGV || sig == SIGBUS)
		fault_end(&e, code == SEGV_MAPERR ? KERN_INVALID_ADDRESS : KERN_PROTECTION_FAILURE);
	else
		fault_end(&e, KERN_SUCCESS);
	if (e.p->flags & KTRFAC(KTR_PSIG)) {
		struct task_struct *task = bpf_get_current_task_btf();
		__u64 mask = task->blocked.sig[0];
		struct ktr_psig ps = {
			.signo = sig,
			.action = (__u64)ka->sa.sa_handler,
			.code = code,
			.mask = {(__u32)mask, mask >> 32, 0, 0},
		};
		emit_fixed(&e, KTR_PSIG, &ps, sizeof(ps));
	}
	end(&e);
	return 0;
}

/* --------------------------------------------------------- page faults */

SEC("tp_btf/page_fault_user")
int BPF_PROG(ktr_fault, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	struct ev e;

	if (begin(&e, 2))
		return 0;
	if (!e.t || !(e.p->flags & (KTRFAC(KTR_FAULT) | KTRFAC(KTR_FAULTEND))))
		goto out;
	fault_end(&e, KERN_SUCCESS);
	if (e.p->flags & KTRFAC(KTR_FAULT)) {
		struct ktr_fault f = {
			.vaddr = address,
			.type = error_code & X86_PF_INSTR ? VM_PROT_EXECUTE :
				error_code & X86_PF_WRITE ? VM_PROT_WRITE : VM_PROT_READ,
		};
		emit_fixed(&e, KTR_FAULT, &f, sizeof(f));
	}
	e.t->fault_pending = 1;
out:
	end(&e);
	return 0;
}

/* ---------------------------------------------------------- capabilities */

SEC("tp_btf/cap_capable")
int BPF_PROG(ktr_capable, const struct cred *cred, struct user_namespace *target_ns,
	     const struct user_namespace *capable_ns, int cap, int ret)
{
	struct ktr_cap_fail cf = {
		.cap_type = CAPFAIL_LINUX_CAPABILITY,
		.cap_code = -1,
		.cap_svflags = SV_LINUX_X86_64,
		.cap_int = cap,
	};
	__u32 size = sizeof(struct ktr_header) + 16 + CAP_PATH_MAX;
	struct ev e;
	int off;

	if (ret >= 0 || begin(&e, 1))
		return 0;
	if (!(e.p->flags & KTRFAC(KTR_CAPFAIL)))
		goto out;
	if (e.t && e.t->in_syscall)
		cf.cap_code = e.t->nr;
	off = rec_begin(e.st, e.w.pid, size);
	if (off >= 0) {
		__u8 *dst = &e.st->buf[off + sizeof(struct ktr_header)];

		__builtin_memcpy(dst, &cf, sizeof(cf));
		bpf_probe_read_kernel(dst + sizeof(cf), 16 + CAP_PATH_MAX - sizeof(cf), zeros);
		header(&e, off, KTR_CAPFAIL, 16 + CAP_PATH_MAX);
		rec_end(e.st, off, size);
	}
out:
	end(&e);
	return 0;
}

/* -------------------------------------------------------- flush on demand */

/* Run by the loader on each CPU (BPF_PROG_TEST_RUN): send what is staged */
SEC("raw_tp")
int ktr_flush(void *ctx)
{
	struct stage *st = my_stage();

	if (!st || st->busy)
		return 1;			/* interrupted a writer: try again */
	if (st->pos) {
		st->busy = 1;
		flush(st);
		st->busy = 0;
	}
	return 0;
}
