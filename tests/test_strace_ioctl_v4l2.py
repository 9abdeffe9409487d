"""kdump --strace: Video4Linux2's requests (type 'V', strace's v4l2.c): the
structs a program gives, under each engine (fd -1: no device is needed), and
the answers a driver writes, from hand-built records (they need a device)."""

from __future__ import annotations

import shutil
import struct

import pytest

from engine_support import trace_command
from ptrace_support import build
from test_ioctl_view import ADDR, EBADF, Trace, bad_fd_ioctls

V4L2_C = r"""
#include <linux/videodev2.h>
#include <string.h>
#include <sys/ioctl.h>
int main(void) {
    struct v4l2_format fmt;
    struct v4l2_control ctrl = {.id = V4L2_CID_BRIGHTNESS, .value = -5};
    struct v4l2_queryctrl query;
    struct v4l2_tuner tuner;
    struct v4l2_ext_controls ext;
    struct v4l2_frmsizeenum sizes;
    int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    v4l2_std_id std = V4L2_STD_PAL_B;
    memset(&fmt, 0, sizeof fmt);
    fmt.type = V4L2_BUF_TYPE_VIDEO_OUTPUT;
    fmt.fmt.pix.width = 640;
    fmt.fmt.pix.height = 480;
    fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
    fmt.fmt.pix.field = V4L2_FIELD_NONE;
    fmt.fmt.pix.colorspace = V4L2_COLORSPACE_SRGB;
    memset(&query, 0, sizeof query);
    query.id = V4L2_CTRL_FLAG_NEXT_CTRL | (V4L2_CTRL_CLASS_CAMERA + 0x42);
    memset(&tuner, 0, sizeof tuner);
    strcpy((char *) tuner.name, "radio");
    tuner.type = V4L2_TUNER_RADIO;
    tuner.capability = V4L2_TUNER_CAP_LOW | V4L2_TUNER_CAP_STEREO;
    tuner.audmode = V4L2_TUNER_MODE_STEREO;
    tuner.signal = -1;
    memset(&ext, 0, sizeof ext);
    ext.ctrl_class = V4L2_CTRL_CLASS_USER;
    ext.count = 2;
    ext.error_idx = 7;
    ext.controls = (struct v4l2_ext_control *) 0x1000;
    memset(&sizes, 0, sizeof sizes);
    sizes.index = 3;
    sizes.pixel_format = v4l2_fourcc('a', '\'', '\\', 0xfa);
    ioctl(-1, VIDIOC_S_FMT, &fmt);
    ioctl(-1, VIDIOC_S_CTRL, &ctrl);
    ioctl(-1, VIDIOC_QUERYCTRL, &query);
    ioctl(-1, VIDIOC_S_TUNER, &tuner);
    ioctl(-1, VIDIOC_STREAMON, &type);
    ioctl(-1, VIDIOC_S_STD, &std);
    ioctl(-1, VIDIOC_G_EXT_CTRLS, &ext);
    ioctl(-1, VIDIOC_ENUM_FRAMESIZES, &sizes);
    ioctl(-1, VIDIOC_QUERYCAP, 0);
    ioctl(-1, VIDIOC_LOG_STATUS, 0);
    return 0;
}
"""

FAILED = " = -1 EBADF (Bad file descriptor)"
PIX = ("width=640, height=480, "
       "pixelformat=v4l2_fourcc('Y', 'U', 'Y', 'V') /* V4L2_PIX_FMT_YUYV */, "
       "field=V4L2_FIELD_NONE, bytesperline=0, sizeimage=0, colorspace=V4L2_COLORSPACE_SRGB")
TUNER = ('name="radio", type=V4L2_TUNER_RADIO, capability=V4L2_TUNER_CAP_LOW|'
         "V4L2_TUNER_CAP_STEREO, rangelow=0, rangehigh=0, rxsubchans=0, "
         "audmode=V4L2_TUNER_MODE_STEREO, signal=-1, afc=0")


