"""Descriptors passed by SCM_RIGHTS: the strace view's -y names those a
recvmsg made by the names the sender's had (strace reads them from /proc as it
prints), queued for the sending socket's peer.  Real processes, under each
engine (bpf: root and BPF only); the lines checked against /usr/bin/strace's."""

from __future__ import annotations

import re

from engine_support import kdump_of, program_fixtures, real_strace

# Over a socketpair, /dev/null and a file of the cwd are sent, then received
# (twice: the second message's descriptors are named by its own); closed between.
PASS_C = r"""
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
static int pass(int from, int to, int *fds, int n) {
    char byte = 'x', control[CMSG_SPACE(2 * sizeof(int))];
    struct iovec iov = {&byte, 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                         .msg_controllen = CMSG_SPACE(n * sizeof(int))};
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(n * sizeof(int));
    memcpy(CMSG_DATA(cmsg), fds, n * sizeof(int));
    if (sendmsg(from, &msg, 0) != 1)
        return 1;
    for (int i = 0; i < n; i++)
        close(fds[i]);
    memset(control, 0, sizeof control);
    return recvmsg(to, &msg, 0) != 1;
}
int main(void) {
    int sv[2], fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        return 1;
    fds[0] = open("/dev/null", O_RDONLY);
    fds[1] = open("passed", O_RDONLY | O_CREAT, 0600);
    if (pass(sv[0], sv[1], fds, 2))
        return 1;
    fds[0] = open("/dev/zero", O_RDONLY);
    return pass(sv[1], sv[0], fds, 1);
}
"""

exe, traced = program_fixtures("scm_rights", PASS_C)
OPTIONS = ("-y", "-e", "trace=sendmsg,recvmsg")


def _lines(lines) -> list[str]:
    """The sendmsg and recvmsg lines, their socket inodes and the cwd taken out."""
    return [re.sub(r"socket:\[\d+\]", "socket:[N]", re.sub(r"<[^<>]*/passed>", "<passed>", line))
            for line in lines if line.startswith(("sendmsg", "recvmsg"))]


def test_received_descriptors_have_the_senders_names(engine, traced, exe, tmp_path):
    view = _lines(kdump_of(traced(engine)[0], "--strace", *OPTIONS).splitlines())
    assert len(view) == 4
    assert "cmsg_data=[5</dev/null>, 6<passed>]" in view[1]
    assert "cmsg_data=[7</dev/zero>]" in view[3]
    theirs, _ = real_strace(exe, tmp_path, *OPTIONS)
    assert view == _lines(theirs)
