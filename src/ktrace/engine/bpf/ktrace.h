/*
 * The record layout shared by the BPF program (ktrace.bpf.c) and its loader.
 *
 * The records are FreeBSD's amd64 v1 ktrace records, byte for byte as
 * ktrace/record.py defines them (tests/test_bpf_layout.py holds the two to
 * agreement).  The program writes whole records; user space only moves them.
 *
 * Between the two sides records travel in batches: one ring-buffer sample is
 * a struct ktr_batch followed by whole records of one process.
 *
 * This header needs only the __u8..__s64 types: vmlinux.h provides them in
 * the BPF build, <linux/types.h> or the test's typedefs elsewhere.
 */
#ifndef KTRACE_BPF_H
#define KTRACE_BPF_H

/* Record types (sys/ktrace.h) */
#define KTR_SYSCALL		1
#define KTR_SYSRET		2
#define KTR_NAMEI		3
#define KTR_GENIO		4
#define KTR_PSIG		5
#define KTR_CSW			6
#define KTR_USER		7
#define KTR_STRUCT		8
#define KTR_SYSCTL		9
#define KTR_PROCCTOR		10
#define KTR_PROCDTOR		11
#define KTR_CAPFAIL		12
#define KTR_FAULT		13
#define KTR_FAULTEND		14
#define KTR_STRUCT_ARRAY	15
#define KTR_ARGS		16
#define KTR_ENVS		17

#define KTR_DROP		0x8000
#define KTR_VERSIONED		0x4000
#define KTR_VERSION1		1

#define KTRFAC_MASK		0x00ffffff
#define KTRFAC_ROOT		0x80000000
#define KTRFAC_INHERIT		0x40000000
#define KTRFAC_DROP		0x20000000
#define KTRFAC(type)		(1u << (type))

#define SV_LINUX_X86_64		0x203	/* SV_ABI_LINUX | SV_LP64 */
#define SV_LINUX_I386		0x103	/* SV_ABI_LINUX | SV_ILP32: an i386 syscall's CALL and RET */
#define CAPFAIL_LINUX_CAPABILITY 0x100
#define KTR_USER_MAXLEN		2048
#define CAP_PATH_MAX		1024	/* size of ktr_cap_fail's data union */
#define KTR_COMM_SIZE		20

#define VM_PROT_READ		1
#define VM_PROT_WRITE		2
#define VM_PROT_EXECUTE		4
#define KERN_SUCCESS		0
#define KERN_INVALID_ADDRESS	1
#define KERN_PROTECTION_FAILURE	2

/* utrace(2) for Linux: an unallocated syscall number carrying (addr, len) */
#define KTRACE_UTRACE_NR	0x6b74

struct ktr_header {			/* amd64, version 1: 64 bytes */
	__s32	ktr_len;		/* payload bytes after the header */
	__s16	ktr_type;		/* KTR_* | KTR_VERSIONED | KTR_DROP */
	__s16	ktr_version;
	__s32	ktr_pid;
	char	ktr_comm[KTR_COMM_SIZE];
	__s64	ktr_sec;		/* CLOCK_REALTIME */
	__s64	ktr_nsec;
	__s64	ktr_tid;
	__s32	ktr_cpu;
	__s32	ktr_pad;
};

struct ktr_syscall {			/* followed by narg 8-byte args */
	__s16	ktr_code;
	__s16	ktr_narg;
	__s32	ktr_pad;
	__u64	ktr_args[6];
};

struct ktr_sysret {
	__s16	ktr_code;
	__s16	ktr_eosys;
	__s32	ktr_error;		/* FreeBSD errno (docs/design.md) */
	__s64	ktr_retval;		/* the raw return register */
};

struct ktr_genio {			/* followed by the data */
	__s32	ktr_fd;
	__s32	ktr_rw;			/* 0 read, 1 write */
};

struct ktr_psig {
	__s32	signo;
	__s32	pad0;
	__u64	action;			/* handler; 0 SIG_DFL, 1 SIG_IGN */
	__s32	code;			/* si_code */
	__u32	mask[4];
	__s32	pad1;
};

struct ktr_csw {
	__s32	out;			/* 1 switched out, 0 back in */
	__s32	user;			/* 1 preempted, 0 slept in the kernel */
	char	wmesg[8];		/* syscall in progress */
};

struct ktr_proc_ctor {
	__u32	sv_flags;
};

struct ktr_cap_fail {			/* FreeBSD 14 layout, then the data union */
	__s32	cap_type;
	__s16	cap_code;		/* syscall in progress */
	__s16	pad0;
	__u32	cap_svflags;
	__s32	pad1;
	__s32	cap_int;		/* first word of the union: the CAP_* number */
};

struct ktr_fault {
	__u64	vaddr;
	__s32	type;			/* VM_PROT_* */
	__s32	pad;
};

struct ktr_faultend {
	__s32	result;			/* KERN_* */
};

struct ktr_struct_array {		/* followed by the name, a NUL and the items */
	__u64	struct_size;
};

/* STRU "fdesc" (record.py's FDESC): a descriptor a call made, then its path (none here) */
#define KTR_FDESC_NAME		"fdesc"
struct ktr_fdesc {
	__s32	fd;
	__u32	flags;			/* open flags (0: not recorded) */
	__u32	mode;			/* the file's st_mode */
	__u32	pad;
	__u64	rdev;
	__u64	ino;			/* the file's inode number */
};