def test_a_program_s_requests_print_as_strace_prints_them(engine, tmp_path):
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")
    exe = build(tmp_path, "v4l2", V4L2_C)
    out = tmp_path / "v.out"
    trace_command(engine, [exe], out, "cinst")
    lines = bad_fd_ioctls(out.read_bytes())
    assert lines == [line + FAILED for line in (
        f"ioctl(-1, VIDIOC_S_FMT, {{type=V4L2_BUF_TYPE_VIDEO_OUTPUT, fmt.pix={{{PIX}}}}})",
        "ioctl(-1, VIDIOC_S_CTRL, {id=V4L2_CID_BRIGHTNESS, value=-5})",
        "ioctl(-1, VIDIOC_QUERYCTRL, {id=V4L2_CTRL_FLAG_NEXT_CTRL|V4L2_CTRL_CLASS_CAMERA+0x42})",
        f"ioctl(-1, VIDIOC_S_TUNER, {{index=0, {TUNER}}})",
        "ioctl(-1, VIDIOC_STREAMON, [V4L2_BUF_TYPE_VIDEO_CAPTURE])",
        "ioctl(-1, VIDIOC_S_STD, [0x1])",
        "ioctl(-1, VIDIOC_G_EXT_CTRLS, {ctrl_class=V4L2_CTRL_CLASS_USER, count=2, "
        "controls=0x1000, error_idx=7})",
        "ioctl(-1, VIDIOC_ENUM_FRAMESIZES, {index=3, pixel_format=v4l2_fourcc('a', '\\'', "
        "'\\\\', '\\xfa')})",
        "ioctl(-1, VIDIOC_QUERYCAP, NULL)",
        "ioctl(-1, VIDIOC_LOG_STATUS, 0)")]
    raw = bad_fd_ioctls(out.read_bytes(), "-Xraw")
    assert raw[2] == "ioctl(-1, 0xc0445624, {id=0x809a0042})" + FAILED
    assert raw[7] == "ioctl(-1, 0xc02c564a, {index=3, pixel_format=0xfa5c2761})" + FAILED
    verbose = bad_fd_ioctls(out.read_bytes(), "-Xverbose")
    assert verbose[2] == ("ioctl(-1, 0xc0445624 /* VIDIOC_QUERYCTRL */, {id=0x80000000 "
                          "/* V4L2_CTRL_FLAG_NEXT_CTRL */|0x9a0042 /* V4L2_CTRL_CLASS_CAMERA"
                          "+0x42 */})" + FAILED)
    # -e verbose=none: strace decodes no V4L2 struct
    assert bad_fd_ioctls(out.read_bytes(), "-e", "verbose=none")[1].startswith(
        "ioctl(-1, VIDIOC_S_CTRL, 0x7")


POINTERS_C = r"""
#include <linux/videodev2.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
int main(void) {
    struct v4l2_clip clips[2] = {{.c = {1, 2, 3, 4}}, {.c = {-5, 6, 7, 8}}};
    struct v4l2_format fmt;
    char name[] = "abc";
    struct v4l2_ext_control controls[3] = {
        {.id = V4L2_CID_BRIGHTNESS, .value = -7},
        {.id = V4L2_CID_CONTRAST, .size = 3, .string = name},
        {.id = V4L2_CID_SATURATION, .size = 4, .string = (char *) 8},
    };
    struct v4l2_ext_controls ext;
    /* the last clip of a page whose next one is unmapped: the second cannot be read */
    char *page = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct v4l2_clip *edge = (struct v4l2_clip *) (page + 4096) - 1;
    munmap(page + 4096, 4096);
    memcpy(edge, clips, sizeof *edge);
    printf("%p\n", (void *) (edge + 1));
    fflush(stdout);
    memset(&fmt, 0, sizeof fmt);
    fmt.type = V4L2_BUF_TYPE_VIDEO_OVERLAY;
    fmt.fmt.win.w = (struct v4l2_rect) {10, 20, 300, 200};
    fmt.fmt.win.field = V4L2_FIELD_NONE;
    fmt.fmt.win.clips = clips;
    fmt.fmt.win.clipcount = 2;
    ioctl(-1, VIDIOC_S_FMT, &fmt);
    fmt.fmt.win.clips = edge;
    ioctl(-1, VIDIOC_TRY_FMT, &fmt);
    memset(&ext, 0, sizeof ext);
    ext.ctrl_class = V4L2_CTRL_CLASS_USER;
    ext.count = 3;
    ext.error_idx = 9;
    ext.controls = controls;
    ioctl(-1, VIDIOC_S_EXT_CTRLS, &ext);
    ext.count = 2;
    ioctl(-1, VIDIOC_G_EXT_CTRLS, &ext);
    return 0;
}
"""


