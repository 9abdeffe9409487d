"""Workload: generate a small C project for `make -j2` builds.

    python3 ptrace_build.py DIR [FILES]

Writes FILES C sources (a few functions each, some headers included), a
header and a Makefile that compiles each to an object and links them.
"""

import sys
from pathlib import Path

SOURCE = """#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "common.h"

static int table_{n}[64];

int step_{n}(int x)
{{
    for (int i = 0; i < 64; i++)
        table_{n}[i] = (x * {n} + i) % 97;
    return table_{n}[x % 64] + (int)strlen("unit {n}");
}}

void report_{n}(void)
{{
    char buf[64];
    snprintf(buf, sizeof buf, "unit {n}: %d", step_{n}({n}));
    if (getenv("KTRACE_BENCH_VERBOSE"))
        puts(buf);
}}
"""


def main() -> None:
    out = Path(sys.argv[1])
    files = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    out.mkdir(parents=True, exist_ok=True)
    (out / "common.h").write_text("".join(f"void report_{n}(void);\n" for n in range(files)))
    for n in range(files):
        (out / f"unit{n}.c").write_text(SOURCE.format(n=n))
    calls = "".join(f"    report_{n}();\n" for n in range(files))
    (out / "main.c").write_text(f'#include "common.h"\nint main(void)\n{{\n{calls}    return 0;\n}}\n')
    objs = " ".join(f"unit{n}.o" for n in range(files))
    (out / "Makefile").write_text(
        f"OBJS = main.o {objs}\n"
        "prog: $(OBJS)\n\t$(CC) -o $@ $(OBJS)\n"
        "%.o: %.c common.h\n\t$(CC) -O1 -c -o $@ $<\n"
        "clean:\n\trm -f prog $(OBJS)\n")


if __name__ == "__main__":
    main()