/* STRU "parent" (record.py's PARENT): the comm of the process getppid names */
#define KTR_PARENT_NAME		"parent"
#define KTR_PARENT_SIZE		16	/* the kernel's TASK_COMM_LEN */

/*
 * STRU "sockinfo" (record.py's SOCKINFO): a socket's state, for strace's -yy.
 * The addresses are of their lengths (0: none), the rest of each zeros.
 */
#define KTR_SOCKINFO_NAME	"sockinfo"
struct ktr_sockinfo {
	__s32	fd;
	__u16	local_len;
	__u16	remote_len;
	__u64	ino;			/* the socket's inode number */
	__u64	peer_ino;		/* a Unix socket's peer's (0: none) */
	char	protocol[32];		/* the kernel's name of its protocol */
	__u8	local[112];		/* its own address, as getsockname gives it */
	__u8	remote[28];		/* an inet socket's peer's, as getpeername */
	__u32	pad;
};

/* STRU "groupstop" (record.py's INT32, GROUPSTOP_NAME): a thread entering a group-stop */
#define KTR_GROUPSTOP_NAME	"groupstop"
struct ktr_groupstop {
	char	name[sizeof(KTR_GROUPSTOP_NAME)];
	__s32	signo;			/* the stop signal */
} __attribute__((packed));

/* STRU "nspid" (record.py's INT32, NSPID_NAME): a task's id in its own pid namespace */
#define KTR_NSPID_NAME		"nspid"
struct ktr_nspid {
	char	name[sizeof(KTR_NSPID_NAME)];
	__s32	tid;			/* the last of its NSpid */
} __attribute__((packed));

/* STRU "kvmexit" (record.py's INT32, KVMEXIT_NAME): a kvm vcpu's exit reason after KVM_RUN */
#define KTR_KVMEXIT_NAME	"kvmexit"
struct ktr_kvmexit {
	char	name[sizeof(KTR_KVMEXIT_NAME)];
	__u32	reason;			/* its kvm_run's exit_reason */
} __attribute__((packed));

/*
 * One ring-buffer sample: a batch of whole records of one process, or a
 * note to the loader with no records (KTR_BATCH_EXEC_PRIV).
 */
struct ktr_batch {
	__u32	pid;			/* process (in ktrace's pid namespace) */
	__u32	flags;			/* KTR_BATCH_* */
	__u32	nrec;			/* records that follow */
	__u32	aux;			/* EXIT: events the process lost; FORK: its parent */
};

#define KTR_BATCH_EXIT		1	/* the process exited: its PROCDTOR is in here */
#define KTR_BATCH_DROPPED	2	/* a record in here carries KTR_DROP */
#define KTR_BATCH_EXEC_PRIV	4	/* exec gained privilege: tracing stopped */
#define KTR_BATCH_FORK		8	/* a child inherited tracing: its PROCCTOR */

/*
 * maybe_traced[] and thread_state[] (".bss.pids", ".bss.threads"): one byte
 * per pid or thread id, PID_MAX_LIMIT of them; the loader maps both.
 */
#define MAX_PIDS		(1 << 22)

/* The kernel's p_traceflag, plus what the rules need (map "procs") */
struct ktr_proc {
	__u32	flags;			/* facility bits, KTRFAC_INHERIT/ROOT/DROP */
	__u32	genio_size;		/* most data bytes per GIO/STRU record */
	__u32	parent;			/* pid it inherited tracing from, 0 if set */
	__u32	opts;			/* KTR_OPT_* */
	__u64	dropped;		/* events lost (ring full) */
};

#define KTR_OPT_OWNER_ROOT	1	/* the trace file's owner is root */
#define KTR_OPT_THROTTLE	2	/* seized by ktrace: may be stopped (--lossless) */
#define KTR_OPT_EXITED		4	/* exited, its exit batch lost: the loader forgets it */
#define KTR_OPT_FATAL		8	/* its fatal signal is recorded (one PSIG per process) */
#define KTR_OPT_DEAD		16	/* its PROCDTOR is written (one per process) */

/* Tunables the loader writes before load (rodata) */
struct ktr_config {
	__u64	pidns_dev;		/* ktrace's pid namespace */
	__u64	pidns_ino;
	__u32	pidns_level;		/* 0: the initial namespace, else nested */
	__u32	wake_bytes;		/* wake the loader when this much is waiting */
	__u32	throttle_bytes;		/* --lossless: stop threads past this fill (0: off) */
	__u32	optmem_max;		/* most msg_control bytes recorded (procfs.optmem_max) */
};

/* What the loader updates while running (data) */
struct ktr_live {
	__s64	realtime_offset;	/* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	__u64	dropped;		/* events lost, all processes */
	/* processes traced for KTR_CSW: sched_switch records only when some are */
	__s64	csw_inherited;		/* by inheritance (counted by the program) */
	__s64	csw_attached;		/* by requests (counted by the loader) */
	/*
	 * Generations: whoever changes an entry of "procs" (or a thread's name)
	 * bumps one after the change, and the per-CPU copies older than it are
	 * read again.  The loader has a counter of its own (it cannot add
	 * atomically); a copy is as old as the sum.
	 */
	__u64	proc_gen;		/* "procs" entries, changed by the program */
	__u64	loader_gen;		/* ... by the loader */
	__u64	comm_gen;		/* thread names (exec, prctl) */
};

#endif /* KTRACE_BPF_H */
