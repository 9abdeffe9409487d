// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only)
/*
 * ktrace's recording engine in the kernel: the ktrace facility as a BPF program.
 *
 * The map "procs" is the kernel's p_traceflag: which processes are traced,
 * for which record types.  Tracepoints write whole FreeBSD amd64 v1 records
 * (ktrace.h) for the traced ones.  Records are first staged per CPU, in a
 * batch of one process's records, and each batch goes to the ring buffer as
 * one sample, so that user space moves them to the trace file in bulk.  A
 * batch is flushed when another process's record comes, when it is full
 * (the records of the event in progress move to the next batch, so that a
 * syscall's records stay together), when the thread leaves the CPU (so a
 * thread's records stay in order when it migrates), when a thread is made
 * or ends, at process exit, and on demand from user space (ktr_flush, run
 * on each CPU).  A batch that finds no room in the ring is dropped: its
 * records are counted and the process's next record carries KTR_DROP.
 *
 * Speed: every syscall on the machine runs the two syscall programs, and a
 * traced one writes two or three records per syscall.  Function calls are
 * what costs here (each return goes through the kernel's return thunk), so
 * the common path is inline and makes three calls per event: the pid, the
 * clock, and (for I/O) the user copy.  The per-process entry and the thread
 * name are copied per CPU and read again only when they change (generation
 * counters in ktr_live); the rest of the per-thread state is a byte per
 * thread id.  Arguments with records of their own go through global
 * functions (verified once, not per call site).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "ktrace.h"
#include "ktrace_plan.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define MAX_DATA	32768		/* largest data part of one record (a whole getdents64) */
/*
 * A batch is sent before a record would take it past STAGE_LIMIT, so that
 * records begin below it (their offsets are masked with it) and the batch
 * being written stays in the first-level cache; a record larger than the
 * room left goes first in a batch of its own.
 */
#define STAGE_LIMIT	32768
#define MAX_RECORD	(HDR + 8 + PLAN_NAME_SIZE + MAX_DATA)
/* a power of two past a record's fixed part and STRU name (a mask, for the verifier) */
#define NAME_ROOM	64
_Static_assert(NAME_ROOM > 8 + PLAN_NAME_SIZE && !(NAME_ROOM & (NAME_ROOM - 1)),
	       "NAME_ROOM must hold the fixed part and a name");
_Static_assert(PLAN_BUF_COUNT == 1, "a fast GIO's count is in dx (emit_readable's caller)");
#define BATCH_MAX	(STAGE_LIMIT + MAX_RECORD)	/* the most a batch can hold */
#define STAGE_BUF	(STAGE_LIMIT + 2 * MAX_DATA + 256)	/* verifier-provable room */
#define SPILL		(STAGE_LIMIT / 2)	/* most bytes of one event carried to a new batch */
#define HDR		sizeof(struct ktr_header)
#define MAX_STRING	4096		/* longest path or string read */
#define MAX_IOVECS	PLAN_IOVECS_MAX	/* iovecs gathered into one GIO or STRU iovdata */
#define MAX_EXEC_STRINGS 256		/* argv/envp strings of a failed execve */
#define MAX_CASES	128
#define SOCKADDR_MAX	128		/* most sockaddr bytes of a msghdr recorded */
#define SMALL_IO	16		/* GIO data read through the stack (see ktr_gio) */

#define X86_PF_WRITE	(1 << 1)
#define X86_PF_INSTR	(1 << 4)
#define SIGKILL		9
#define SIGSEGV		11
#define SIGBUS		7
#define SIGSTOP		19
#define SIG_IGN		1
/* signals whose default action is to ignore, stop or continue: CHLD URG WINCH CONT STOP TSTP TTIN TTOU */
#define DEFAULT_NOT_FATAL ((1u << 17) | (1u << 23) | (1u << 28) | (1u << 18) | (1u << 19) | \
			   (1u << 20) | (1u << 21) | (1u << 22))
/* ... of which those ignored: CHLD CONT URG WINCH (the kernel's SIG_KERNEL_IGNORE_MASK) */
#define DEFAULT_IGNORED	((1u << 17) | (1u << 18) | (1u << 23) | (1u << 28))
#define SIGNAL_GROUP_EXIT 0x4		/* signal_struct.flags: the process is dying */
#define SI_USER		0
#define SI_KERNEL	0x80
#define SEGV_MAPERR	1
#define NR_GETCWD	79
#define NR_EXECVE	59
#define NR_RT_SIGRETURN	15
#define NR_PRCTL	157
/* calls that make sockets (linux_plan.NEW_DESCRIPTORS): the result, or socketpair's int[2] */
#define NR_SOCKET	41
#define NR_ACCEPT	43
#define NR_SOCKETPAIR	53
#define NR_ACCEPT4	288
/* ... and calls that may change a socket's addresses (SOCKET_STATES): argument 0's */
#define NR_CONNECT	42
#define NR_BIND		49
#define NR_LISTEN	50
/* ... and calls that open a path: the result, when a character or block device */
#define NR_OPEN		2
#define NR_CREAT	85
#define NR_OPENAT	257
#define NR_OPEN_TREE	428
#define NR_OPENAT2	437
/* ... and pidfd_getfd: its result, whatever it is */
#define NR_PIDFD_GETFD	438
/* getppid: STRU parent, the name of the process it names (linux_plan.PARENT_NAMED) */
#define NR_GETPPID	110
/* ioctl KVM_RUN on a kvm vcpu's descriptor: STRU kvmexit (linux_plan.VCPU_EXITS) */
#define NR_IOCTL	16
#define KVM_RUN		0xae80		/* _IO(KVMIO, 0x80) */
#define S_IFMT		00170000
#define S_IFCHR		0020000
#define S_IFSOCK	0140000
#define AF_UNIX		1
#define AF_INET		2
#define AF_INET6	10
#define AF_NETLINK	16
#define TCP_SYN_SENT	2		/* the kernel's socket states */
#define TCP_CLOSE	7
#define S_IFBLK		0060000
#define MINORBITS	20		/* the kernel's dev_t: major << MINORBITS | minor */
/* read, write, pread64, pwrite64, readv, writev (preadv* and pwritev* above 63 aside) */
#define FILE_IO_CALLS	((1ull << 0) | (1ull << 1) | (1ull << 17) | (1ull << 18) | \
			 (1ull << 19) | (1ull << 20))

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
__u8 maybe_traced[MAX_PIDS] SEC(".bss.pids");

/*
 * A byte per thread id (thread ids and pids are one number space): what a
 * traced thread is doing.  Only the thread itself writes its byte, but for
 * its creation and its end.
 */
#define TS_ENTERED	1	/* between the entry of a traced syscall and its exit */
#define TS_FAULT	2	/* a PFLT waits for its PRET */
#define TS_RETRY	4	/* << i: argument i's entry record is read again at exit */
/* rt_sigreturn takes no argument: its last retry bit says "this is rt_sigreturn" */
#define TS_SIGRETURN	(TS_RETRY << 5)
__u8 thread_state[MAX_PIDS] SEC(".bss.threads");

/* keep the checked value in a register: the verifier must see the check on the index used */
#define checked(v)	asm volatile("" : "+r"(v))
/*
 * v &= mask, as a 64-bit instruction the compiler may not drop as redundant:
 * older verifiers forget what 32-bit arithmetic (a negation) left in the
 * upper half, and a constant mask is a bound every verifier keeps.
 */
#define masked(v, mask)	asm volatile("%0 &= %1" : "+r"(v) : "i"(mask))
/* a load or store the compiler makes as written (memory, not a register) */
#define READ_ONCE(x)		(*(volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v)	(*(volatile typeof(x) *)&(x) = (v))

static __always_inline int maybe(__u32 pid)
{
	checked(pid);
	return pid < MAX_PIDS && maybe_traced[pid];
}

static __always_inline void mark_traced(__u32 pid)
{
	if (pid < MAX_PIDS)
		maybe_traced[pid] = 1;
}

static __always_inline void procs_changed(void)
{
	__sync_fetch_and_add(&ktr_live.proc_gen, 1);
}

static __always_inline void forget_proc(__u32 pid)
{
	if (pid < MAX_PIDS)
		maybe_traced[pid] = 0;
	bpf_map_delete_elem(&procs, &pid);
	procs_changed();
}

static __always_inline __u8 thread_get(__u32 tid)
{
	checked(tid);
	return tid < MAX_PIDS ? thread_state[tid] : 0;
}

static __always_inline void thread_set(__u32 tid, __u8 state)
{
	checked(tid);
	if (tid < MAX_PIDS)
		thread_state[tid] = state;
}

/* A record holding user memory: see ktr_emit() */
struct ureq {
	__u64	fixed;			/* the fixed part of the payload */
	__u64	src;			/* user address */
	__u32	len;			/* most bytes to read */
	__u16	type;			/* KTR_* */
	__u8	flen;			/* bytes of fixed (0, 8) */
	__u8	type_id;		/* plan_types index of a STRU name, 0 none */
	__u8	str;			/* a NUL-terminated string (NUL not kept): len bytes and its NUL read */
	__u8	kernel;			/* src is kernel memory */
	__u8	namelen;		/* ktr_emit()'s own (see there) */
	__u8	resident;		/* what is in memory of it (as a GIO's), not all or nothing */
};

/* One CPU's batch in the making, and the event being recorded */
struct stage {
	__u32	pos;			/* bytes used in buf, batch header included (0: none) */
	__u32	pid;			/* whose records the batch holds */
	__u32	nrec;
	__u32	flags;			/* KTR_BATCH_* */
	__u32	busy;			/* a program is writing here (see ktr_flush) */
	__u32	ev_start;		/* where the event's first record is in buf */
	__u32	ev_nrec;		/* the event's records so far */
	/* the event's process: a copy of its procs entry (proc_load) */
	__u32	fac;			/* facility bits, KTRFAC_DROP included */
	__u32	genio;			/* genio size */
	__u32	opts;			/* KTR_OPT_* */
	__u32	proc_pid;		/* whose entry, ... */
	__u32	comm_tid;		/* (the current thread's name: whose, ... */
	__u64	proc_gen;		/* ... as of which ktr_live.proc_gen */
	__u64	comm_gen;		/* ... as of which ktr_live.comm_gen, ... */
	__u32	comm_left;		/* ... for how many more events) */
	__u32	pad;
	char	comm[16];
	__s64	sec;			/* a second of CLOCK_REALTIME ... */
	__s64	sec_ns;			/* ... and where it starts, in ns: saves divisions */
	/* the syscall being recorded, for the plan functions */
	__s64	nr;
	__u64	args[6];
	__u32	put_off;		/* TS_RETRY bits: its entry records put off to the exit */
	__u32	spec_arg;		/* spec_of()'s argument, ... */
	struct plan_arg spec;		/* ... and its spec so far */
	struct ktr_header tmpl;		/* what every record of the event shares */
	struct ureq req;		/* the record ktr_emit() is to write */
	/* a loop gathering user memory into a record (see LOOP()): */
	__u64	walk_src;		/* the array walked */
	__u32	walk_items;		/* its length (bound) */
	__u32	walk_at;		/* where the record's data begins in buf */
	__u32	walk_len;		/* data bytes so far */
	__u32	walk_most;		/* ... at most */
	__u32	walk_part;		/* iovec_step: an unreadable iovec leaves its first page's part */
	__u32	exec_nfaults;		/* (index, pointer) pairs in exec_faults */
	/* sendmmsg's or recvmmsg's messages, MMSG_BATCH at a ktr_mmsgs call: */
	__u64	mmsg_addr;		/* the mmsghdr array, ... */
	__u32	mmsg_moved;		/* its messages moved (each one's data a GIO), ... */
	__u32	mmsg_given;		/* ... of those recorded (the rest's STRU iovdata) */
	__u32	mmsg_fd_rw;		/* the GIOs' descriptor << 1 | rw */
	/* what ktr_pointee leaves ktr_follow (pointees()): the array a Pointee row recorded, ... */
	__u64	follow_items;		/* its address, ... */
	__u32	follow_count;		/* its items, ... */
	__u32	follow_elem;		/* their size, ... */
	__u32	follow_id;		/* ... and the row that follows its pointers (0: none) */
	/* the array iocb_step walks (its records take walk_*): its address, ... */
	__u64	array_at;
	__u32	array_items;		/* ... and its items (the loop's steps at most) */
	/* an execve array's STRU argvfault in the making (linux_plan's ARGV_FAULTS) */
	__u64	exec_faults[1 + 2 * PLAN_ARGV_FAULTS_MAX];
	__u8	buf[STAGE_BUF];
	__u8	spill[SPILL];		/* the event's records, while its batch is sent */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);			/* the loader sets the CPU count */
	__type(key, __u32);
	__type(value, struct stage);
} stages SEC(".maps");

/* Who an event is about */
struct who {
	__u32	pid;			/* in ktrace's pid namespace */
	__u32	tid;
	struct task_struct *task;	/* NULL: the current task */
	struct task_struct *self;	/* the current task (current_who(): one call for all) */
};

static __always_inline struct stage *my_stage(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&stages, &cpu);
}

/*
 * The stage of the event in progress, for the global functions that record
 * its arguments (they find the syscall in st->nr and st->args, saved by the
 * syscall program), or NULL.
 */
static __always_inline struct stage *resume(void)
{
	struct stage *st = my_stage();

	if (!st || !st->busy)
		return NULL;			/* only within an event begun by begin() */
	return st;
}

/* ------------------------------------------------------------------ ids */

