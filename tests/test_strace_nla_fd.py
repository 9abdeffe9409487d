"""A descriptor a netlink attribute holds (decode_nla_fd) as -y prints it:
IFLA_XDP_EXPECTED_FD's ``6</dev/full>`` (``6</dev/full<char 1:7>>`` with
-yy), from the sending process's descriptor table.

A program sends an RTM_GETLINK request with a nested IFLA_XDP_EXPECTED_FD
holding /dev/full's descriptor (what strace's nlattr_ifla_xdp test sends),
traced by each engine.  (Not against /usr/bin/strace: whether it decodes the
message at all depends on the machine, as it asks the kernel's sock_diag for
the socket's protocol.)
"""

from __future__ import annotations

import re

import pytest

from engine_support import program_fixtures, strace_view

NLA_FD_C = r"""
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
int main(void) {
    int full = open("/dev/full", O_RDONLY);
    int nl = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    struct {
        struct nlmsghdr h;
        struct ifinfomsg i;
        struct nlattr xdp, expected;
        int fd;
    } msg = {
        .h = {.nlmsg_len = sizeof msg, .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_DUMP},
        .i = {.ifi_family = AF_UNSPEC},
        .xdp = {.nla_len = 2 * sizeof(struct nlattr) + sizeof(int), .nla_type = IFLA_XDP},
        .expected = {.nla_len = sizeof(struct nlattr) + sizeof(int),
                     .nla_type = IFLA_XDP_EXPECTED_FD},
        .fd = full,
    };
    if (full < 0 || nl < 0)
        return 1;
    sendto(nl, &msg, sizeof msg, MSG_DONTWAIT, NULL, 0);
    printf("%d\n", full);
    return 0;
}
"""

exe, traced = program_fixtures("nla_fd", NLA_FD_C)


@pytest.mark.parametrize("option, device", [("-y", ""), ("-yy", "<char 1:7>")])
def test_a_netlink_attribute_s_descriptor_has_its_path(engine, traced, option, device):
    path, printed = traced(engine)
    sent = [line for line in strace_view(path, option, "-e", "trace=sendto")
            if line.startswith("sendto(")]
    full = int(printed)
    assert re.search(rf"IFLA_XDP_EXPECTED_FD}}, {full}</dev/full{device}>\]", sent[0]), sent


def test_without_y_the_number_alone(engine, traced):
    path, printed = traced(engine)
    sent = strace_view(path, "-e", "trace=sendto")
    assert f"IFLA_XDP_EXPECTED_FD}}, {int(printed)}]" in sent[0]
