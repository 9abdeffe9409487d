/*
 * utrace(2) for Linux under ktrace: add a record of your own to your trace.
 *
 *     #include <ktrace/utrace.h>
 *     ktrace_utrace("checkpoint", 10);
 *
 * Linux has no utrace(2).  ktrace's engines reserve the unallocated system
 * call number 0x6b74 ("kt") with the arguments (addr, len):
 *
 *   - traced for USER records (ktrace -t u, part of the default set): the
 *     engine writes a USER record with the len bytes at addr, and the call
 *     returns 0; -1 with errno EINVAL when len > KTRACE_USER_MAXLEN (2048),
 *     EFAULT when the bytes cannot be read.
 *   - traced without u: nothing is recorded, the call returns 0.
 *   - not traced: the kernel answers ENOSYS; ktrace_utrace() turns that
 *     into 0 (and leaves errno alone), as FreeBSD's utrace(2) returns 0 for
 *     an untraced process.
 *
 * So a program may call it unconditionally.  kdump shows the record as
 * "USER  len  xx xx ...".
 */
#ifndef KTRACE_UTRACE_H
#define KTRACE_UTRACE_H

#include <errno.h>
#include <stddef.h>
#include <unistd.h>

#define KTRACE_UTRACE_NR    0x6b74
#define KTRACE_USER_MAXLEN  2048

static inline int
ktrace_utrace(const void *addr, size_t len)
{
	int saved = errno;
	long r = syscall(KTRACE_UTRACE_NR, addr, len);

	if (r == -1 && errno == ENOSYS) {       /* not traced */
		errno = saved;
		return 0;
	}
	return (int)r;
}

#ifndef KTRACE_NO_UTRACE_NAME
/* FreeBSD's name, for sources shared with FreeBSD (int utrace(const void *, size_t)) */
static inline int
utrace(const void *addr, size_t len)
{
	return ktrace_utrace(addr, len);
}
#endif

#endif /* KTRACE_UTRACE_H */