static __always_inline int current_who(struct who *w)
{
	struct task_struct *task = bpf_get_current_task_btf();

	w->task = NULL;
	w->self = task;
	if (!ktr_cfg.pidns_level) {
		/* plain loads: cheaper than bpf_get_current_pid_tgid(), a call */
		w->pid = task->tgid;
		w->tid = task->pid;
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

/* bpf_task_pt_regs() came in 5.15; before, code using it is dead and left out */
#define HAVE_TASK_PT_REGS bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_task_pt_regs)

/* The syscall a task is in (its entry traced), or -1 */
static __always_inline __s64 syscall_of(struct task_struct *task, __u32 tid)
{
	if (!(thread_get(tid) & TS_ENTERED) || !HAVE_TASK_PT_REGS)
		return -1;
	return BPF_CORE_READ((struct pt_regs *)bpf_task_pt_regs(task), orig_ax);
}

/* ------------------------------------------------------------ batching */

/*
 * Send this CPU's batch to the ring: 0, or -1 when it found no room
 * (dropped).  This and the other functions that write records out of line
 * are global: the verifier checks a global function once, where it checks a
 * static one again at every call site and on every path that leads there,
 * which made loading slow (see benchmarks/RESULTS.md, "first trace").  A
 * global function takes scalars only, so they find the stage by CPU.
 */
__noinline int ktr_send(void)
{
	struct stage *st = my_stage();
	struct ktr_batch *b;
	__u32 len, pid;
	__u64 avail, wake = BPF_RB_NO_WAKEUP;
	int lost = 0;

	if (!st)
		return 0;
	b = (struct ktr_batch *)st->buf;
	len = st->pos;
	pid = st->pid;
	if (len <= sizeof(*b)) {
		st->pos = 0;
		return 0;
	}
	if (len > BATCH_MAX)
		len = BATCH_MAX;
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
			procs_changed();
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

static __always_inline void batch_open(struct stage *st)
{
	st->pos = sizeof(struct ktr_batch);
	st->ev_start = st->pos;
	st->ev_nrec = 0;
}

/*
 * The batch is full: send what came before the event being recorded, and
 * carry the event's records over to the next batch (a syscall's CALL and
 * the NAMI/STRU after it, its GIO and RET, stay in one piece).  An event
 * larger than SPILL, or alone in its batch, is split.
 */
__noinline int ktr_make_room(void)
{
	struct stage *st = my_stage();
	__u32 start, n, nrec, dropped;

	if (!st)
		return 0;
	start = st->ev_start;
	n = st->pos - start;
	nrec = st->ev_nrec;
	dropped = st->flags & KTR_BATCH_DROPPED;
	if (start <= sizeof(struct ktr_batch) || start >= STAGE_LIMIT || n > SPILL || !n) {
		ktr_send();
		batch_open(st);
		return 0;
	}
	bpf_probe_read_kernel(st->spill, n, &st->buf[start]);
	st->pos = start;
	st->nrec -= nrec;
	ktr_send();
	bpf_probe_read_kernel(&st->buf[sizeof(struct ktr_batch)], n, st->spill);
	batch_open(st);
	st->pos += n;
	st->nrec = nrec;
	st->ev_nrec = nrec;
	st->flags = dropped;
	return 0;
}

/*
 * Room for a record of ``size`` bytes in the event's batch: the offset of
 * its header in st->buf, or -1.  The caller fills it and calls rec_end().
 */
static __always_inline int rec_begin(struct stage *st, __u32 size)
{
	if (size > MAX_RECORD)
		return -1;
	if (st->pos + size > STAGE_LIMIT)
		ktr_make_room();
	return st->pos & (STAGE_LIMIT - 1);
}

static __always_inline void rec_end(struct stage *st, __u32 off, __u32 size)
{
	st->pos = off + size;
	st->nrec++;
	st->ev_nrec++;
}

/* ------------------------------------------------------------- events */

/*
 * The procs entry of ``pid`` into st (fac, genio, opts): 0, or -1 when the
 * process is not traced.  The copy is taken again only when procs changed.
 */
static __always_inline int proc_load(struct stage *st, __u32 pid)
{
	__u64 gen = *(volatile __u64 *)&ktr_live.proc_gen +	/* before the lookup */
		    *(volatile __u64 *)&ktr_live.loader_gen;
	struct ktr_proc *p;

	if (st->proc_pid == pid && st->proc_gen == gen)
		return 0;
	p = bpf_map_lookup_elem(&procs, &pid);
	if (!p)
		return -1;
	st->fac = p->flags;
	st->genio = p->genio_size;
	st->opts = p->opts;
	st->proc_pid = pid;
	st->proc_gen = gen;
	return 0;
}

/*
 * The current thread's name, from this CPU's copy: read again after exec
 * and prctl (comm_gen), and every COMM_EVENTS events (a rename through
 * /proc/PID/comm shows within that many records).
 */
#define COMM_EVENTS	64

static __always_inline void comm_of_current(struct stage *st, __u32 tid)
{
	__u64 gen = *(volatile __u64 *)&ktr_live.comm_gen;

	if (st->comm_tid != tid || st->comm_gen != gen || !st->comm_left) {
		bpf_get_current_comm(st->comm, sizeof(st->comm));
		st->comm_tid = tid;
		st->comm_gen = gen;
		st->comm_left = COMM_EVENTS;
	}
	st->comm_left--;
}

/*
 * Begin an event of process w->pid (its entry loaded by proc_load): its
 * records go to a batch of that process, and share one header template
 * (time, ids, name, CPU).
 */
static __always_inline void ev_begin(struct stage *st, const struct who *w)
{
	struct ktr_header *h = &st->tmpl;
	__s64 now = bpf_ktime_get_ns() + ktr_live.realtime_offset;

	if (st->pos && st->pid != w->pid)
		ktr_send();
	if (!st->pos) {
		st->pid = w->pid;
		batch_open(st);
	}
	st->ev_start = st->pos;
	st->ev_nrec = 0;
	if (w->task) {
		__builtin_memset(h->ktr_comm, 0, sizeof(h->ktr_comm));
		bpf_probe_read_kernel_str(h->ktr_comm, 16, w->task->comm);
	} else {
		comm_of_current(st, w->tid);
		__builtin_memcpy(h->ktr_comm, st->comm, 16);
		*(__u32 *)&h->ktr_comm[16] = 0;
	}
	if ((__u64)(now - st->sec_ns) >= 1000000000) {
		st->sec = (__u64)now / 1000000000;
		st->sec_ns = st->sec * 1000000000;
	}
	h->ktr_version = KTR_VERSION1;
	h->ktr_pid = w->pid;
	h->ktr_sec = st->sec;
	h->ktr_nsec = now - st->sec_ns;
	h->ktr_tid = w->tid;
	h->ktr_cpu = bpf_get_smp_processor_id();
	h->ktr_pad = 0;
}

/* The process's KTRFAC_DROP, taken: KTR_DROP for the record, or 0 (someone took it) */
static __noinline int take_drop(struct stage *st)
{
	__u32 pid = st->proc_pid;
	struct ktr_proc *p = bpf_map_lookup_elem(&procs, &pid);

	st->fac &= ~KTRFAC_DROP;
	if (!p || !(__sync_fetch_and_and(&p->flags, ~KTRFAC_DROP) & KTRFAC_DROP))
		return 0;
	procs_changed();
	st->flags |= KTR_BATCH_DROPPED;
	return KTR_DROP;
}

/* Fill the header at ``off``: the record's type and payload length */
static __always_inline void header(struct stage *st, __u32 off, int type, __u32 len)
{
	struct ktr_header *h = (struct ktr_header *)&st->buf[off & (STAGE_LIMIT - 1)];

	__builtin_memcpy(h, &st->tmpl, sizeof(*h));
	h->ktr_len = len;
	h->ktr_type = type | KTR_VERSIONED;
	if (st->fac & KTRFAC_DROP)
		h->ktr_type |= take_drop(st);
}

/*
 * A record with a small fixed payload: ``size`` bytes copied (a constant),
 * the first ``plen`` of them recorded.
 */
static __always_inline void emit_sized(struct stage *st, int type, const void *payload,
				       __u32 size, __u32 plen)
{
	int off = rec_begin(st, HDR + size);

	if (off < 0)
		return;
	header(st, off, type, plen);
	if (size)
		__builtin_memcpy(&st->buf[off + HDR], payload, size);
	rec_end(st, off, HDR + plen);
}

#define emit_fixed(st, type, payload, size) emit_sized(st, type, payload, size, size)

/*
 * Start recording an event of the current task: the stage (busy), or NULL
 * (not traced, or this CPU's stage is in use by an interrupted writer).
 */
static __always_inline struct stage *begin(struct who *w)
{
	struct stage *st;

	if (current_who(w) || !maybe(w->pid))
		return NULL;
	st = my_stage();
	if (!st || st->busy)
		return NULL;
	st->busy = 1;
	asm volatile("" ::: "memory");
	if (proc_load(st, w->pid)) {
		st->busy = 0;
		return NULL;
	}
	ev_begin(st, w);
	return st;
}

static __always_inline void end(struct stage *st)
{
	asm volatile("" ::: "memory");
	st->busy = 0;
}

/* --------------------------------------------------- variable records */

/*
 * A loop of up to ``n`` steps step(st, i), each returning 1 to end it.  The
 * verifier walks a bounded loop once per iteration, but a bpf_loop() body
 * (5.17) about once: loops of many steps take bpf_loop where the kernel has
 * it.  A step keeps its progress in the stage (walk_*), not on the stack: a
 * callback finds it there, and every verifier learns the same from it (an
 * unknown value, bounded by the step's checks).
 */
#define HAVE_LOOP	bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_loop)
#define LOOP(n, step, st)						\
	do {								\
		if (HAVE_LOOP) {					\
			bpf_loop(n, step##_cb, NULL, 0);		\
			break;						\
		}							\
		for (int i_ = 0; i_ < (n); i_++)			\
			if (step(st, i_))				\
				break;					\
	} while (0)
#define LOOP_STEP(step)							\
	static long step##_cb(__u32 i, void *ctx)			\
	{								\
		struct stage *st = my_stage();				\
									\
		return st ? step(st, i) : 1;				\
	}
/*
 * LOOP() of a step that records (calls ktr_emit): Debian 6.1's verifier
 * refused such a bpf_loop callback ("back-edge"), so the build for kernels
 * before 6.2 takes a bounded loop, walked once per step.
 */
#ifndef KTR_NO_KFUNC
#define LOOP_OF_CALLS(n, step, st)	LOOP(n, step, st)
#else
#define LOOP_OF_CALLS(n, step, st)					\
	do {								\
		for (__u32 k_ = 0; k_ < (n); k_++)			\
			if (step(st, k_))				\
				break;					\
	} while (0)
#endif

/* The page of walk_src + walk_len into buf[walk_at + walk_len], walk_most bytes in all */
static __always_inline long page_step(struct stage *st, __u32 i)
{
	__u64 done = st->walk_len, most = st->walk_most, src = st->walk_src + done;
	__u64 chunk = 4096 - (src & 4095), pos = st->walk_at + done;

	if (done >= most || done > MAX_DATA)
		return 1;
	if (chunk > most - done)
		chunk = most - done;
	/* older verifiers lose both bounds (compared with a register, not a constant) */
	checked(chunk);
	checked(pos);
	if (chunk > 4096 || pos > STAGE_LIMIT + 256 + MAX_DATA ||
	    bpf_probe_read_user(&st->buf[pos], chunk, (const void *)src))
		return 1;
	st->walk_len = done + chunk;
	return 0;
}
LOOP_STEP(page_step)

/*
 * The leading bytes of a buffer that are in memory, page by page, copied to
 * st->buf[at]: how many.  Memory a program never touched and the syscall
 * did not read (a write of fresh pages to /dev/null) is not there for a BPF
 * program to copy: the GIO record then holds what was (possibly nothing).
 */
__noinline long ktr_resident(__u32 at, __u32 len, __u64 src)
{
	struct stage *st = my_stage();

	if (!st || at >= STAGE_LIMIT + 256)
		return 0;
	st->walk_src = src;
	st->walk_at = at;
	st->walk_len = 0;
	st->walk_most = len;
	LOOP(MAX_DATA / 4096 + 1, page_step, st);
	return st->walk_len;
}

/*
 * A record of st->req.type: the fixed part, then the STRU name (NUL
 * included) when req.type_id is set, then up to req.len bytes of user
 * memory at req.src.  Returns the data bytes recorded, or -1 when the memory
 * was unreadable (then nothing is recorded: the staged space is simply
 * reused).
 */
__noinline int ktr_emit(void)
{
	struct stage *st = my_stage();
	const struct ureq *r;
	__u32 flen, namelen = 0, type_id, len;
	long got = 0;
	int off;
	__u8 *dst;

	if (!st)
		return -1;
	r = &st->req;
	flen = r->flen & 8;
	type_id = r->type_id;
	len = r->len;
	if (type_id) {
		if (type_id >= PLAN_NTYPES)
			return -1;
		for (int i = 0; i < PLAN_NAME_SIZE; i++) {
			if (!plan_types[type_id][i])
				break;
			namelen++;
		}
		/*
		 * Read back from the stage: the verifier would otherwise take
		 * every length the loop can end with as a path of its own
		 * through the rest of the function.
		 */
		WRITE_ONCE(st->req.namelen, namelen + 1);
		namelen = READ_ONCE(st->req.namelen);
	}
	if (len > MAX_DATA)
		len = MAX_DATA;
	off = rec_begin(st, HDR + flen + namelen + len);
	if (off < 0)
		return -1;
	dst = &st->buf[off + HDR];
	__builtin_memcpy(dst, &r->fixed, 8);
	if (type_id)
		__builtin_memcpy(dst + flen, plan_types[type_id], PLAN_NAME_SIZE);
	dst += (flen + namelen) & (NAME_ROOM - 1);
	if (len) {
		if (r->kernel) {
			got = bpf_probe_read_kernel_str(dst, len, (const void *)r->src);
			if (got > 0)
				got--;
		} else if (r->str) {
			/*
			 * len bytes and a NUL: a string with no NUL in its first
			 * len bytes keeps all of them, as the ptrace engine's read
			 * does (the view marks it cut), not len - 1 of them.  The
			 * read fails at a fault before any NUL: when the fault is
			 * past len bytes (a string that ends a mapping), they are
			 * the string still.
			 */
			got = bpf_probe_read_user_str(dst, len + 1, (const void *)r->src);
			if (got > 0)
				got--;
			else if (!bpf_probe_read_user(dst, len, (const void *)r->src))
				got = len;
		} else if (bpf_probe_read_user(dst, len, (const void *)r->src) == 0) {
			got = len;
		} else if (r->type == KTR_GENIO || r->resident) {
			got = ktr_resident(dst - st->buf, len, r->src);
		} else {
			got = -1;
		}
		if (got < 0)
			return -1;
	}
	got &= MAX_DATA * 2 - 1;
	header(st, off, r->type, flen + namelen + got);
	rec_end(st, off, HDR + flen + namelen + got);
	return got;
}

static __always_inline int emit_user(struct stage *st, const struct ureq *r)
{
	st->req = *r;
	return ktr_emit();
}

static __always_inline __u64 capped(struct stage *st, __u64 len)
{
	return len > st->genio ? st->genio : len;
}

/* A STRU record of plan type ``type_id``: ``len`` bytes at ``addr``; -1 unreadable */
static __always_inline int emit_struct(struct stage *st, __u32 type_id, __u64 addr, __u64 len)
{
	struct ureq r = {.src = addr, .type = KTR_STRUCT, .type_id = type_id};

	if (!addr || !(st->fac & KTRFAC(KTR_STRUCT)) || type_id >= PLAN_NTYPES)
		return 0;
	r.len = plan_whole[type_id] ? len : capped(st, len);
	return emit_user(st, &r);
}

/* A STRUCT_ARRAY record: ``count`` items of ``elem`` bytes at ``addr``; -1 unreadable */
static __always_inline int emit_array(struct stage *st, __u32 type_id, __u32 elem,
				      __u64 addr, __u64 count)
{
	struct ureq r = {.fixed = elem, .src = addr, .type = KTR_STRUCT_ARRAY,
			 .flen = 8, .type_id = type_id};
	__u32 most;

	if (!addr || !elem || !count || !(st->fac & KTRFAC(KTR_STRUCT_ARRAY)))
		return 0;
	/* as ktrstructarray(): whole items within genio_size, at least one */
	most = st->genio / elem;
	if (count > most)
		count = most ? most : 1;
	r.len = count * elem;
	return emit_user(st, &r);
}

static __always_inline int emit_string(struct stage *st, int type, __u32 type_id,
				       __u64 addr, __u64 len, int str)
{
	struct ureq r = {.src = addr, .type = type, .type_id = type_id, .str = str};

	r.len = len;
	return emit_user(st, &r);
}

/* The bytes from ``addr`` to the end of its page: what is read of memory partly unreadable */
static __always_inline __u64 first_page(__u64 addr)
{
	return PLAN_PAGE_SIZE - (addr & (PLAN_PAGE_SIZE - 1));
}

/*
 * STRU of ``count`` bytes at ``addr`` capped at the genio size, or when they
 * cannot all be read those up to the end of its first page (linux_plan's doc:
 * a failed call's IN_BUF, a PAGE_PART_STRUCTS type written out; the ptrace
 * engine's _readable reads the same).
 */
static __noinline int emit_readable(struct stage *st, __u32 type_id, __u64 addr, __u64 count)
{
	__u64 n = capped(st, count);
	int got = emit_struct(st, type_id, addr, n);

	if (got < 0 && first_page(addr) < n)
		got = emit_struct(st, type_id, addr, first_page(addr));
	return got;
}

/*
 * An entry array, or when its items cannot all be read (and ``part``: this
 * is the last try) the whole items up to the end of its first page
 * (linux_plan's doc; the ptrace engine's _items reads the same).
 */
static __always_inline int emit_items(struct stage *st, __u32 type_id, __u32 elem,
				      __u64 addr, __u64 count, int part)
{
	int got = emit_array(st, type_id, elem, addr, count);
	__u64 fit;

	if (got >= 0 || !part || !elem)
		return got;
	fit = first_page(addr) / elem;
	return fit && fit < count ? emit_array(st, type_id, elem, addr, fit) : got;
}

static __always_inline __u64 genio_fixed(int fd, int rw)
{
	return (__u32)fd | ((__u64)rw << 32);
}

_Static_assert(PLAN_GIO_PART == MAX_DATA, "a GIO part is the largest record's data");


/*
 * GIO part k + 1 (the first is the call's own GIO) of walk_src's walk_most
 * bytes (linux_plan.GIO_PART), walk_items: fd and rw
 */
static __always_inline long gio_part_step(struct stage *st, __u32 k)
{
	__u64 done = (__u64)(k + 1) * MAX_DATA, most = st->walk_most;

	if (done >= most)
		return 1;
	st->req = (struct ureq){.fixed = genio_fixed(st->walk_items >> 1, st->walk_items & 1),
				.src = st->walk_src + done, .type = KTR_GENIO, .flen = 8,
				.len = most - done < MAX_DATA ? most - done : MAX_DATA};
	return ktr_emit() != MAX_DATA;		/* the last part, or one not all in memory */
}
LOOP_STEP(gio_part_step)

/*
 * The GIO records after the first of a read or write of more than MAX_DATA
 * bytes: ``most`` bytes of ``buf`` in all (within the genio size), in parts
 * of MAX_DATA (linux_plan.GIO_PART), up to the first one not all in memory.
 */
__noinline int ktr_gio_parts(int fd_rw, __u64 buf, __u64 most)
{
	struct stage *st = resume();

	if (!st)
		return 0;
	st->walk_src = buf;
	st->walk_items = fd_rw;
	st->walk_most = most < PLAN_GIO_PARTS_MAX * MAX_DATA ? most : PLAN_GIO_PARTS_MAX * MAX_DATA;
	LOOP_OF_CALLS(PLAN_GIO_PARTS_MAX - 1, gio_part_step, st);
	return 0;
}

/*
 * STRU unmoved of a write of ``count`` bytes at ``buf`` that moved ``ret``
 * (all in its GIO: within the genio size), when it moved fewer: what is in
 * memory of the next min(count - ret, GIO_PART) bytes (linux_plan's doc).
 */
__noinline int ktr_unmoved(__u64 buf, __u64 count, long ret)
{
	struct stage *st = resume();

	if (!st || ret < 0 || ret >= count || ret > st->genio ||
	    ret > PLAN_GIO_PARTS_MAX * MAX_DATA || !(st->fac & KTRFAC(KTR_STRUCT)))
		return 0;
	st->req = (struct ureq){.src = buf + ret, .type = KTR_STRUCT, .type_id = PLAN_TYPE_UNMOVED,
				.resident = 1,
				.len = count - ret < MAX_DATA ? count - ret : MAX_DATA};
	ktr_emit();
	return 0;
}

/*
 * GIO of ``ret`` bytes at ``buf`` (a read or write of descriptor ``fd``):
 * the common case of the syscall exit.  More than MAX_DATA bytes (within the
 * genio size) take more records (ktr_gio_parts).  A function of its own: off
 * ktr_sys_exit's frame, the first of the deepest chain of calls, whose stacks
 * add up (512 bytes at most).
 */
__noinline int ktr_gio(__u32 fd, __u32 rw, __u64 buf, long ret)
{
	struct stage *st = resume();
	long got;
	int off;
	__u8 *dst;
	__u32 n;

	if (!st)
		return 0;
	n = ret > st->genio ? st->genio : ret;
	if (n > MAX_DATA)
		n = MAX_DATA;
	off = rec_begin(st, HDR + sizeof(struct ktr_genio) + n);
	if (off < 0)
		return 0;
	dst = &st->buf[off + HDR];
	*(__u64 *)dst = genio_fixed(fd, rw);
	got = n;
	if (n <= SMALL_IO) {
		/* through the stack: the usercopy checks of a stack buffer are cheaper */
		__u64 small[SMALL_IO / 8];

		checked(n);		/* the bound checked is the one the read gets */
		if (n > SMALL_IO)
			n = SMALL_IO;
		if (n && bpf_probe_read_user(small, n, (const void *)buf))
			got = ktr_resident(off + HDR + 8, n, buf);
		else
			__builtin_memcpy(dst + 8, small, SMALL_IO);
	} else if (bpf_probe_read_user(dst + 8, n, (const void *)buf)) {
		got = ktr_resident(off + HDR + 8, n, buf);
	}
	got &= MAX_DATA * 2 - 1;
	header(st, off, KTR_GENIO, sizeof(struct ktr_genio) + got);
	rec_end(st, off, HDR + sizeof(struct ktr_genio) + got);
	if (got == MAX_DATA && ret > MAX_DATA && st->genio > MAX_DATA)
		ktr_gio_parts(fd << 1 | rw, buf, ret > st->genio ? st->genio : ret);
	return 0;
}

/*
 * Iovec k of walk_src into the GIO at walk_at: walk_len bytes so far, walk_most
 * at most; one whose bytes cannot all be read ends the data, with its first
 * page's part when walk_part.
 */
static __always_inline long iovec_step(struct stage *st, __u32 k)
{
	__u64 done = st->walk_len, most = st->walk_most, at = st->walk_at, n, part;
	struct iovec v = {};

	if (k >= st->walk_items || done >= most ||
	    bpf_probe_read_user(&v, sizeof(v), (const void *)(st->walk_src + k * sizeof(v))))
		return 1;
	n = v.iov_len < most - done ? v.iov_len : most - done;
	checked(n);
	checked(done);
	checked(at);
	if (n > MAX_DATA || done > MAX_DATA || at >= STAGE_LIMIT + HDR + sizeof(struct ktr_genio))
		return 1;
	if (bpf_probe_read_user(&st->buf[at + done], n, v.iov_base)) {
		part = first_page((__u64)v.iov_base);
		checked(part);
		if (st->walk_part && part < n && part <= PLAN_PAGE_SIZE &&
		    !bpf_probe_read_user(&st->buf[at + done], part, v.iov_base))
			st->walk_len = done + part;
		return 1;
	}
	st->walk_len = done + n;
	return 0;
}
LOOP_STEP(iovec_step)

_Static_assert(sizeof(PLAN_IOV_DATA_NAME) == sizeof(struct ktr_genio),
	       "STRU iovdata's name takes the place of a GIO's fd and rw");

/*
 * One record gathering up to ``total`` bytes from an iovec array: a GIO of
 * descriptor fd_rw >> 1 (rw its low bit), or ``given``: STRU iovdata, data
 * that no descriptor moved (linux_plan's doc).  Each iovec's bytes whole (the
 * last cut at ``total``), up to the first that cannot all be read (of which
 * STRU iovdata holds its first page's part).
 */
__noinline int ktr_iovec_data(int fd_rw, __u64 iov, __u64 count, __u64 total, int given)
{
	struct stage *st = resume();
	__u64 fixed = genio_fixed(fd_rw >> 1, fd_rw & 1);
	__u32 hdr = HDR + sizeof(struct ktr_genio);
	__u32 done;
	int off;

	if (!st)
		return 0;
	if (given)
		__builtin_memcpy(&fixed, PLAN_IOV_DATA_NAME, sizeof(fixed));
	if (total > st->genio)
		total = st->genio;
	if (total > MAX_DATA)
		total = MAX_DATA;
	off = rec_begin(st, hdr + total);
	if (off < 0)
		return 0;
	__builtin_memcpy(&st->buf[off + HDR], &fixed, sizeof(fixed));
	st->walk_src = iov;
	st->walk_items = count < MAX_IOVECS ? count : MAX_IOVECS;
	st->walk_at = off + hdr;
	st->walk_len = 0;
	st->walk_most = total;
	st->walk_part = given;
	LOOP(MAX_IOVECS, iovec_step, st);
	done = st->walk_len & (MAX_DATA * 2 - 1);
	header(st, off, given ? KTR_STRUCT : KTR_GENIO, sizeof(struct ktr_genio) + done);
	rec_end(st, off, hdr + done);
	return 0;
}

/* STRU iovdata of the iovecs given (linux_plan's doc): their data, up to the genio size */
static __always_inline void emit_iov_data(struct stage *st, __u64 iov, __u64 count)
{
	if (st->fac & KTRFAC(KTR_STRUCT))
		ktr_iovec_data(0, iov, count, st->genio, 1);
}

/* ------------------------------------------------------------- the plan */

static __always_inline const struct plan_syscall *plan_of(__s64 nr)
{
	checked(nr);
	if (nr < 0 || nr >= PLAN_NR_SYSCALLS)
		return NULL;
	return &plan_syscalls[nr];
}

static __always_inline __u64 arg_at(const struct stage *st, __u32 n)
{
	checked(n);
	if (n >= 6)
		return 0;
	return st->args[n];
}

/* Selector case c of the call in progress: its spec, if it applies to argument spec_arg */
static __always_inline long case_step(struct stage *st, __u32 c)
{
	const struct plan_syscall *ps = plan_of(st->nr);
	const struct plan_case *pc;
	__u32 k;

	if (!ps || c >= ps->ncases)
		return 1;
	k = ps->first_case + c;
	if (k >= PLAN_NCASES)
		return 1;
	pc = &plan_cases[k];
	if (pc->target == st->spec_arg && (arg_at(st, pc->sel_arg) & pc->mask) == pc->value)
		__builtin_memcpy(&st->spec, &pc->spec, sizeof(st->spec));
	return 0;
}
LOOP_STEP(case_step)

/* The spec of argument ``i`` of the call in progress, selectors applied */
static __noinline int spec_of(struct stage *st, __u32 i, struct plan_arg *s)
{
	const struct plan_syscall *ps = plan_of(st->nr);

	if (!ps || i >= 6)
		return -1;
	__builtin_memcpy(&st->spec, &ps->args[i], sizeof(st->spec));
	st->spec_arg = i;
	LOOP(MAX_CASES, case_step, st);
	__builtin_memcpy(s, &st->spec, sizeof(*s));
	return 0;
}

/* What a length's source counts, in units of its len_scale; ``ret`` is the return value (0 at entry) */
static __always_inline __u64 count_of(const struct stage *st, const struct plan_arg *s, long ret)
{
	__u32 v = 0;

	switch (s->len_kind) {
	case LEN_FIXED:
		return s->len_n;
	case LEN_ARG:
		return arg_at(st, s->len_n);
	case LEN_ARG_U32:
		return (__u32)arg_at(st, s->len_n);
	case LEN_RET:
		return ret > 0 ? ret : 0;
	case LEN_ARG_PTR:
		bpf_probe_read_user(&v, sizeof(v), (const void *)(arg_at(st, s->len_n) + s->len_at));
		return v;
	case LEN_FDSET:
		v = arg_at(st, s->len_n);
		return (((__u64)v + 63) / 64) * 8;
	case LEN_IOC_SIZE:
		return (arg_at(st, s->len_n) >> PLAN_IOC_SIZE_SHIFT) & PLAN_IOC_SIZE_MASK;
	case LEN_NODEMASK:		/* (maxnode + 62) / 64, without the sum's wrap */
		return arg_at(st, s->len_n) / 64 + (arg_at(st, s->len_n) % 64 > 1);
	case LEN_PAGES:
		return arg_at(st, s->len_n) / PLAN_PAGE_SIZE + (arg_at(st, s->len_n) % PLAN_PAGE_SIZE != 0);
	default:
		return s->size;
	}
}

/* A length by its source (a struct's bytes, an array's items; len_scale is 1 with no source) */
static __noinline __u64 length_of(const struct stage *st, const struct plan_arg *s, long ret)
{
	return count_of(st, s, ret) * s->len_scale + s->len_add;
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

_Static_assert(PLAN_MSG_CONTROL_PART <= MAX_DATA && BATCH_MAX + MAX_DATA <= STAGE_BUF,
	       "a msg_control part must fit a record, and the stage past a batch");

/*
 * STRU cmsghdr records of msg_control: the msg_controllen bytes of ``m``'s
 * msg_control, at most optmem_max, PLAN_MSG_CONTROL_MAX and the genio size,
 * in parts of PLAN_MSG_CONTROL_PART, whole or none (linux_plan's doc): a
 * part written cannot be taken back, so the parts after the first are read
 * first, into the stage past the most a batch holds.  (The length and the
 * address stay in ``m``, read again at each use: registers kept across the
 * calls would take stack, the deepest call chain's.)
 */
static __always_inline void emit_control(struct stage *st, struct msghdr_user *m)
{
	const __u64 part = PLAN_MSG_CONTROL_PART;
	__u64 at;

	if (m->controllen > ktr_cfg.optmem_max)
		m->controllen = ktr_cfg.optmem_max;
	if (m->controllen > PLAN_MSG_CONTROL_MAX)
		m->controllen = PLAN_MSG_CONTROL_MAX;
	m->controllen = capped(st, m->controllen);
	/* loops of a constant bound: older verifiers forget m->controllen's
	 * across the spill, and would walk the parts of 4 GiB */
	for (__u32 k = 1; k < PLAN_MSG_CONTROL_MAX / part; k++) {
		at = k * part;
		if (at >= m->controllen)
			break;
		if (bpf_probe_read_user(&st->buf[BATCH_MAX], m->controllen - at < part ?
					m->controllen - at : part, (const void *)(m->control + at)))
			return;
	}
	for (__u32 k = 0; k < PLAN_MSG_CONTROL_MAX / part; k++) {
		at = k * part;
		if (at >= m->controllen ||
		    emit_struct(st, PLAN_TYPE_CMSGHDR, m->control + at,
				m->controllen - at < part ? m->controllen - at : part) < 0)
			break;
	}
}

/*
 * What the pointers of the msghdr at ``addr`` hold: STRU sockaddr, msg_namelen
 * bytes of msg_name (at most SOCKADDR_MAX), or when not all can be read those
 * up to the end of its first page (recvmsg's msg_namelen is the address's
 * length, which may be more than the buffer given: strace reads no more than
 * was given); STRUCT_ARRAY iovec; STRU cmsghdr records of msg_control's
 * msg_controllen bytes (emit_control).
 */
__noinline int ktr_msg_parts(__u64 addr)
{
	struct stage *st = resume();
	struct msghdr_user m;
	__u64 len;

	if (!st || bpf_probe_read_user(&m, sizeof(m), (const void *)addr))
		return 0;
	len = m.namelen < SOCKADDR_MAX ? m.namelen : SOCKADDR_MAX;
	/* emit_readable's rule, inline: calling it here is one frame more than
	 * Debian 6.1's verifier allows on this chain (combined stack 544) */
	if (len && emit_struct(st, PLAN_TYPE_SOCKADDR, m.name, len) < 0 &&
	    first_page(m.name) < len)
		emit_struct(st, PLAN_TYPE_SOCKADDR, m.name, first_page(m.name));
	emit_array(st, PLAN_TYPE_IOVEC, sizeof(struct iovec), m.iov, m.iovlen);
	if (m.controllen)
		emit_control(st, &m);
	return 0;
}

/*
 * A msghdr's STRU msghdr and what its pointers hold (ktr_msg_parts); ``m``
 * receives it for the GIO.  -1 when it is unreadable.
 */
static __noinline int emit_msghdr(struct stage *st, __u64 addr, struct msghdr_user *m)
{
	if (bpf_probe_read_user(m, sizeof(*m), (const void *)addr))
		return -1;
	emit_struct(st, PLAN_TYPE_MSGHDR, addr, sizeof(*m));
	ktr_msg_parts(addr);
	return 0;
}

struct mmsghdr_user {			/* struct mmsghdr, x86-64 */
	struct msghdr_user hdr;
	__u32	len;
	__u32	pad;
};

#define MMSG_BATCH	32		/* messages of one ktr_mmsgs call */
_Static_assert(PLAN_MMSG_MAX % MMSG_BATCH == 0, "PLAN_MMSG_MAX in batches");
_Static_assert(PLAN_MMSGHDR_PART == MAX_DATA && PLAN_MMSG_MAX * sizeof(struct mmsghdr_user) <=
	       2 * PLAN_MMSGHDR_PART, "an mmsghdr array in two records at most");

/*
 * Batch ``batch`` of the messages st->mmsg_* say (linux_plan's doc): the
 * messages a sendmmsg or recvmmsg moved, MMSG_BATCH a batch, what each one's
 * pointers hold then a GIO of its msg_len bytes; then a sendmmsg's given but
 * not sent (all of a failed one's), each one's data STRU iovdata.  1 when
 * there are no more (or an mmsghdr could not be read: they end there).  A
 * bounded loop, not LOOP(): a bpf_loop callback would make the deepest chain
 * of calls (to ktr_emit's page walk) one frame more than the verifier allows.
 */
__noinline int ktr_mmsgs(__u32 batch)
{
	struct stage *st = resume();
	__u64 iov[2], addr;	/* msg_iov, msg_iovlen: only these and msg_len (the */
	__u32 first, end, len;	/* stack of the deepest call chain is at 512 bytes on 6.1) */

	if (!st)
		return 1;
	end = st->mmsg_moved;
	first = batch * MMSG_BATCH;
	if (first >= end) {		/* past the moved ones: those given */
		first = end + (batch - (end + MMSG_BATCH - 1) / MMSG_BATCH) * MMSG_BATCH;
		end = st->mmsg_given;
	}
	if (first >= end || end > PLAN_MMSG_MAX)
		return 1;
	end -= first;
	addr = st->mmsg_addr + (__u64)first * sizeof(struct mmsghdr_user);
	for (__u32 k = 0; k < MMSG_BATCH && k < end; k++, addr += sizeof(struct mmsghdr_user)) {
		if (bpf_probe_read_user(iov, sizeof(iov), (const void *)
					(addr + __builtin_offsetof(struct mmsghdr_user, hdr.iov))) ||
		    bpf_probe_read_user(&len, sizeof(len), (const void *)
					(addr + __builtin_offsetof(struct mmsghdr_user, len))))
			return 1;
		ktr_msg_parts(addr);
		/* (which of the two, found again from the stage: a value kept
		 * across the calls would take stack, the deepest call chain's) */
		if (addr - st->mmsg_addr >= (__u64)st->mmsg_moved * sizeof(struct mmsghdr_user))
			emit_iov_data(st, iov[0], iov[1]);
		else if (st->fac & KTRFAC(KTR_GENIO))
			ktr_iovec_data(st->mmsg_fd_rw, iov[0], iov[1], len, 0);
	}
	return 0;
}

/*
 * The first PLAN_MMSG_MAX messages at ``addr``: ``moved`` of them moved
 * (descriptor and rw ``fd_rw``), those up to ``given`` not (ktr_mmsgs), in
 * batches: the verifier walks every step of a bounded loop, and checks a
 * global function once, so the 1024 messages cost it 64 steps of a loop.
 */
static __always_inline void mmsgs(struct stage *st, int fd_rw, __u64 addr, __u64 moved,
				  __u64 given)
{
	if (given > PLAN_MMSG_MAX)
		given = PLAN_MMSG_MAX;
	st->mmsg_addr = addr;
	st->mmsg_moved = moved < given ? moved : given;
	st->mmsg_given = given;
	st->mmsg_fd_rw = fd_rw;
	for (__u32 b = 0; b < 2 * PLAN_MMSG_MAX / MMSG_BATCH; b++)
		if (ktr_mmsgs(b))
			break;
}

/*
 * STRUCT_ARRAY mmsghdr: the first PLAN_MMSG_MAX of ``count`` mmsghdrs at
 * ``addr`` (and the genio size's), as emit_items, in records of
 * PLAN_MMSGHDR_PART bytes: the second after a whole first (linux_plan's doc).
 * A function of its own: its values kept across the calls are not on the
 * stack of ktr_arg_exit, the first frame of the deepest call chain.
 */
__noinline int ktr_mmsghdrs(__u64 addr, __u64 count, int part)
{
	struct stage *st = resume();
	__u64 most, per = PLAN_MMSGHDR_PART / sizeof(struct mmsghdr_user);
	int got;

	if (!st)
		return 0;
	most = st->genio / sizeof(struct mmsghdr_user);
	if (count > PLAN_MMSG_MAX)
		count = PLAN_MMSG_MAX;
	if (count > most)
		count = most ? most : 1;
	got = emit_items(st, PLAN_TYPE_MMSGHDR, sizeof(struct mmsghdr_user), addr,
			 count < per ? count : per, part);
	if (got == PLAN_MMSGHDR_PART && count > per)
		emit_items(st, PLAN_TYPE_MMSGHDR, sizeof(struct mmsghdr_user),
			   addr + PLAN_MMSGHDR_PART, count - per, part);
	return got;
}

struct iocb_head {			/* struct iocb from aio_lio_opcode to aio_nbytes */
	__u16	opcode;
	__s16	reqprio;
	__u32	fildes;
	__u64	buf;
	__s64	nbytes;			/* a ssize_t to strace: negative ones are not followed */
};

_Static_assert(__builtin_offsetof(struct iocb_head, buf) == PLAN_IOCB_BUF - PLAN_IOCB_OPCODE &&
	       __builtin_offsetof(struct iocb_head, nbytes) == PLAN_IOCB_NBYTES - PLAN_IOCB_OPCODE,
	       "struct iocb's layout (linux_plan.IOCB_*)");

/*
 * What iocb pointer k of ktr_iocbs' (array_at, array_items) points to, when
 * not NULL: its STRU iocb, empty when it cannot be read, then what its
 * aio_buf holds (linux_plan's doc; the ptrace engine's iocbs_entry reads the
 * same).
 */
static __always_inline long iocb_step(struct stage *st, __u32 k)
{
	struct iocb_head h;
	__u64 iocb;

	if (k >= st->array_items ||
	    bpf_probe_read_user(&iocb, sizeof(iocb), (const void *)(st->array_at + k * sizeof(iocb))))
		return 1;
	if (!iocb)
		return 0;
	if (bpf_probe_read_user(&h, sizeof(h), (const void *)(iocb + PLAN_IOCB_OPCODE)) ||
	    emit_struct(st, PLAN_TYPE_IOCB, iocb, PLAN_IOCB_SIZE) < 0) {
		emit_struct(st, PLAN_TYPE_IOCB, iocb, 0);
		return 0;
	}
	if (h.nbytes < 0)
		return 0;
	if (h.opcode == PLAN_IOCB_CMD_PWRITE && h.buf) {
		emit_readable(st, PLAN_TYPE_BUF, h.buf, h.nbytes);
	} else if (h.opcode == PLAN_IOCB_CMD_PREADV || h.opcode == PLAN_IOCB_CMD_PWRITEV) {
		emit_items(st, PLAN_TYPE_IOVEC, sizeof(struct iovec), h.buf, h.nbytes, 1);
		if (h.opcode == PLAN_IOCB_CMD_PWRITEV)
			emit_iov_data(st, h.buf, h.nbytes);
	}
	return 0;
}
LOOP_STEP(iocb_step)

/* What the first PLAN_IOCBS_MAX of the ``count`` iocb pointers at ``addr`` (io_submit's, recorded) point to */
__noinline int ktr_iocbs(__u64 addr, __u64 count)
{
	struct stage *st = resume();

	if (!st)
		return 0;
	st->array_at = addr;
	st->array_items = count < PLAN_IOCBS_MAX ? count : PLAN_IOCBS_MAX;
	LOOP_OF_CALLS(PLAN_IOCBS_MAX, iocb_step, st);
	return 0;
}

/*
 * The string pointer k of the array ktr_pointee recorded (follow_items,
 * follow_count: the first PLAN_POINTER_STRINGS_MAX of them) points to, when
 * not NULL (linux_plan's Pointee.strings): STRU string, or an empty STRU
 * strpart when none can be read (the ptrace engine's _pointer_strings reads
 * the same).
 */
static __always_inline long pointer_string_step(struct stage *st, __u32 k)
{
	__u64 ptr;

	if (k >= st->follow_count ||
	    bpf_probe_read_user(&ptr, sizeof(ptr), (const void *)(st->follow_items + k * sizeof(ptr))))
		return 1;
	if (ptr && emit_string(st, KTR_STRUCT, PLAN_TYPE_STRING, ptr, capped(st, MAX_STRING), 1) < 0)
		emit_string(st, KTR_STRUCT, PLAN_TYPE_STRPART, ptr, 0, 0);
	return 0;
}
LOOP_STEP(pointer_string_step)

static __always_inline int page_part(const struct plan_arg *s)
{
	return s->type < PLAN_NTYPES && plan_page_part[s->type];
}

static __always_inline int place_kept(const struct plan_arg *s)
{
	return s->type < PLAN_NTYPES && plan_place_kept[s->type];
}

/*
 * A struct given a length of its own: when its bytes cannot all be read, the
 * longer of its known part (clone_args, open_how: the kernel's extensible
 * structs, as strace reads them) and, for a PAGE_PART_STRUCTS type, its first
 * page's part, that one at the last try (linux_plan's doc; the ptrace engine's
 * _struct_part reads the same).
 */
static __always_inline int emit_extensible(struct stage *st, struct plan_arg *s, __u64 addr,
					   int last)
{
	__u64 len = length_of(st, s, 0);
	__u64 part = first_page(addr);
	__u64 known = s->size < len ? s->size : 0;
	int got = emit_struct(st, s->type, addr, len);

	if (got >= 0)
		return got;
	if (page_part(s) && known <= part && part < len)
		return last ? emit_struct(st, s->type, addr, part) : got;
	return known ? emit_struct(st, s->type, addr, known) : got;
}

/* STRU clone_args, then its set_tid array as STRUCT_ARRAY int */
static __always_inline void emit_clone_args(struct stage *st, struct plan_arg *s, __u64 addr)
{
	__u64 set_tid[2];			/* clone_args: set_tid, set_tid_size */
	int got = emit_extensible(st, s, addr, 1);

	if (got >= PLAN_CLONE_ARGS_SET_TID + (int)sizeof(set_tid) &&
	    !bpf_probe_read_user(set_tid, sizeof(set_tid),
				 (const void *)(addr + PLAN_CLONE_ARGS_SET_TID)) &&
	    set_tid[1] <= PLAN_MAX_SET_TID)
		emit_array(st, PLAN_TYPE_INT, sizeof(int), set_tid[0], set_tid[1]);
}

/*
 * The count of ``width`` bytes (1 to 8) at ``addr`` into ``*count``; 0 when
 * read.  Bounded here, where it is read: older verifiers (Debian 6.1's)
 * forget a check of the caller's across its spills.
 */
static __always_inline long read_count(__u64 *count, __u64 width, __u64 addr)
{
	__u64 word[2] = {};	/* room for the bound the mask leaves */
	long err;

	masked(width, 15);
	err = bpf_probe_read_user(word, width, (const void *)addr);
	*count = word[0];
	return err;
}

/*
 * What one pointer field of the struct at ``addr`` points to (``p``), after
 * the struct's record of ``got`` bytes: a STRUCT_ARRAY, the readable items of
 * its first page when not all can be read (with no count field, width 0:
 * ``most`` items); a STRU, whole or none; or with no count and no item size a
 * string (the ptrace engine's _pointee reads the same).  The count is a field
 * of the struct (or of the struct its pointer at ``via`` points to), or the
 * low 32 bits of the argument count_arg names; none for a row of another
 * kind of struct (first_int).  The items of the array recorded (at
 * ``*items``), 0 for none (what their pointers hold: ktr_follow).
 */
static __always_inline __u64 emit_pointee(struct stage *st, const struct plan_pointee *p,
					  __u64 addr, int got, __u64 *items)
{
	__u64 ptr = 0, count = 0;
	__u32 width = p->width, elem = p->elem;
	int held;

	checked(width);		/* the bound checked is the one the read gets */
	if (got < p->record_end || width > sizeof(count))
		return 0;
	if (p->first_int >= 0 &&	/* a row for another kind of struct (SG_IO's v3, v4) */
	    (bpf_probe_read_user(&count, sizeof(__u32), (const void *)addr) ||
	     count != (__u64)p->first_int))
		return 0;
	if (p->via != NO_ARG &&		/* the fields of the struct a pointer of this one points to */
	    bpf_probe_read_user(&addr, sizeof(addr), (const void *)(addr + p->via)))
		return 0;
	if (bpf_probe_read_user(&ptr, sizeof(ptr), (const void *)(addr + p->ptr)))
		return 0;
	if (!width && !elem) {
		if (ptr && (st->fac & KTRFAC(KTR_STRUCT)))
			emit_string(st, KTR_STRUCT, p->type, ptr, capped(st, p->most), 1);
		return 0;
	}
	if (p->count_arg != NO_ARG)
		count = (__u32)arg_at(st, p->count_arg);
	else if (!width)
		count = p->most;
	else if (read_count(&count, width, addr + p->count_at))
		return 0;
	if (count > p->most)
		count = p->most;
	if (!elem) {
		if (ptr && count)
			emit_struct(st, p->type, ptr, count);
		return 0;
	}
	held = emit_items(st, p->type, elem, ptr, count, 1);
	if (held <= 0)
		return 0;
	*items = ptr;
	return (__u32)held / elem;
}

/*
 * What item k of the array ktr_pointee recorded (follow_items, follow_count
 * items of follow_elem bytes: the first PLAN_ITEMS_FOLLOWED of them) points
 * to, by the in_items row follow_id: STRU, whole (or a ``part`` row's first
 * page's part), or empty when it cannot be read; none for a 0 pointer or
 * count (the ptrace engine's _item_pointees reads the same).
 */
static __always_inline long item_pointee_step(struct stage *st, __u32 k)
{
	const struct plan_pointee *p;
	__u64 items, ptr, n;
	__u32 id = st->follow_id;

	checked(id);
	if (id >= PLAN_NPOINTEES || k >= st->follow_count)
		return 1;
	p = &plan_pointees[id];
	if (!p->width || p->width > sizeof(n))
		return 1;
	items = st->follow_items + (__u64)k * st->follow_elem;
	if (read_count(&n, p->width, items + p->count_at) ||
	    bpf_probe_read_user(&ptr, sizeof(ptr), (const void *)(items + p->ptr)))
		return 1;
	if (!ptr || !n)
		return 0;
	n = n > p->most ? p->most : n;
	if ((p->part ? emit_readable(st, p->type, ptr, n) : emit_struct(st, p->type, ptr, n)) < 0)
		emit_struct(st, p->type, ptr, 0);
	return 0;
}
LOOP_STEP(item_pointee_step)

/*
 * What the pointers in the array ktr_pointee last recorded hold, by the row
 * it left in follow_id: strings (Pointee.strings) or an in_items row's.  A
 * function of its own beside ktr_pointee, not under it: the two loops would
 * pass the 512 bytes of stack a chain of calls may have (Debian 6.1).
 */
__noinline int ktr_follow(void)
{
	struct stage *st = resume();
	__u32 id;

	if (!st)
		return 0;
	id = st->follow_id;
	if (id) {		/* (row 0: none) */
		/* apart: older verifiers keep no bound from (id - 1) < PLAN_NPOINTEES - 1 */
		checked(id);
		if (id < PLAN_NPOINTEES) {
			if (plan_pointees[id].in_items)
				LOOP_OF_CALLS(PLAN_ITEMS_FOLLOWED, item_pointee_step, st);
			else if (st->fac & KTRFAC(KTR_STRUCT))
				LOOP_OF_CALLS(PLAN_POINTER_STRINGS_MAX, pointer_string_step, st);
		}
	}
	st->follow_id = 0;
	return 0;
}

/*
 * What the pointer field of row ``id`` of the struct at ``addr`` points to
 * (linux_plan.Pointee: plan_pointees[id]), after its record at entry or
 * (``exiting``) at exit (emit_pointee); a row whose array's own pointers are
 * to be followed is left in follow_id for ktr_follow.  Returns the row to go
 * on to, the next that ``more`` joins (0: done).  A function of its own, of
 * one row: verified once, whatever the rows of a struct, and off
 * ktr_arg_exit's frame (SG_IO's header has 21 rows).
 */
__noinline int ktr_pointee(__u32 id, __u64 addr, int got, int exiting)
{
	struct stage *st = resume();
	const struct plan_pointee *p;

	if (!st || !id)		/* (row 0: none) */
		return 0;
	checked(id);		/* apart, as in ktr_follow */
	if (id >= PLAN_NPOINTEES)
		return 0;
	p = &plan_pointees[id];
	if (p->at_exit == exiting) {
		if (!p->in_items) {
			st->follow_count = emit_pointee(st, p, addr, got, &st->follow_items);
			st->follow_elem = p->elem;
		}
		if ((p->in_items || p->strings) && st->follow_count)
			st->follow_id = id;
	}
	return p->more ? id + 1 : 0;
}

/* What a struct's pointers point to (ktr_pointee), and what the arrays' own pointers do */
static __always_inline void pointees(struct stage *st, __u32 id, __u64 addr, int got, int exiting)
{
	st->follow_count = 0;
	for (int k = 0; k < PLAN_POINTEES_MAX && id; k++) {
		id = ktr_pointee(id, addr, got, exiting);
		ktr_follow();
	}
}

/* The _IOC direction bits (PLAN_IOC_WRITE, _READ) of the request a ROLE_IOC argument names */
static __always_inline __u32 ioc_dir(const struct stage *st, const struct plan_arg *s)
{
	return (arg_at(st, s->len_n) >> PLAN_IOC_DIR_SHIFT) & (PLAN_IOC_WRITE | PLAN_IOC_READ);
}

/* Roles whose entry record may be read again at exit (the kernel leaves the memory as it was) */
#define RETRY_ROLES	((1u << ROLE_PATH) | (1u << ROLE_IN_STRUCT) | (1u << ROLE_IN_ARRAY) | \
			 (1u << ROLE_IN_IOVEC) | (1u << ROLE_OUT_IOVEC) | (1u << ROLE_IN_STRING))

static __always_inline int retryable(__u32 role)
{
	return role < 32 && ((1u << role) & RETRY_ROLES);
}

/*
 * Entry records of argument i (after CALL): 1 when its memory was not
 * readable (not faulted in yet) and the record is to be tried at exit, or
 * when ``follow`` (an argument before it was put off so) and it could be:
 * it follows that one there, so that the records stay in argument order.
 */
static __always_inline int arg_entry(struct stage *st, __u32 i, int last, int follow)
{
	__u32 fac = st->fac;
	struct plan_arg s;
	__u64 addr;
	int got = 0;

	if (spec_of(st, i, &s))
		return 0;
	if (follow && retryable(s.role))	/* (the role a selector gives it) */
		return 1;
	addr = arg_at(st, i);
	switch (s.role) {
	case ROLE_PATH:
		if (fac & KTRFAC(KTR_NAMEI))
			got = emit_string(st, KTR_NAMEI, 0, addr, MAX_STRING, 1);
		break;
	case ROLE_IN_STRUCT:
	case ROLE_INOUT_STRUCT:
	case ROLE_IN_SIZED_STRUCT: {
		int final = last || !retryable(s.role);

		got = emit_extensible(st, &s, addr, final);
		if (got < 0 && final && place_kept(&s)) {
			emit_struct(st, s.type, addr, 0);	/* empty: unreadable (linux_plan's doc) */
			got = 0;
		}
		if (s.then)
			pointees(st, s.then, addr, got, 0);
		break;
	}
	case ROLE_IN_ARRAY:
	case ROLE_INOUT_ARRAY:
	case ROLE_IN_IOVEC:
	case ROLE_OUT_IOVEC:
		got = emit_items(st, s.type, s.size, addr, length_of(st, &s, 0),
				 last || !retryable(s.role));
		break;
	case ROLE_IN_MMSGHDR:
	case ROLE_OUT_MMSGHDR:
		got = ktr_mmsghdrs(addr, length_of(st, &s, 0), last || !retryable(s.role));
		break;
	case ROLE_IN_IOCBS: {
		__u64 count = length_of(st, &s, 0);

		if (count >= 1u << 31)		/* a negative or absurd count: none read */
			break;
		got = emit_items(st, s.type, s.size, addr, count, 1);
		if (got > 0 && (fac & KTRFAC(KTR_STRUCT)))
			ktr_iocbs(addr, got / s.size);
		got = 0;
		break;
	}
	case ROLE_IN_MSGHDR: {
		struct msghdr_user m;

		emit_msghdr(st, addr, &m);
		break;
	}
	case ROLE_OUT_MSGHDR:		/* as given: msg_namelen before the kernel sets it */
		emit_struct(st, s.type, addr, sizeof(struct msghdr_user));
		break;
	case ROLE_CLONE_ARGS:
		emit_clone_args(st, &s, addr);
		break;
	case ROLE_IOC:
		if (ioc_dir(st, &s) & PLAN_IOC_WRITE)
			emit_struct(st, s.type, addr, length_of(st, &s, 0));
		break;
	case ROLE_IN_STRING:
		if (addr && (fac & KTRFAC(KTR_STRUCT))) {
			int str = s.len_kind == LEN_NONE;
			__u64 len = capped(st, str ? MAX_STRING : length_of(st, &s, 0));

			got = emit_string(st, KTR_STRUCT, s.type, addr, len, str);
			/* no NUL before unreadable memory: its first page's part, or none (linux_plan's doc) */
			if (got < 0 && str && last) {
				__u64 part = first_page(addr) < len ? first_page(addr) : 0;

				if (!part || emit_string(st, KTR_STRUCT, PLAN_TYPE_STRPART, addr,
							 part, 0) < 0)
					emit_string(st, KTR_STRUCT, PLAN_TYPE_STRPART, addr, 0, 0);
				got = 0;
			}
		}
		break;
	}
	return got < 0 && retryable(s.role);
}

/* Exit records of argument i (before RET) */
static __always_inline void arg_exit(struct stage *st, __u32 i, long ret)
{
	__u32 fac = st->fac;
	struct plan_arg s;
	__u64 addr;
	int fd;

	if (spec_of(st, i, &s))
		return;
	addr = arg_at(st, i);
	fd = s.fd >= 0 ? (int)arg_at(st, s.fd) : -1;
	switch (s.role) {
	case ROLE_OUT_STRUCT:
	case ROLE_INOUT_STRUCT: {
		int got;

		if (ret < 0)
			break;
		if (page_part(&s))
			got = emit_readable(st, s.type, addr, length_of(st, &s, ret));
		else
			got = emit_struct(st, s.type, addr, length_of(st, &s, ret));
		if (s.then)
			pointees(st, s.then, addr, got, 1);
		break;
	}
	case ROLE_OUT_INTERRUPTED:		/* written back by the kernel on these failures */
	case ROLE_IN_SIZED_STRUCT:
		if (s.role == ROLE_OUT_INTERRUPTED ? ret >= -ERESTART_LAST && ret <= -ERESTART_FIRST
						   : ret == -PLAN_E2BIG)
			emit_struct(st, s.type, addr, length_of(st, &s, ret));
		break;
	case ROLE_OUT_ARRAY:
	case ROLE_INOUT_ARRAY:
		if (ret >= 0)
			emit_array(st, s.type, s.size, addr, length_of(st, &s, ret));
		break;
	case ROLE_IN_BUF:
	case ROLE_OUT_BUF:
		if (ret >= 0 && (fac & KTRFAC(KTR_GENIO))) {
			ktr_gio(fd, s.role == ROLE_IN_BUF, addr, length_of(st, &s, ret));
			if (s.role == ROLE_IN_BUF)
				ktr_unmoved(addr, arg_at(st, i + PLAN_BUF_COUNT), ret);
		} else if (PLAN_BUF_ON_FAILURE && ret < 0 && s.role == ROLE_IN_BUF)
			emit_readable(st, PLAN_TYPE_BUF, addr, arg_at(st, i + PLAN_BUF_COUNT));
		break;
	case ROLE_IN_IOVEC:
	case ROLE_OUT_IOVEC: {
		__u64 count = length_of(st, &s, 0);

		if (s.fd < 0) {		/* no descriptor moved the data: STRU iovdata */
			if (s.role == ROLE_IN_IOVEC)
				emit_iov_data(st, addr, count);
			else if (ret >= 0 && (fac & KTRFAC(KTR_STRUCT)))
				ktr_iovec_data(0, addr, count, ret, 1);
		} else if (ret >= 0) {
			if (fac & KTRFAC(KTR_GENIO))
				ktr_iovec_data(fd << 1 | (s.role == ROLE_IN_IOVEC), addr, count, ret, 0);
		} else if (PLAN_IOV_DATA_ON_FAILURE && s.role == ROLE_IN_IOVEC) {
			emit_iov_data(st, addr, count);
		}
		break;
	}
	case ROLE_IN_MSGHDR:
	case ROLE_OUT_MSGHDR: {
		struct msghdr_user m = {};

		if (s.role == ROLE_OUT_MSGHDR) {
			if (ret < 0 || emit_msghdr(st, addr, &m))
				break;
		} else if (bpf_probe_read_user(&m, sizeof(m), (const void *)addr)) {
			break;
		}
		if (ret >= 0) {
			if (fac & KTRFAC(KTR_GENIO))
				ktr_iovec_data(fd << 1 | (s.role == ROLE_IN_MSGHDR), m.iov, m.iovlen,
					       ret, 0);
		} else if (PLAN_IOV_DATA_ON_FAILURE) {
			emit_iov_data(st, m.iov, m.iovlen);
		}
		break;
	}
	case ROLE_IN_MMSGHDR:
	case ROLE_OUT_MMSGHDR: {	/* the messages moved (ret of them), then those given */
		__u64 moved = ret > 0 ? ret : 0, given = moved;

		if (ret > 0)
			ktr_mmsghdrs(addr, ret, 0);
		/* a sendmmsg's not sent (all of a failed one's) */
		if (s.role == ROLE_IN_MMSGHDR && (ret > 0 || (PLAN_IOV_DATA_ON_FAILURE && ret < 0)))
			given = length_of(st, &s, 0);
		if (given)
			mmsgs(st, fd << 1 | (s.role == ROLE_IN_MMSGHDR), addr, moved,
			      given > moved ? given : moved);
		break;
	}
	case ROLE_CLONE_ARGS: {
		/* CLONE_PIDFD: the pidfd the kernel stored through clone_args.pidfd */
		__u64 head[2] = {};		/* clone_args: flags, pidfd */

		if (ret > 0 && !bpf_probe_read_user(head, sizeof(head), (const void *)addr) &&
		    (head[0] & PLAN_CLONE_PIDFD))
			emit_struct(st, PLAN_TYPE_INT, head[1], sizeof(int));
		break;
	}
	case ROLE_IOC:
		if (ret >= 0 && (ioc_dir(st, &s) & PLAN_IOC_READ))
			emit_struct(st, s.type, addr, length_of(st, &s, ret));
		break;
	case ROLE_OUT_STRING:
		if (ret >= 0 && addr && (fac & KTRFAC(KTR_STRUCT))) {
			/* a byte count (readlink) or a NUL-terminated string (getcwd, PR_GET_NAME) */
			int str = s.len_kind == LEN_FIXED || ret == 0 || st->nr == NR_GETCWD;
			__u64 len = s.len_kind == LEN_FIXED ? s.len_n :
				    str ? MAX_STRING : length_of(st, &s, ret);

			emit_string(st, KTR_STRUCT, s.type, addr, capped(st, len), str);
		}
		break;
	}
}

/*
 * Entry records of argument i: 1 when they are to be tried again at exit;
 * ``last``: this is that try (memory still partly unreadable is recorded so);
 * ``follow``: arg_entry's
 */
__noinline int ktr_arg_entry(__u32 i, int last, int follow)
{
	struct stage *st = resume();

	return st ? arg_entry(st, i, last, follow) : 0;
}

/* Exit records of argument i */
__noinline int ktr_arg_exit(__u32 i, long ret)
{
	struct stage *st = resume();

	if (st)
		arg_exit(st, i, ret);
	return 0;
}

/*
 * SCTL: reading or writing a file under /proc/sys is Linux's sysctl.  The
 * record names it as sysctl(8) does: /proc/sys/kernel/hostname is
 * "kernel.hostname".  Written at the exit of the read or write, before GIO.
 */
#define PROC_SUPER_MAGIC	0x9fa0
#define SYSCTL_DEPTH		8

#ifndef KTR_NO_KFUNC
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/*
 * The file of the current task's descriptor ``fd``, or NULL.  Every syscall
 * that may be a sysctl asks, so this is plain (fault-safe) loads, no helper:
 * the descriptor's slot is read as the first member of a struct that
 * begins with a struct file pointer.
 */
static __always_inline struct file *file_of(struct task_struct *self, __u32 fd)
{
	struct fdtable *fdt = self->files->fdt;
	struct readahead_control *slot;

	if (!fdt || fd >= fdt->max_fds)
		return NULL;
	slot = bpf_rdonly_cast((void *)((__u64)fdt->fd + (__u64)fd * sizeof(void *)),
			       bpf_core_type_id_kernel(struct readahead_control));
	return slot->file;
}

static __always_inline int is_procfs(struct file *f)
{
	return f && f->f_inode->i_sb->s_magic == PROC_SUPER_MAGIC;
}
#else
/*
 * Kernels before 6.2 have no bpf_rdonly_cast, and a kfunc call, even one
 * never reached, makes the whole syscall-exit program unloadable there: the
 * loader picks this build (ktrace.compat.bpf.o), which reads by helper.
 */
static __always_inline struct file *file_of(struct task_struct *self, __u32 fd)
{
	struct fdtable *fdt = self->files->fdt;
	struct file *f = NULL;

	if (!fdt || fd >= fdt->max_fds)
		return NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fdt->fd[fd]);
	return f;
}

static __always_inline int is_procfs(struct file *f)
{
	return f && BPF_CORE_READ(f, f_inode, i_sb, s_magic) == PROC_SUPER_MAGIC;
}
#endif

/* The SCTL record of descriptor fd, a file of procfs */
__noinline int ktr_sysctl(__u32 fd)
{
	const unsigned char *names[SYSCTL_DEPTH];
	struct file *f = file_of(bpf_get_current_task_btf(), fd);
	struct dentry *d, *root;
	struct stage *st;
	int depth = 0, off, n;
	__u32 len = 0;
	__u8 *dst;

	st = resume();
	if (!st || !is_procfs(f))
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
	off = rec_begin(st, HDR + SYSCTL_DEPTH * 64);
	if (off < 0)
		return 0;
	dst = &st->buf[off + HDR];
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
	header(st, off, KTR_SYSCTL, len);
	rec_end(st, off, HDR + len);
	return 0;
}

/*
 * STRU fdesc of the current task's descriptor fd: its file's mode, device
 * number (as stat's st_rdev has it) and inode; none when devices_only and it
 * is no character or block device (global: the verifier checks it once, not
 * at each of its call sites)
 */
__noinline int ktr_emit_fdesc(__u32 fd, __u32 devices_only)
{
	struct stage *st = resume();
	struct file *f = st ? file_of(bpf_get_current_task_btf(), fd) : NULL;
	struct ktr_fdesc d = {.fd = fd};
	struct inode *inode;
	__u32 rdev, major, minor, kind;
	int off;

	if (!f)
		return 0;
	inode = BPF_CORE_READ(f, f_inode);
	d.mode = BPF_CORE_READ(inode, i_mode);
	kind = d.mode & S_IFMT;
	if (devices_only && kind != S_IFCHR && kind != S_IFBLK)
		return 0;
	rdev = BPF_CORE_READ(inode, i_rdev);
	major = rdev >> MINORBITS;
	minor = rdev & ((1u << MINORBITS) - 1);
	/* the kernel's new_encode_dev, which stat(2) applies */
	d.rdev = (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
	d.ino = BPF_CORE_READ(inode, i_ino);
	off = rec_begin(st, HDR + sizeof(KTR_FDESC_NAME) + sizeof(d));
	if (off < 0)
		return 0;
	__builtin_memcpy(&st->buf[off + HDR], KTR_FDESC_NAME, sizeof(KTR_FDESC_NAME));
	__builtin_memcpy(&st->buf[off + HDR + sizeof(KTR_FDESC_NAME)], &d, sizeof(d));
	header(st, off, KTR_STRUCT, sizeof(KTR_FDESC_NAME) + sizeof(d));
	rec_end(st, off, HDR + sizeof(KTR_FDESC_NAME) + sizeof(d));
	return 0;
}

/*
 * STRU parent: the comm of the current task's parent process, the one getppid
 * names (real_parent; /proc/PID/comm of a process is its leader's)
 */
__noinline int ktr_emit_parent(void)
{
	struct stage *st = resume();
	struct task_struct *leader;
	int off;

	if (!st)
		return 0;
	leader = BPF_CORE_READ(bpf_get_current_task_btf(), real_parent, group_leader);
	off = rec_begin(st, HDR + sizeof(KTR_PARENT_NAME) + KTR_PARENT_SIZE);
	if (off < 0)
		return 0;
	__builtin_memcpy(&st->buf[off + HDR], KTR_PARENT_NAME, sizeof(KTR_PARENT_NAME));
	__builtin_memset(&st->buf[off + HDR + sizeof(KTR_PARENT_NAME)], 0, KTR_PARENT_SIZE);
	if (leader)
		bpf_probe_read_kernel_str(&st->buf[off + HDR + sizeof(KTR_PARENT_NAME)],
					  KTR_PARENT_SIZE, &leader->comm);
	header(st, off, KTR_STRUCT, sizeof(KTR_PARENT_NAME) + KTR_PARENT_SIZE);
	rec_end(st, off, HDR + sizeof(KTR_PARENT_NAME) + KTR_PARENT_SIZE);
	return 0;
}

/*
 * The parts of the kernel's private socket types read for a sockinfo, as
 * CO-RE flavours: a kernel built with af_unix as a module has no unix_sock
 * in vmlinux's BTF, and a program that named it would not load there (each
 * read is behind bpf_core_type_exists).
 */
struct sockaddr_un___ktr {
	unsigned short sun_family;
	char sun_path[108];
} __attribute__((preserve_access_index));

struct unix_address___ktr {
	int len;
	struct sockaddr_un___ktr name[0];
} __attribute__((preserve_access_index));

struct unix_sock___ktr {
	struct unix_address___ktr *addr;
	struct sock *peer;
} __attribute__((preserve_access_index));

struct netlink_sock___ktr {
	__u32 portid;
} __attribute__((preserve_access_index));

/* the inode of a socket: the socket is the first half of a socket_alloc */
static __always_inline __u64 socket_ino(struct socket *sock)
{
	return sock ? BPF_CORE_READ((struct socket_alloc *)sock, vfs_inode.i_ino) : 0;
}

/* an inet socket's addresses, as getsockname and getpeername give them */
static __always_inline void inet_addresses(struct ktr_sockinfo *d, struct sock *sk, __u16 family)
{
	__u16 sport = bpf_htons(BPF_CORE_READ(sk, __sk_common.skc_num));
	__u16 dport = BPF_CORE_READ(sk, __sk_common.skc_dport);
	__u8 state = BPF_CORE_READ(sk, __sk_common.skc_state);
	/* inet_getname's ENOTCONN: no peer yet, or a connect still under way */
	int peer = dport && !((1u << state) & ((1u << TCP_CLOSE) | (1u << TCP_SYN_SENT)));

	__builtin_memcpy(d->local, &family, 2);
	__builtin_memcpy(d->local + 2, &sport, 2);
	if (peer) {
		__builtin_memcpy(d->remote, &family, 2);
		__builtin_memcpy(d->remote + 2, &dport, 2);
	}
	if (family == AF_INET) {		/* sockaddr_in: the address at 4 */
		d->local_len = 16;
		bpf_core_read(d->local + 4, 4, &sk->__sk_common.skc_rcv_saddr);
		if (peer) {
			d->remote_len = 16;
			bpf_core_read(d->remote + 4, 4, &sk->__sk_common.skc_daddr);
		}
	} else if (bpf_core_field_exists(sk->__sk_common.skc_v6_rcv_saddr)) {
		d->local_len = 28;		/* sockaddr_in6: the address at 8 */
		bpf_core_read(d->local + 8, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		if (peer) {
			d->remote_len = 28;
			bpf_core_read(d->remote + 8, 16, &sk->__sk_common.skc_v6_daddr);
		}
	}
}

/* a Unix socket's name (what getsockname gives: the family alone when unbound) and peer */
static __always_inline void unix_addresses(struct ktr_sockinfo *d, struct sock *sk)
{
	struct unix_sock___ktr *u = (void *)sk;
	struct unix_address___ktr *addr;
	struct sock *peer;
	__u16 family = AF_UNIX;
	int len;

	if (!bpf_core_type_exists(struct unix_sock___ktr))
		return;
	addr = BPF_CORE_READ(u, addr);
	len = addr ? BPF_CORE_READ(addr, len) : 0;
	d->local_len = 2;
	__builtin_memcpy(d->local, &family, 2);
	if (len > 2 && len <= (int)sizeof(d->local)) {
		__u64 size = len;

		masked(size, 127);
		if (!bpf_probe_read_kernel(d->local, size, (void *)addr +
					   bpf_core_field_offset(struct unix_address___ktr, name)))
			d->local_len = len;
	}
	peer = BPF_CORE_READ(u, peer);
	if (peer)
		d->peer_ino = socket_ino(BPF_CORE_READ(peer, sk_socket));
}

/*
 * STRU sockinfo of the current task's descriptor fd (linux_plan's
 * SOCKET_STATES); none when it is no socket (global, as ktr_emit_fdesc)
 */
__noinline int ktr_emit_sockinfo(__u32 fd)
{
	struct stage *st = resume();
	struct file *f = st ? file_of(bpf_get_current_task_btf(), fd) : NULL;
	struct ktr_sockinfo *d;
	struct socket *sock;
	struct proto *prot;
	struct sock *sk;
	__u16 family;
	int off;

	if (!f || (BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return 0;
	sock = BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return 0;
	off = rec_begin(st, HDR + sizeof(KTR_SOCKINFO_NAME) + sizeof(*d));
	if (off < 0)
		return 0;
	__builtin_memcpy(&st->buf[off + HDR], KTR_SOCKINFO_NAME, sizeof(KTR_SOCKINFO_NAME));
	d = (void *)&st->buf[off + HDR + sizeof(KTR_SOCKINFO_NAME)];
	__builtin_memset(d, 0, sizeof(*d));
	d->fd = fd;
	d->ino = socket_ino(sock);
	/* the protocol it was made with, as sockfs names it (an IPV6_ADDRFORM changes sk_prot) */
	prot = BPF_CORE_READ(sk, sk_prot_creator);
	if (prot)
		bpf_probe_read_kernel_str(d->protocol, sizeof(d->protocol), &prot->name);
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family == AF_UNIX) {
		unix_addresses(d, sk);
	} else if (family == AF_INET || family == AF_INET6) {
		inet_addresses(d, sk, family);
	} else if (family == AF_NETLINK && bpf_core_type_exists(struct netlink_sock___ktr)) {
		__u32 portid = BPF_CORE_READ((struct netlink_sock___ktr *)sk, portid);

		__builtin_memcpy(d->local, &family, 2);	/* sockaddr_nl: the port id at 4 */
		__builtin_memcpy(d->local + 4, &portid, 4);
		d->local_len = 12;
	}
	header(st, off, KTR_STRUCT, sizeof(KTR_SOCKINFO_NAME) + sizeof(*d));
	rec_end(st, off, HDR + sizeof(KTR_SOCKINFO_NAME) + sizeof(*d));
	return 0;
}

/*
 * The part of kvm's types read for a kvmexit, as CO-RE flavours: kvm is most
 * often a module, whose types are in its own BTF (libbpf looks there too), or
 * nowhere when it is not loaded; the read is behind bpf_core_type_exists, so
 * the program loads without them.  kvm_run is the page a vcpu's descriptor
 * maps (its exit_reason is uapi's, at 8).
 */
struct kvm_run___ktr {
	__u32 exit_reason;
} __attribute__((preserve_access_index));

struct kvm_vcpu___ktr {
	struct kvm_run___ktr *run;
} __attribute__((preserve_access_index));

#define ANON_INODE_FS_MAGIC	0x09041934
#define VCPU_PREFIX		"kvm-vcpu:"	/* create_vcpu_fd's name of its anon inode */
#define VCPU_PREFIX_LEN		(sizeof(VCPU_PREFIX) - 1)

/*
 * STRU kvmexit of the current task's descriptor fd after a successful KVM_RUN
 * (linux_plan.VCPU_EXITS), when it is a kvm vcpu's: an anonymous inode named
 * kvm-vcpu:ID, whose private_data is the struct kvm_vcpu
 */
__noinline int ktr_kvmexit(__u32 fd)
{
	struct stage *st = resume();
	struct file *f = st ? file_of(bpf_get_current_task_btf(), fd) : NULL;
	struct ktr_kvmexit rec = {.name = KTR_KVMEXIT_NAME};
	char name[VCPU_PREFIX_LEN];
	struct kvm_vcpu___ktr *vcpu;
	struct kvm_run___ktr *run;

	if (!f || !bpf_core_type_exists(struct kvm_vcpu___ktr) ||
	    BPF_CORE_READ(f, f_inode, i_sb, s_magic) != ANON_INODE_FS_MAGIC ||
	    bpf_probe_read_kernel(name, sizeof(name), BPF_CORE_READ(f, f_path.dentry, d_name.name)))
		return 0;
	for (int i = 0; i < VCPU_PREFIX_LEN; i++) {
		if (name[i] != VCPU_PREFIX[i])
			return 0;
	}
	vcpu = BPF_CORE_READ(f, private_data);
	run = BPF_CORE_READ(vcpu, run);
	if (!run || bpf_core_read(&rec.reason, sizeof(rec.reason), &run->exit_reason))
		return 0;
	emit_fixed(st, KTR_STRUCT, &rec, sizeof(rec));
	return 0;
}

/* socketpair's two sockets (their int[2] at ``addr``): off ktr_sys_exit's frame */
__noinline int ktr_socketpair(__u64 addr)
{
	int pair[2];

	if (bpf_probe_read_user(pair, sizeof(pair), (const void *)addr))
		return 0;
	ktr_emit_fdesc(pair[0], 0);
	ktr_emit_fdesc(pair[1], 0);
	ktr_emit_sockinfo(pair[0]);
	ktr_emit_sockinfo(pair[1]);
	return 0;
}

/*
 * STRU fdesc of each socket a call made, of a device a call opened, and of
 * pidfd_getfd's new descriptor (linux_plan's doc: strace -y's socket:[INODE],
 * -yy's device numbers); then STRU sockinfo of each socket a call made or may
 * have changed (linux_plan's SOCKET_STATES: a bind's, listen's or connect's
 * whatever the result); getppid's STRU parent (linux_plan's PARENT_NAMED),
 * a KVM_RUN's STRU kvmexit (linux_plan's VCPU_EXITS)
 */
static __always_inline void new_descriptors(__s64 nr, const struct pt_regs *regs, long ret)
{
	if (nr == NR_BIND || nr == NR_LISTEN || nr == NR_CONNECT) {
		ktr_emit_sockinfo(regs->di);
	} else if (ret < 0) {
		return;
	} else if (nr == NR_SOCKET || nr == NR_ACCEPT || nr == NR_ACCEPT4) {
		ktr_emit_fdesc(ret, 0);
		ktr_emit_sockinfo(ret);
	} else if (nr == NR_OPEN || nr == NR_OPENAT || nr == NR_OPENAT2 || nr == NR_CREAT ||
		   nr == NR_OPEN_TREE) {
		ktr_emit_fdesc(ret, 1);
	} else if (nr == NR_PIDFD_GETFD) {
		ktr_emit_fdesc(ret, 0);
	} else if (nr == NR_GETPPID) {
		ktr_emit_parent();
	} else if (nr == NR_IOCTL && (__u32)regs->si == KVM_RUN) {
		ktr_kvmexit(regs->di);
	} else if (nr == NR_SOCKETPAIR) {
		ktr_socketpair(regs->r10);
	}
}

/*
 * ARGS/ENVS of an execve: after a success from the new image (its argument
 * and environment areas, as the kernel copied them there; an empty one is
 * an empty record, as the ptrace engine writes it), after a failure from the
 * caller's argv and envp arrays, which are still in place.
 */
static __always_inline void exec_area(struct stage *st, int type, __u64 start, __u64 end)
{
	if ((st->fac & KTRFAC(type)) && end >= start)
		emit_string(st, type, 0, start, end - start, 0);
}

/* String i of the array, at ``ptr``, could not be read: noted, of the first few */
static __always_inline void exec_fault(struct stage *st, __u32 i, __u64 ptr)
{
	__u32 k = st->exec_nfaults;

	checked(k);
	if (k < PLAN_ARGV_FAULTS_MAX) {
		st->exec_faults[1 + 2 * k] = i;
		st->exec_faults[2 + 2 * k] = ptr;
		st->exec_nfaults = k + 1;
	}
}

/* String i of the array walk_src into the record at walk_at (walk_len bytes so far) */
static __always_inline long exec_string(struct stage *st, __u32 i)
{
	__u64 len = st->walk_len, at = st->walk_at, ptr = 0;
	long n;

	checked(len);
	checked(at);
	if (len >= MAX_DATA || at >= STAGE_LIMIT + HDR)
		return 1;
	if (bpf_probe_read_user(&ptr, sizeof(ptr), (const void *)(st->walk_src + i * sizeof(ptr)))) {
		st->exec_faults[0] = i;		/* the array's pointer that could not be read */
		return 1;
	}
	if (!ptr)
		return 1;
	n = bpf_probe_read_user_str(&st->buf[at + len], MAX_DATA - len, (const void *)ptr);
	if (n <= 0) {			/* unreadable: an empty string, as ptrace does */
		exec_fault(st, i, ptr);
		st->buf[at + len] = 0;
		n = 1;
	}
	st->walk_len = len + n;
	return 0;
}
LOOP_STEP(exec_string)

/*
 * STRU argvfault after the ARGS/ENVS of a failed execve, when some of its
 * array could not be read: the index of the unreadable pointer, then the
 * (index, pointer) pairs noted.
 */
static __always_inline void emit_exec_faults(struct stage *st)
{
	__u32 n = st->exec_nfaults, len;
	int off;

	if (!(st->fac & KTRFAC(KTR_STRUCT)) || (st->exec_faults[0] == PLAN_ARGV_READ_ALL && !n))
		return;
	off = rec_begin(st, HDR + sizeof(PLAN_ARGV_FAULTS_NAME) + sizeof(st->exec_faults));
	if (off < 0)
		return;
	if (n > PLAN_ARGV_FAULTS_MAX)
		n = PLAN_ARGV_FAULTS_MAX;
	len = sizeof(PLAN_ARGV_FAULTS_NAME) + (1 + 2 * n) * sizeof(__u64);
	__builtin_memcpy(&st->buf[off + HDR], PLAN_ARGV_FAULTS_NAME, sizeof(PLAN_ARGV_FAULTS_NAME));
	bpf_probe_read_kernel(&st->buf[off + HDR + sizeof(PLAN_ARGV_FAULTS_NAME)],
			      sizeof(st->exec_faults), st->exec_faults);
	header(st, off, KTR_STRUCT, len);
	rec_end(st, off, HDR + len);
}

/*
 * One ARGS/ENVS record of a failed execve: the strings of a NULL-terminated
 * array of pointers; then what of it could not be read.
 */
__noinline int ktr_exec_strings(__u32 type, __u64 vec)
{
	struct stage *st = resume();
	__u32 len;
	int off;

	if (!st || !vec || (type != KTR_ARGS && type != KTR_ENVS))
		return 0;
	off = rec_begin(st, HDR + MAX_DATA);
	if (off < 0)
		return 0;
	st->walk_src = vec;
	st->walk_at = off + HDR;
	st->walk_len = 0;
	st->exec_faults[0] = PLAN_ARGV_READ_ALL;
	st->exec_nfaults = 0;
	LOOP(MAX_EXEC_STRINGS, exec_string, st);
	len = st->walk_len & (MAX_DATA * 2 - 1);
	header(st, off, type, len);
	rec_end(st, off, HDR + len);
	emit_exec_faults(st);
	return 0;
}

static __noinline void exec_strings(struct stage *st, const struct plan_syscall *ps, long ret)
{
	if (ret == 0) {
		struct mm_struct *mm = bpf_get_current_task_btf()->mm;

		if (!mm)
			return;
		exec_area(st, KTR_ARGS, BPF_CORE_READ(mm, arg_start), BPF_CORE_READ(mm, arg_end));
		exec_area(st, KTR_ENVS, BPF_CORE_READ(mm, env_start), BPF_CORE_READ(mm, env_end));
	} else if (PLAN_EXEC_ON_FAILURE && ret < 0) {
		if (st->fac & KTRFAC(KTR_ARGS))
			ktr_exec_strings(KTR_ARGS, arg_at(st, ps->argv_arg));
		if ((st->fac & KTRFAC(KTR_ENVS)) && ps->envp_arg != NO_ARG)
			ktr_exec_strings(KTR_ENVS, arg_at(st, ps->envp_arg));
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
static __always_inline void fault_end(struct stage *st, __u32 tid, int result)
{
	struct ktr_faultend fe = {.result = result};
	__u8 ts = thread_get(tid);

	if (!(ts & TS_FAULT))
		return;
	thread_set(tid, ts & ~TS_FAULT);
	if (st->fac & KTRFAC(KTR_FAULTEND))
		emit_fixed(st, KTR_FAULTEND, &fe, sizeof(fe));
}

/* ------------------------------------------------------------ syscalls */

static __always_inline __s32 freebsd_errno(long ret)
{
	__u64 e = -ret;

	if (e >= ERESTART_FIRST && e <= ERESTART_LAST)
		return -1;			/* ERESTART */
	if (e == 0 || e > ERRNO_MAX)
		return 0x10000 | e;
	/* the table is a power of two long: a mask is a bound every verifier keeps */
	masked(e, ERRNO_TABLE - 1);
	return plan_freebsd_errno[e];
}

/* The six argument registers of the x86-64 syscall ABI */
static __always_inline void copy_args(__u64 *dst, const struct pt_regs *regs)
{
	dst[0] = regs->di;
	dst[1] = regs->si;
	dst[2] = regs->dx;
	dst[3] = regs->r10;
	dst[4] = regs->r8;
	dst[5] = regs->r9;
}

/*
 * An i386 syscall (int $0x80) of a 64-bit process: the kernel marks the task
 * TS_COMPAT for the call's duration (arch/x86/include/asm/thread_info.h; what
 * in_ia32_syscall() reads).  Its number is i386's while the plans are keyed by
 * x86-64's, so it records its CALL and RET only, each between PROCCTORs that
 * say so (docs/design.md, "i386 syscalls"), as the ptrace engine does.
 */
#define TS_COMPAT	0x0002

static __always_inline int in_i386(struct task_struct *self)
{
	return self->thread_info.status & TS_COMPAT;
}

static __always_inline void abi_ctor(struct stage *st, __u32 sv_flags)
{
	struct ktr_proc_ctor ctor = {.sv_flags = sv_flags};

	emit_fixed(st, KTR_PROCCTOR, &ctor, sizeof(ctor));
}

/*
 * The CALL (of st->nr, st->args) or the RET (``ret``) of an i386 syscall,
 * marked.  A function of its own: verified once, not in the syscall
 * programs' paths.
 */
__noinline int ktr_sysret(__s64 nr, long ret);

__noinline int ktr_i386(int type, long ret)
{
	struct stage *st = resume();

	if (!st)
		return 0;
	abi_ctor(st, SV_LINUX_I386);
	if (type == KTR_SYSCALL) {
		struct ktr_syscall sc = {.ktr_code = st->nr, .ktr_narg = 6};

		__builtin_memcpy(sc.ktr_args, st->args, sizeof(sc.ktr_args));
		emit_fixed(st, KTR_SYSCALL, &sc, sizeof(sc));
	} else {
		ktr_sysret(st->nr, ret);
	}
	abi_ctor(st, SV_LINUX_X86_64);
	return 0;
}

/* The six argument registers of the i386 syscall ABI, 32 bits each as the kernel takes them */
static __always_inline void save_i386_args(struct stage *st, const struct pt_regs *regs, long nr)
{
	st->nr = nr;
	st->args[0] = (__u32)regs->bx;
	st->args[1] = (__u32)regs->cx;
	st->args[2] = (__u32)regs->dx;
	st->args[3] = (__u32)regs->si;
	st->args[4] = (__u32)regs->di;
	st->args[5] = (__u32)regs->bp;
}

static __always_inline void save_args(struct stage *st, const struct pt_regs *regs, long nr)
{
	st->nr = nr;
	copy_args(st->args, regs);
}

/*
 * --lossless: a thread about to return to user space while the ring is
 * fuller than throttle_bytes gets SIGSTOP.  ktrace has seized it, so the
 * signal stops it in a signal-delivery-stop that only ktrace sees; ktrace
 * lets it go (dropping the signal) once the ring has drained.  It is sent
 * only to processes ktrace has seized (KTR_OPT_THROTTLE).
 */
static __always_inline void throttle(struct stage *st)
{
	if (!ktr_cfg.throttle_bytes || !(st->opts & KTR_OPT_THROTTLE))
		return;
	if (bpf_ringbuf_query(&ring, BPF_RB_AVAIL_DATA) + st->pos >= ktr_cfg.throttle_bytes)
		bpf_send_signal_thread(SIGSTOP);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(ktr_sys_enter, struct pt_regs *regs, long id)
{
	const struct plan_syscall *ps;
	__u8 state = TS_ENTERED;
	struct stage *st;
	struct who w;
	__u32 fac;

	st = begin(&w);
	if (!st)
		return 0;
	fac = st->fac;
	fault_end(st, w.tid, KERN_SUCCESS);
	if (in_i386(w.self)) {
		if (fac & KTRFAC(KTR_SYSCALL)) {
			save_i386_args(st, regs, id);
			ktr_i386(KTR_SYSCALL, 0);
		}
		thread_set(w.tid, TS_ENTERED);
		end(st);
		return 0;
	}
	ps = plan_of(id);
	if (fac & KTRFAC(KTR_SYSCALL)) {
		int off = rec_begin(st, HDR + sizeof(struct ktr_syscall));
		__u32 narg = 6;

		if (ps && ps->nargs >= 0 && ps->nargs < 6)
			narg = ps->nargs;
		else if (id == KTRACE_UTRACE_NR)
			narg = UTRACE_NARGS;
		if (off >= 0) {
			struct ktr_syscall *sc = (void *)&st->buf[off + HDR];

			header(st, off, KTR_SYSCALL, 8 + 8 * narg);
			sc->ktr_code = id;
			sc->ktr_narg = narg;
			sc->ktr_pad = 0;
			copy_args(sc->ktr_args, regs);
			rec_end(st, off, HDR + 8 + 8 * narg);
		}
	}
	if (id == KTRACE_UTRACE_NR && (fac & KTRFAC(KTR_USER)) && regs->si <= KTR_USER_MAXLEN)
		emit_string(st, KTR_USER, 0, regs->di, regs->si, 0);
	if (ps && ps->entry_args && (ps->records & fac)) {
		__u8 todo = ps->entry_args;

		save_args(st, regs, id);
		/*
		 * The bits gather in the stage, not in a register: the verifier
		 * would take every combination of them as a path of its own.
		 */
		WRITE_ONCE(st->put_off, 0);
		for (int i = 0; i < 6; i++) {
			if (!(todo & (1u << i)))
				continue;
			/* after one is put off to the exit, the rest follow it there, in order */
			if (ktr_arg_entry(i, 0, READ_ONCE(st->put_off) != 0))
				WRITE_ONCE(st->put_off, READ_ONCE(st->put_off) | TS_RETRY << i);
		}
		state |= READ_ONCE(st->put_off);
	}
	if (id == NR_RT_SIGRETURN)
		state |= TS_SIGRETURN;
	thread_set(w.tid, state);
	if (id == NR_PRCTL)		/* PR_SET_NAME: the RET carries the new name */
		__sync_fetch_and_add(&ktr_live.comm_gen, 1);
	end(st);
	return 0;
}

/*
 * A thread with SIGKILL pending (a kill, or exit_group or exec in another
 * thread) never returns from the call it leaves: its return value reaches
 * nobody, and ptrace and strace see no return at all (strace's "= ?").
 * pending.signal is as old as Linux: safe on every kernel we load on.  A
 * plain load through the task's BTF pointer, not a helper call: every
 * syscall exit asks.
 */
static __always_inline int dying(struct task_struct *self)
{
	return (self->pending.signal.sig[0] >> (SIGKILL - 1)) & 1;
}

/*
 * The SYSRET record of syscall ``nr``'s return ``ret``.  A function of its
 * own: in ktr_sys_exit, the errno table's index would make each range ``ret``
 * has there (the branches on it before) a path of its own to the end.
 */
__noinline int ktr_sysret(__s64 nr, long ret)
{
	struct stage *st = resume();
	struct ktr_sysret *sr;
	int off;

	if (!st)
		return 0;
	off = rec_begin(st, HDR + sizeof(struct ktr_sysret));
	if (off < 0)
		return 0;
	sr = (void *)&st->buf[off + HDR];
	header(st, off, KTR_SYSRET, sizeof(*sr));
	sr->ktr_code = nr;
	sr->ktr_eosys = 0;
	sr->ktr_error = ret < 0 && ret >= -4095 ? freebsd_errno(ret) : 0;
	sr->ktr_retval = ret;
	rec_end(st, off, HDR + sizeof(*sr));
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(ktr_sys_exit, struct pt_regs *regs, long ret)
{
	const struct plan_syscall *ps = NULL;
	struct stage *st;
	struct who w;
	__s64 nr;
	__u32 fac;
	__u8 state;
	int returns;

	st = begin(&w);
	if (!st)
		return 0;
	fac = st->fac;
	returns = !dying(w.self);	/* else: the entry records put off to now only */
	nr = regs->orig_ax;
	state = thread_get(w.tid);
	if (in_i386(w.self)) {
		if (returns && (fac & KTRFAC(KTR_SYSRET))) {
			st->nr = nr;
			ktr_i386(KTR_SYSRET, ret);
		}
		thread_set(w.tid, state & TS_FAULT);
		throttle(st);
		end(st);
		return 0;
	}
	if (nr == -1 && (state & TS_SIGRETURN)) {
		/* it sets orig_ax to -1 (no restart); a syscall(-1) of the program's does not */
		nr = NR_RT_SIGRETURN;
		state &= ~TS_SIGRETURN;
	}
	/* the arguments are still in the registers (x86-64 leaves them as they came) */
	if (state & TS_ENTERED)
		ps = plan_of(nr);
	if (ps && returns && ret >= 0 && (fac & KTRFAC(KTR_SYSCTL)) && nr < 64 &&
	    (1ull << nr) & FILE_IO_CALLS && is_procfs(file_of(w.self, regs->di)))
		ktr_sysctl(regs->di);
	if (ps && (ps->records & fac)) {
		/* entry records put off to now first (in argument order), then the exit's */
		__u8 late = state >> 2, todo = returns ? ps->exit_args : 0;

		if (ps->argv_arg != NO_ARG && ret == 0)
			late = 0;		/* the old image's memory is gone (see ktr_exec) */
		if (late | todo | (ps->argv_arg != NO_ARG))
			save_args(st, regs, nr);
		for (int i = 0; i < 6 && late; i++) {
			if (late & (1u << i))
				ktr_arg_entry(i, 1, 0);
		}
		if (returns && ps->fast_gio >= 0 && ret >= 0 && (fac & KTRFAC(KTR_GENIO))) {
			ktr_gio(regs->di, ps->fast_gio, regs->si, ret);
			if (ps->fast_gio == 1)	/* a write: dx its count (argument 1 + PLAN_BUF_COUNT) */
				ktr_unmoved(regs->si, regs->dx, ret);
		} else if (PLAN_BUF_ON_FAILURE && returns && ps->fast_gio == 1 && ret < 0)
			emit_readable(st, PLAN_TYPE_BUF, regs->si, regs->dx);	/* dx: argument 1 + PLAN_BUF_COUNT */
		for (int i = 0; i < 6 && todo; i++) {
			if (todo & (1u << i))
				ktr_arg_exit(i, ret);
		}
		if (returns && ps->argv_arg != NO_ARG)
			exec_strings(st, ps, ret);
	}
	if (returns && (fac & KTRFAC(KTR_STRUCT)))
		new_descriptors(nr, regs, ret);
	if (returns && (fac & KTRFAC(KTR_SYSRET)))
		ktr_sysret(nr, ret);
	thread_set(w.tid, state & TS_FAULT);
	throttle(st);
	end(st);
	return 0;
}

/* ------------------------------------------------------------ lifecycle */

/*
 * STRU nspid of ``task``, which a traced task's fork or clone made (w: its
 * ids), when its own pid namespace numbers it otherwise than ktrace's (the
 * process's entry loaded by proc_load).
 */
static __noinline void nspid_record(struct stage *st, struct task_struct *task,
				    const struct who *w)
{
	struct ktr_nspid rec = {.name = KTR_NSPID_NAME};
	struct pid *pid = BPF_CORE_READ(task, thread_pid);
	__u32 level = BPF_CORE_READ(pid, level);
	struct upid up = {};

	if (!(st->fac & KTRFAC(KTR_SYSCALL)) || level >= PIDNS_LEVELS)
		return;
	bpf_probe_read_kernel(&up, sizeof(up), &pid->numbers[level]);
	if (!up.nr || up.nr == w->tid)
		return;
	rec.tid = up.nr;
	ev_begin(st, w);
	emit_fixed(st, KTR_STRUCT, &rec, sizeof(rec));
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(ktr_fork, struct task_struct *parent, struct task_struct *child)
{
	struct ktr_proc_ctor ctor = {.sv_flags = SV_LINUX_X86_64};
	struct ktr_proc np = {}, *p;
	struct stage *st;
	struct who w;

	if (current_who(&w) || !maybe(w.pid))
		return 0;
	p = bpf_map_lookup_elem(&procs, &w.pid);
	if (!p)
		return 0;
	np.parent = w.pid;
	task_who(child, &w);
	thread_set(w.tid, 0);			/* a new thread: whatever its id did before */
	if (w.pid == np.parent) {
		/* a thread, which may run elsewhere first: the records before it go now */
		st = my_stage();
		if (st && !st->busy) {
			st->busy = 1;
			ktr_send();
			if (!proc_load(st, w.pid)) {
				nspid_record(st, child, &w);
				ktr_send();
			}
			st->busy = 0;
		}
		return 0;
	}
	if (!(p->flags & KTRFAC_INHERIT) || !w.pid)
		return 0;			/* invisible to ktrace */
	np.flags = p->flags & ~KTRFAC_DROP;
	np.genio_size = p->genio_size;
	np.opts = p->opts & KTR_OPT_OWNER_ROOT;
	if (BPF_CORE_READ(child, ptrace))	/* followed by ktrace's ptrace too */
		np.opts |= p->opts & KTR_OPT_THROTTLE;
	if (bpf_map_update_elem(&procs, &w.pid, &np, BPF_ANY))
		return 0;
	mark_traced(w.pid);
	if (np.flags & KTRFAC(KTR_CSW))
		__sync_fetch_and_add(&ktr_live.csw_inherited, 1);
	st = my_stage();
	if (!st || st->busy)
		return 0;
	st->busy = 1;
	if (!proc_load(st, w.pid)) {
		ev_begin(st, &w);
		emit_fixed(st, KTR_PROCCTOR, &ctor, sizeof(ctor));
		nspid_record(st, child, &w);
		if (st->pos && st->pid == w.pid) {
			/* tells the loader whose child it is; sent now, as the child may run elsewhere */
			st->flags |= KTR_BATCH_FORK;
			((struct ktr_batch *)st->buf)->aux = np.parent;
			ktr_send();
		}
	}
	end(st);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(ktr_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct ktr_proc_ctor ctor = {.sv_flags = SV_LINUX_X86_64};
	struct stage *st;
	struct who w;
	__u32 former;
	__u8 state;

	__sync_fetch_and_add(&ktr_live.comm_gen, 1);	/* (for any process: cheap) */
	st = begin(&w);
	if (!st)
		return 0;
	/*
	 * A thread not the leader took the leader's id (the leader's state was
	 * cleared as it exited): its state goes with it, and this event's
	 * records have the id it called exec with (docs/design.md).  old_pid is
	 * the initial namespace's: in a nested one the former id is not known,
	 * and the thread is in its exec call whatever the id's state says.
	 */
	if (ktr_cfg.pidns_level) {
		former = w.tid;
		state = thread_get(former) | TS_ENTERED;
	} else {
		former = old_pid;
		state = thread_get(former);
	}
	thread_set(former, 0);
	st->tmpl.ktr_tid = former;
	if ((state & TS_RETRY) && (st->fac & KTRFAC(KTR_NAMEI)) && HAVE_TASK_PT_REGS &&
	    BPF_CORE_READ((struct pt_regs *)bpf_task_pt_regs(task), orig_ax) == NR_EXECVE) {
		/* execve's path, unreadable at entry: the kernel's copy, as the old memory goes */
		struct ureq r = {.src = (__u64)BPF_CORE_READ(bprm, filename), .len = MAX_STRING,
				 .type = KTR_NAMEI, .str = 1, .kernel = 1};

		emit_user(st, &r);
		state &= ~TS_RETRY;
	}
	thread_set(w.tid, state);
	if (BPF_CORE_READ_BITFIELD(bprm, secureexec) && !(st->opts & KTR_OPT_OWNER_ROOT)) {
		/* ktrprocexec(): privilege gained and the tracer is not root */
		struct ktr_batch note = {.pid = w.pid, .flags = KTR_BATCH_EXEC_PRIV};
		struct ktr_proc *p = bpf_map_lookup_elem(&procs, &w.pid);

		ktr_send();
		if (p && p->parent && (p->flags & KTRFAC(KTR_CSW)))
			__sync_fetch_and_add(&ktr_live.csw_inherited, -1);
		forget_proc(w.pid);
		bpf_ringbuf_output(&ring, &note, sizeof(note), BPF_RB_FORCE_WAKEUP);
	} else {
		emit_fixed(st, KTR_PROCCTOR, &ctor, sizeof(ctor));
	}
	end(st);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(ktr_exit, struct task_struct *task)
{
	struct ktr_proc *p;
	struct stage *st;
	struct who w;
	int lost = 0;

	st = begin(&w);
	if (!st)
		return 0;
	fault_end(st, w.tid, KERN_SUCCESS);
	thread_set(w.tid, 0);
	p = bpf_map_lookup_elem(&procs, &w.pid);
	/*
	 * The last thread out ends the process.  Older kernels (6.12) do not
	 * pass group_dead, but do_exit() has counted this thread out of
	 * signal->live before the tracepoint; two threads ending together may
	 * both see zero, so the first to claim the entry writes the PROCDTOR.
	 */
	if (p && !BPF_CORE_READ(task, signal, live.counter) &&
	    !(__sync_fetch_and_or(&p->opts, KTR_OPT_DEAD) & KTR_OPT_DEAD)) {
		emit_fixed(st, KTR_PROCDTOR, NULL, 0);
		if (st->pos && st->pid == w.pid) {
			st->flags |= KTR_BATCH_EXIT;
			((struct ktr_batch *)st->buf)->aux = p->dropped;
			lost = ktr_send();
		}
		if (p->parent && (p->flags & KTRFAC(KTR_CSW)))
			__sync_fetch_and_add(&ktr_live.csw_inherited, -1);
		if (lost) {
			/* the loader learns of the exit from the table, with the count */
			__sync_fetch_and_or(&p->opts, KTR_OPT_EXITED);
			if (w.pid < MAX_PIDS)
				maybe_traced[w.pid] = 0;
			procs_changed();
		} else {
			forget_proc(w.pid);
		}
	} else {
		/*
		 * A thread's end: its records go now.  An exec in another thread
		 * waits for this end, and its records (the exec'ing thread may take
		 * this one's id) come after.
		 */
		ktr_send();
	}
	end(st);
	return 0;
}

/* ----------------------------------------------------- context switches */

/* A CSW record for a task switching out (out=1, the current one) or in */
static __noinline void switch_record(struct stage *st, struct task_struct *task, int out,
				     int preempt)
{
	struct ktr_csw c = {.out = out, .user = preempt};
	const struct plan_syscall *ps;
	struct who w;

	if (!out)
		task_who(task, &w);
	else if (current_who(&w))
		return;
	if (!maybe(w.pid) || proc_load(st, w.pid) || !(st->fac & KTRFAC(KTR_CSW)))
		return;
	ev_begin(st, &w);
	ps = plan_of(syscall_of(task, w.tid));
	if (ps)
		__builtin_memcpy(c.wmesg, ps->name, sizeof(c.wmesg));
	emit_fixed(st, KTR_CSW, &c, sizeof(c));
}

/* -------------------------------------------------------- group-stops */

#define TASK_STOPPED_BIT	0x4	/* the kernel's __TASK_STOPPED */
#define TASK_TRACED_BIT		0x8	/* __TASK_TRACED */
#define JOBCTL_STOP_SIGMASK	0xffff	/* task->jobctl: the group-stop's signal */
#define PTRACE_EVENT_STOP	128
/* SIGSTOP TSTP TTIN TTOU */
#define STOP_SIGNALS	((1u << 19) | (1u << 20) | (1u << 21) | (1u << 22))

/* Before 5.14 the task's state was ``state`` (a flavor of the old layout, for CO-RE) */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

static __always_inline unsigned int task_state(struct task_struct *task)
{
	if (bpf_core_field_exists(task->__state))
		return BPF_CORE_READ(task, __state);
	return BPF_CORE_READ((struct task_struct___pre514 *)task, state);
}

/*
 * The signal of a group-stop ``task`` is switching out into, or 0: stopped
 * (TASK_STOPPED: the signal is in its jobctl), or, seized by ktrace's
 * holder, trapped for it (TASK_TRACED with the exit code a ptracer's wait
 * gets: PTRACE_EVENT_STOP << 8 | the stop signal; SIGTRAP for any other trap).
 */
static __always_inline int group_stop_signal(struct task_struct *task)
{
	unsigned int state = task_state(task);
	int sig;

	if (state & TASK_STOPPED_BIT)
		return BPF_CORE_READ(task, jobctl) & JOBCTL_STOP_SIGMASK;
	if (!(state & TASK_TRACED_BIT))
		return 0;
	sig = BPF_CORE_READ(task, exit_code);
	if (sig >> 8 != PTRACE_EVENT_STOP)
		return 0;
	sig &= 0x1f;
	return (1u << sig) & STOP_SIGNALS ? sig : 0;
}

/* STRU groupstop of the current task, entering a group-stop by ``sig`` (traced for s) */
static __noinline void group_stop_record(struct stage *st, int sig)
{
	struct ktr_groupstop g = {.name = KTR_GROUPSTOP_NAME, .signo = sig};
	struct who w;

	if (current_who(&w) || !maybe(w.pid) || proc_load(st, w.pid) ||
	    !(st->fac & KTRFAC(KTR_PSIG)))
		return;
	ev_begin(st, &w);
	emit_fixed(st, KTR_STRUCT, &g, sizeof(g));
}

/*
 * Context switches: CSW records (w), and a thread entering a group-stop
 * (s): it switches out stopped, not preempted (a preempted one runs again
 * to stop).
 */
SEC("tp_btf/sched_switch")
int BPF_PROG(ktr_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct stage *st = my_stage();
	int csw, stop;

	if (!st || st->busy)
		return 0;
	stop = preempt ? 0 : group_stop_signal(prev);
	csw = ktr_live.csw_inherited + ktr_live.csw_attached > 0;
	if (!csw && !st->pos && !stop)
		return 0;
	st->busy = 1;
	if (stop)
		group_stop_record(st, stop);
	if (csw)
		switch_record(st, prev, 1, preempt);
	if (st->pos)
		ktr_send();		/* prev may run elsewhere next: keep its order */
	if (csw)
		switch_record(st, next, 0, preempt);
	st->busy = 0;
	return 0;
}

/* -------------------------------------------------------------- signals */

/*
 * The queued siginfo of a pending ``sig``: a signal that kills the process
 * is not dequeued (Linux delivers SIGKILL in its place), its siginfo stays
 * on the queue.  NULL when there is none (SIGKILL itself is never queued).
 */
#define PENDING_SCAN	16

static __always_inline struct kernel_siginfo *queued_info(struct list_head *head, int sig)
{
	struct list_head *pos = BPF_CORE_READ(head, next);

	for (int i = 0; i < PENDING_SCAN; i++) {
		struct sigqueue *q = (struct sigqueue *)pos;

		if (!pos || pos == head)
			return NULL;
		if (BPF_CORE_READ(q, info.si_signo) == sig)
			return &q->info;
		pos = BPF_CORE_READ(pos, next);
	}
	return NULL;
}

static __noinline struct kernel_siginfo *fatal_info(struct task_struct *task, int sig)
{
	struct kernel_siginfo *info = queued_info(&task->signal->shared_pending.list, sig);

	return info ? info : queued_info(&task->pending.list, sig);
}

#define SIGINFO_SIZE	128		/* siginfo_t: the kernel's part, then zeros */

/* STRU siginfo: the siginfo_t the handler gets (the process traced for t) */
static __noinline void emit_siginfo(struct stage *st, const struct kernel_siginfo *info)
{
	__u32 len = SIGINFO_SIZE < st->genio ? SIGINFO_SIZE : st->genio;
	int off = rec_begin(st, HDR + 8 + SIGINFO_SIZE);
	__u8 *dst;

	if (off < 0)
		return;
	dst = &st->buf[off + HDR];
	__builtin_memcpy(dst, "siginfo", 8);		/* the name, NUL included */
	__builtin_memset(dst + 8, 0, SIGINFO_SIZE);
	bpf_probe_read_kernel(dst + 8, sizeof(*info), info);
	header(st, off, KTR_STRUCT, 8 + len);
	rec_end(st, off, HDR + 8 + len);
}

/*
 * Before 5.15 a dumping process's core_state hung off its mm, not its signal
 * struct (a flavor of the old layout, for CO-RE)
 */
struct mm_struct___pre515 {
	struct core_state *core_state;
} __attribute__((preserve_access_index));

static __always_inline int dumping_core(struct task_struct *task)
{
	struct signal_struct *sigs = BPF_CORE_READ(task, signal);
	struct mm_struct___pre515 *mm;

	if (bpf_core_field_exists(sigs->core_state))
		return BPF_CORE_READ(sigs, core_state) != NULL;
	mm = (void *)BPF_CORE_READ(task, mm);
	return BPF_CORE_READ(mm, core_state) != NULL;
}

/* signal_deliver's info is a real siginfo, or SEND_SIG_NOINFO (0) / SEND_SIG_PRIV (1) */
#define REAL_SIGINFO(p)	((__u64)(p) > 4096)

/* Is ``sig`` with ``handler`` acted on: does it run a handler or end the process? */
static __always_inline int acted_on(int sig, __u64 handler)
{
	return handler != SIG_IGN && (handler || sig >= 32 || !((1u << sig) & DEFAULT_NOT_FATAL));
}

/* PSIG, then its STRU siginfo when there is one and the process is traced for t */
static __always_inline void emit_psig(struct stage *st, int sig, __u64 handler, int code,
				      __u64 mask, const struct kernel_siginfo *siginfo)
{
	struct ktr_psig ps = {
		.signo = sig,
		.action = handler,
		.code = code,
		.mask = {(__u32)mask, mask >> 32, 0, 0},
	};
	emit_fixed(st, KTR_PSIG, &ps, sizeof(ps));
	if (siginfo && (st->fac & KTRFAC(KTR_STRUCT)))
		emit_siginfo(st, siginfo);
}

SEC("tp_btf/signal_deliver")
int BPF_PROG(ktr_signal, int sig, struct kernel_siginfo *info, struct k_sigaction *ka)
{
	struct task_struct *task = bpf_get_current_task_btf();
	const struct kernel_siginfo *siginfo = NULL;
	__u64 handler;
	int code = 0;
	struct stage *st;
	struct who w;
	__u64 mask;

	st = begin(&w);
	if (!st)
		return 0;
	if (sig == SIGKILL) {
		/*
		 * The process is going away (get_signal()'s group exit, where
		 * info is NULL): a fatal signal (its number is the exit code), a
		 * SIGKILL, or exit_group or exec in another thread (no signal at
		 * all).  FreeBSD records the fatal signal once, as it was sent.
		 */
		struct ktr_proc *p = bpf_map_lookup_elem(&procs, &w.pid);

		sig = BPF_CORE_READ(task, signal, group_exit_code) & 0x7f;
		if (!sig || dumping_core(task) || !p ||
		    (__sync_fetch_and_or(&p->opts, KTR_OPT_FATAL) & KTR_OPT_FATAL))
			goto out;
		if (sig != SIGKILL)
			siginfo = fatal_info(task, sig);
	} else if (REAL_SIGINFO(info)) {
		siginfo = info;
	}
	/*
	 * The tracepoint's pointers are read by helper, never loaded: which of
	 * them a kernel's verifier takes as possibly NULL, or as no pointer at
	 * all, differs from build to build.
	 */
	if (siginfo)
		code = BPF_CORE_READ(siginfo, si_code);
	/*
	 * A signal acted on (one that runs a handler or ends the process) ends
	 * a fault in progress.  One that is not (ignored, stopping, continuing:
	 * Linux queues those while the process is blocking them or is ptraced,
	 * as ktrace does to hold its exit) is recorded too, its action saying
	 * so; FreeBSD's view leaves it out (docs/design.md).
	 */
	handler = (__u64)BPF_CORE_READ(ka, sa.sa_handler);
	if (acted_on(sig, handler))
		fault_end(st, w.tid, sig != SIGSEGV && sig != SIGBUS ? KERN_SUCCESS :
				     code == SEGV_MAPERR ? KERN_INVALID_ADDRESS :
							   KERN_PROTECTION_FAILURE);
	if (!(st->fac & KTRFAC(KTR_PSIG)))
		goto out;
	/*
	 * The mask is the one the handler's return restores (FreeBSD's
	 * returnmask): the blocked set, or the one a wait with a mask of its
	 * own (sigsuspend, ppoll, pselect6, epoll_pwait) saved before it.
	 */
	mask = BPF_CORE_READ_BITFIELD_PROBED(task, restore_sigmask) ? task->saved_sigmask.sig[0] :
								      task->blocked.sig[0];
	emit_psig(st, sig, handler, code, mask, siginfo);
out:
	end(st);
	return 0;
}

/* bit k (< 32) of a word, found by its remainder mod 37: each bit's differs */
static const __u8 bit_of_mod37[64] = {
	0, 0, 1, 26, 2, 23, 27, 0, 3, 16, 24, 30, 28, 11, 0, 13, 4, 7, 17, 0, 25, 22, 31, 15,
	29, 10, 12, 6, 0, 21, 14, 9, 5, 20, 8, 19, 18};

/*
 * Does a signal below ``sig`` pending for ``task`` end it first?  A ptracer
 * sees an ignored signal queued like any other, and the lowest pending one
 * is dequeued first: one that kills (the SIGHUP before the SIGCONT of an
 * orphaned process group) leaves the ignored one unseen.  The lowest
 * unblocked one whose default kills is looked at, if its action is that.
 */
static __always_inline int killed_first(struct task_struct *task, int sig,
					struct k_sigaction *actions)
{
	__u32 fatal = (BPF_CORE_READ(task, pending.signal.sig[0]) |
		       BPF_CORE_READ(task, signal, shared_pending.signal.sig[0])) &
		      ~BPF_CORE_READ(task, blocked.sig[0]) & ((1ull << (sig - 1)) - 1) &
		      ~(DEFAULT_NOT_FATAL >> 1);	/* bit s - 1: signal s */
	__u32 lowest = fatal & -fatal;
	__u64 at = lowest % 37;

	masked(at, 63);				/* (a bound the verifier keeps) */
	return lowest && !BPF_CORE_READ(&actions[bit_of_mod37[at]], sa.sa_handler);
}

/*
 * A signal the kernel discards as it is sent (TRACE_SIGNAL_IGNORED): one the
 * target ignores (SIG_IGN, or SIG_DFL of SIGCHLD, SIGCONT, SIGURG, SIGWINCH)
 * while it does not block it and no ptracer sees it.  It never reaches
 * signal_deliver; a ptracer (strace) sees it all the same, and so the PSIG
 * is written here, with the target's ids and name: in the sender's context,
 * so it can fall inside a call of the target's (the strace view shows it
 * after that call, where strace does).
 */
SEC("tp_btf/signal_generate")
int BPF_PROG(ktr_signal_ignored, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	struct kernel_siginfo made = {};
	const struct kernel_siginfo *siginfo = &made;
	struct k_sigaction *actions;
	struct who w, sender;
	struct stage *st;
	__u64 handler;

	if (result != TRACE_SIGNAL_IGNORED || sig < 1 || sig > 64)
		return 0;
	task_who(task, &w);
	if (!w.pid || !maybe(w.pid))
		return 0;
	actions = BPF_CORE_READ(task, sighand)->action;
	handler = (__u64)BPF_CORE_READ(&actions[(sig - 1) & 63], sa.sa_handler);
	/* (else it was dropped for a process that is dying) */
	if (handler > SIG_IGN || (!handler && (sig >= 32 || !((1u << sig) & DEFAULT_IGNORED))) ||
	    (BPF_CORE_READ(task, signal, flags) & SIGNAL_GROUP_EXIT) ||
	    killed_first(task, sig, actions))
		return 0;
	if (REAL_SIGINFO(info)) {
		siginfo = info;
	} else {
		/* what the kernel would have queued: SEND_SIG_PRIV's, or kill(2)'s by the sender */
		made.si_signo = sig;
		made.si_code = info ? SI_KERNEL : SI_USER;
		if (!info && !current_who(&sender)) {
			made._sifields._kill._pid = sender.pid;
			made._sifields._kill._uid = (__u32)bpf_get_current_uid_gid();
		}
	}
	st = my_stage();
	if (!st || st->busy)
		return 0;
	st->busy = 1;
	asm volatile("" ::: "memory");
	if (!proc_load(st, w.pid) && (st->fac & KTRFAC(KTR_PSIG))) {
		ev_begin(st, &w);
		emit_psig(st, sig, handler, BPF_CORE_READ(siginfo, si_code),
			  BPF_CORE_READ(task, blocked.sig[0]), siginfo);
	}
	end(st);
	return 0;
}

/* --------------------------------------------------------- page faults */

SEC("tp_btf/page_fault_user")
int BPF_PROG(ktr_fault, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	struct stage *st;
	struct who w;

	st = begin(&w);
	if (!st)
		return 0;
	if (!(st->fac & (KTRFAC(KTR_FAULT) | KTRFAC(KTR_FAULTEND))))
		goto out;
	fault_end(st, w.tid, KERN_SUCCESS);
	if (st->fac & KTRFAC(KTR_FAULT)) {
		struct ktr_fault f = {
			.vaddr = address,
			.type = error_code & X86_PF_INSTR ? VM_PROT_EXECUTE :
				error_code & X86_PF_WRITE ? VM_PROT_WRITE : VM_PROT_READ,
		};
		emit_fixed(st, KTR_FAULT, &f, sizeof(f));
	}
	thread_set(w.tid, thread_get(w.tid) | TS_FAULT);
out:
	end(st);
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
	__u32 size = HDR + 16 + CAP_PATH_MAX;
	struct stage *st;
	struct who w;
	int off;

	if (ret >= 0)
		return 0;
	st = begin(&w);
	if (!st)
		return 0;
	if (!(st->fac & KTRFAC(KTR_CAPFAIL)))
		goto out;
	cf.cap_code = syscall_of(bpf_get_current_task_btf(), w.tid);
	off = rec_begin(st, size);
	if (off >= 0) {
		__u8 *dst = &st->buf[off + HDR];

		__builtin_memcpy(dst, &cf, sizeof(cf));
		bpf_probe_read_kernel(dst + sizeof(cf), 16 + CAP_PATH_MAX - sizeof(cf), zeros);
		header(st, off, KTR_CAPFAIL, 16 + CAP_PATH_MAX);
		rec_end(st, off, size);
	}
out:
	end(st);
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
		ktr_send();
		st->busy = 0;
	}
	return 0;
}
