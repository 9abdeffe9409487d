/*
 * utrace example: a program marking points of its own in its ktrace.
 *
 *     cc -I include -o utrace examples/utrace.c
 *     ktrace -t cu ./utrace && kdump
 *
 * Prints one line per call: what it sent and what the call returned, so
 * that running it traced and untraced shows the difference.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ktrace/utrace.h>

struct checkpoint {
	int  step;
	char what[12];
};

static void
report(const char *what, int r)
{
	printf("%s: %d %s\n", what, r, r == 0 ? "ok" : strerror(errno));
}

int
main(void)
{
	static char big[KTRACE_USER_MAXLEN + 1];
	struct checkpoint cp = { 1, "started" };

	report("string", utrace("hello", 5));
	report("struct", utrace(&cp, sizeof cp));
	report("empty", utrace("", 0));
	report("largest", utrace(big, KTRACE_USER_MAXLEN));
	report("too long", utrace(big, sizeof big));            /* EINVAL when traced */
	report("bad address", utrace((void *)16, 8));           /* EFAULT when traced */
	return 0;
}