def test_the_arrays_a_struct_points_to(engine, tmp_path):
    """A window's clips, the extended controls and a string control's string
    (linux_plan.IOCTL_V4L2), as strace prints them: up to an unreadable clip,
    an unreadable string's address; S_EXT_CTRLS' controls read again at exit."""
    if shutil.which("gcc") is None:
        pytest.skip("needs gcc")
    exe = build(tmp_path, "pointers", POINTERS_C)
    out, printed = tmp_path / "p.out", tmp_path / "p.txt"
    trace_command(engine, [exe], out, "cinst", stdout=printed)
    unreadable = printed.read_text().strip()
    win = ("w={left=10, top=20, width=300, height=200}, field=V4L2_FIELD_NONE, chromakey=0, "
           "clips=[{c={left=1, top=2, width=3, height=4}}")
    controls = ("{id=V4L2_CID_BRIGHTNESS, size=0, value=-7, value64=4294967289}, "
                '{id=V4L2_CID_CONTRAST, size=3, string="abc"}')
    assert bad_fd_ioctls(out.read_bytes()) == [line + FAILED for line in (
        f"ioctl(-1, VIDIOC_S_FMT, {{type=V4L2_BUF_TYPE_VIDEO_OVERLAY, fmt.win={{{win}, "
        "{c={left=-5, top=6, width=7, height=8}}], clipcount=2, bitmap=NULL}})",
        f"ioctl(-1, VIDIOC_TRY_FMT, {{type=V4L2_BUF_TYPE_VIDEO_OVERLAY, fmt.win={{{win}, "
        f"... /* {unreadable} */], clipcount=2, bitmap=NULL}}}})",
        f"ioctl(-1, VIDIOC_S_EXT_CTRLS, {{ctrl_class=V4L2_CTRL_CLASS_USER, count=3, controls=["
        f"{controls}, {{id=V4L2_CID_SATURATION, size=4, string=0x8}}]}} => {{controls=["
        f"{controls}, {{id=V4L2_CID_SATURATION, size=4, string=0x8}}], error_idx=9}})",
        f"ioctl(-1, VIDIOC_G_EXT_CTRLS, {{ctrl_class=V4L2_CTRL_CLASS_USER, count=2, "
        f"controls=[{controls}], error_idx=9}})")]


VIDIOC_QUERYCAP, VIDIOC_REQBUFS, VIDIOC_DQBUF = 0x80685600, 0xC0145608, 0xC0585611
VIDIOC_G_FMT, VIDIOC_S_CTRL, VIDIOC_QUERYCTRL = 0xC0D05604, 0xC008561C, 0xC0445624
VIDIOC_S_PARM, VIDIOC_ENUM_FRAMEINTERVALS = 0xC0CC5616, 0xC034564B
VIDIOC_G_INPUT = 0x80045626


