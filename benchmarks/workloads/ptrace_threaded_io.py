"""Workload: a multi-threaded Python program doing file I/O.

    python3 ptrace_threaded_io.py DIR [THREADS] [ROUNDS]

Each thread writes a file of small lines, reads it back line by line, stats
it and removes it, ROUNDS times: many short syscalls from several threads.
"""

import os
import sys
import threading


def work(directory: str, n: int, rounds: int) -> None:
    path = os.path.join(directory, f"t{n}.txt")
    for r in range(rounds):
        with open(path, "w") as f:
            for i in range(50):
                f.write(f"thread {n} round {r} line {i}\n")
                f.flush()
        with open(path) as f:
            total = sum(len(line) for line in f)
        os.stat(path)
        os.unlink(path)
        assert total > 0


def main() -> None:
    directory = sys.argv[1]
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    pool = [threading.Thread(target=work, args=(directory, n, rounds)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


if __name__ == "__main__":
    main()
