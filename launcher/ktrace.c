/*
 * ktrace(1)'s command: a few lines of C in front of Python.
 *
 * CPython ignores SIGPIPE and SIGXFSZ as it starts, before any Python code
 * runs, and what they were is lost; a command ktrace(1) runs would get them
 * as Python left them, not as ktrace's caller did.  This program notes which
 * signals its caller left ignored, as a mask like /proc's SigIgn, in the
 * environment variable ktrace takes it from (ktrace/sigign.py, which takes the
 * variable out again), then runs ktrace in Python.
 *
 * LAUNCH, given by the build (setup.py), is what runs: the interpreter's path
 * and its arguments, as C string literals separated by commas; our own
 * arguments follow them.  A variable of the caller's by that name is replaced:
 * the mask must be the one this process was given.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef LAUNCH
#error "LAUNCH (the interpreter and its arguments) is given by the build"
#endif
#define SIGIGN_VARIABLE "KTRACE_SIGIGN"

static char *const launch[] = { LAUNCH };
#define NLAUNCH (sizeof launch / sizeof launch[0])

int main(int argc, char **argv)
{
    unsigned long long ignored = 0;
    char mask[17];
    struct sigaction action;
    char **args;
    int sig, i;

    for (sig = 1; sig <= 64; sig++)
        if (sigaction(sig, NULL, &action) == 0 && action.sa_handler == SIG_IGN)
            ignored |= 1ULL << (sig - 1);
    snprintf(mask, sizeof mask, "%016llx", ignored);
    if (setenv(SIGIGN_VARIABLE, mask, 1) != 0)
        unsetenv(SIGIGN_VARIABLE);              /* no memory: Python's defaults, then */
    args = calloc(NLAUNCH + (argc > 0 ? argc : 1), sizeof *args);
    if (args == NULL) {
        perror(argc > 0 ? argv[0] : "ktrace");
        return 1;
    }
    for (i = 0; i < (int)NLAUNCH; i++)
        args[i] = launch[i];
    for (i = 1; i < argc; i++)
        args[NLAUNCH + i - 1] = argv[i];
    execv(launch[0], args);
    fprintf(stderr, "%s: %s: %s\n", argc > 0 ? argv[0] : "ktrace", launch[0], strerror(errno));
    return 127;
}