def test_the_answers_of_a_video_device():
    t = Trace()
    caps = (b"vivid".ljust(16, b"\0") + b"x" * 32 + b"platform:vivid".ljust(32, b"\0")
            + struct.pack("<3I", 0x60F00, 0x85000009, 0) + bytes(12))
    t.ioctl(VIDIOC_QUERYCAP, exit_=caps)
    t.ioctl(VIDIOC_REQBUFS, entry=struct.pack("<5I", 4, 1, 1, 0, 0),
            exit_=struct.pack("<5I", 2, 1, 1, 0, 0))
    buf = bytearray(0x58)
    struct.pack_into("<4I", buf, 0, 5, 1, 100, 0x2001)            # index, type, bytesused, flags
    struct.pack_into("<qQ", buf, 24, 12, 34)                     # timestamp
    struct.pack_into("<IIxxxxI", buf, 60, 1, 0x4000, 4096)       # memory, m.offset, length
    t.ioctl(VIDIOC_DQBUF, entry=struct.pack("<II", 0, 1).ljust(0x58, b"\0"), exit_=bytes(buf))
    fmt = bytearray(0xD0)
    struct.pack_into("<I4x7I", fmt, 0, 1, 320, 240, 0x56595559, 1, 640, 153600, 8)
    t.ioctl(VIDIOC_G_FMT, entry=struct.pack("<I", 1).ljust(0xD0, b"\0"), exit_=bytes(fmt))
    t.ioctl(VIDIOC_S_CTRL, entry=struct.pack("<Ii", 0x980900, 9),
            exit_=struct.pack("<Ii", 0x980900, 8))
    query = bytearray(0x44)
    struct.pack_into("<II32s4iI", query, 0, 0x980901, 1, b"Contrast", 0, 255, 1, 128, 0)
    t.ioctl(VIDIOC_QUERYCTRL, entry=struct.pack("<I", 0x80000000 | 0x980900).ljust(0x44, b"\0"),
            exit_=bytes(query))
    parm = struct.pack("<7I", 1, 0x1000, 0, 1, 30, 0, 2).ljust(0xCC, b"\0")
    t.ioctl(VIDIOC_S_PARM, entry=parm, exit_=struct.pack("<7I", 1, 0x1000, 0, 1, 25, 0, 2)
            .ljust(0xCC, b"\0"))
    ival = struct.pack("<5I6I", 0, 0x56595559, 640, 480, 3, 1, 30, 1, 5, 1, 1)
    t.ioctl(VIDIOC_ENUM_FRAMEINTERVALS, entry=ival[:16].ljust(0x34, b"\0"),
            exit_=ival.ljust(0x34, b"\0"))
    t.ioctl(VIDIOC_G_INPUT, exit_=struct.pack("<I", 2))
    t.ioctl(VIDIOC_G_INPUT, ret=-EBADF)
    yuyv = "v4l2_fourcc('Y', 'U', 'Y', 'V') /* V4L2_PIX_FMT_YUYV */"
    assert t.lines() == [
        'ioctl(3, VIDIOC_QUERYCAP, {driver="vivid", card="' + "x" * 31 + '"..., '
        'bus_info="platform:vivid", version=KERNEL_VERSION(6, 15, 0), capabilities='
        "V4L2_CAP_VIDEO_CAPTURE|V4L2_CAP_READWRITE|V4L2_CAP_STREAMING|V4L2_CAP_DEVICE_CAPS"
        "|0x8}) = 0",
        "ioctl(3, VIDIOC_REQBUFS, {type=V4L2_BUF_TYPE_VIDEO_CAPTURE, memory=V4L2_MEMORY_MMAP, "
        "count=4 => 2}) = 0",
        "ioctl(3, VIDIOC_DQBUF, {type=V4L2_BUF_TYPE_VIDEO_CAPTURE, index=5, "
        "memory=V4L2_MEMORY_MMAP, m.offset=0x4000, length=4096, bytesused=100, "
        "flags=V4L2_BUF_FLAG_MAPPED|V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC|"
        "V4L2_BUF_FLAG_TSTAMP_SRC_EOF, timestamp={tv_sec=12, tv_usec=34}, ...}) = 0",
        f"ioctl(3, VIDIOC_G_FMT, {{type=V4L2_BUF_TYPE_VIDEO_CAPTURE, fmt.pix={{width=320, "
        f"height=240, pixelformat={yuyv}, field=V4L2_FIELD_NONE, bytesperline=640, "
        "sizeimage=153600, colorspace=V4L2_COLORSPACE_SRGB}}) = 0",
        "ioctl(3, VIDIOC_S_CTRL, {id=V4L2_CID_BRIGHTNESS, value=9 => 8}) = 0",
        "ioctl(3, VIDIOC_QUERYCTRL, {id=V4L2_CTRL_FLAG_NEXT_CTRL|V4L2_CID_BRIGHTNESS => "
        'V4L2_CID_CONTRAST, type=V4L2_CTRL_TYPE_INTEGER, name="Contrast", ...}) = 0',
        "ioctl(3, VIDIOC_S_PARM, {type=V4L2_BUF_TYPE_VIDEO_CAPTURE, parm.capture={capability="
        "V4L2_CAP_TIMEPERFRAME, capturemode=0, timeperframe=1/30, extendedmode=0, "
        "readbuffers=2}} => {parm.capture={capability=V4L2_CAP_TIMEPERFRAME, capturemode=0, "
        "timeperframe=1/25, extendedmode=0, readbuffers=2}}) = 0",
        f"ioctl(3, VIDIOC_ENUM_FRAMEINTERVALS, {{index=0, pixel_format={yuyv}, width=640, "
        "height=480, type=V4L2_FRMIVAL_TYPE_STEPWISE, stepwise={min=1/30, max=1/5, "
        "step=1/1}}) = 0",
        "ioctl(3, VIDIOC_G_INPUT, [2]) = 0",
        f"ioctl(3, VIDIOC_G_INPUT, {ADDR:#x}) = -1 EBADF (Bad file descriptor)",
    ]
    assert t.lines("-v")[5] == (
        "ioctl(3, VIDIOC_QUERYCTRL, {id=V4L2_CTRL_FLAG_NEXT_CTRL|V4L2_CID_BRIGHTNESS => "
        'V4L2_CID_CONTRAST, type=V4L2_CTRL_TYPE_INTEGER, name="Contrast", minimum=0, '
        "maximum=255, step=1, default_value=128, flags=0}) = 0")
    assert t.lines("-Xraw")[2] == (
        "ioctl(3, 0xc0585611, {type=0x1, index=5, memory=0x1, m.offset=0x4000, length=4096, "
        "bytesused=100, flags=0x2001, timestamp={tv_sec=12, tv_usec=34}, ...}) = 0")
