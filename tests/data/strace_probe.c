/* A program that exercises the syscalls the strace view decodes. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static void on_usr1(int sig) { got = sig; }

static void *worker(void *arg) {
    int *fds = arg;
    char c = 'w';
    write(fds[1], &c, 1);
    return NULL;
}

/* Descriptors, vectors, directories, names: the calls coreutils make. */
static void files_more(void) {
    char buf[256];
    int fd = open("more.txt", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    struct iovec iov[2] = {{"vec", 3}, {"tor\n", 4}};
    writev(fd, iov, 2);
    pwrite(fd, "PW", 2, 0);
    fsync(fd);
    ftruncate(fd, 5);
    fchmod(fd, 0640);
    flock(fd, LOCK_EX);
    int copy = dup(fd);
    dup2(fd, 10);
    dup3(fd, 11, O_CLOEXEC);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    fcntl(fd, F_GETFL);
    close(copy);
    close(10);
    close(11);
    close(fd);
    fd = open("more.txt", O_RDONLY);
    char a[3], b[8];
    struct iovec in[2] = {{a, sizeof a}, {b, sizeof b}};
    readv(fd, in, 2);
    int out = open("sent.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    off_t off = 0;
    sendfile(out, fd, &off, 5);
    close(out);
    close(fd);
    rename("sent.txt", "renamed.txt");
    chmod("renamed.txt", 0600);
    symlink("renamed.txt", "link");
    readlink("link", buf, sizeof buf);
    unlink("link");
    unlink("renamed.txt");
    unlink("more.txt");
    mkdir("dir", 0700);
    chdir("dir");
    getcwd(buf, sizeof buf);
    chdir("..");
    rmdir("dir");
    umask(022);
    struct utsname u;
    uname(&u);
    struct sysinfo si;
    sysinfo(&si);
    struct tms t;
    times(&t);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    prctl(PR_SET_NAME, "probe-main");
    getppid();
    getpgrp();
    sched_yield();
}

/* Memory, timers, event descriptors. */
static void memory_and_events(void) {
    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    m[0] = 1;
    mprotect(m, 4096, PROT_READ);
    madvise(m, 8192, MADV_DONTNEED);
    m = mremap(m, 8192, 16384, MREMAP_MAYMOVE);
    munmap(m, 16384);
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    uint64_t one = 1;
    write(efd, &one, sizeof one);
    read(efd, &one, sizeof one);
    close(efd);
    fd_set rfds;
    FD_ZERO(&rfds);
    FD_SET(0, &rfds);
    struct timeval tv = {0, 0};
    select(1, &rfds, NULL, NULL, &tv);
    struct itimerval it = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &it, NULL);
    alarm(0);
    stack_t ss = {.ss_sp = malloc(65536), .ss_size = 65536, .ss_flags = 0};
    sigaltstack(&ss, NULL);
}

/* A datagram pair with sendmsg/recvmsg, and socket options read back. */
static void messages(void) {
    int sv[2];
    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv);
    struct iovec iov = {"datagram", 8};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    sendmsg(sv[0], &mh, 0);
    char buf[64];
    struct iovec riov = {buf, sizeof buf};
    struct msghdr rh = {.msg_iov = &riov, .msg_iovlen = 1};
    recvmsg(sv[1], &rh, 0);
    int type;
    socklen_t len = sizeof type;
    getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &len);
    close(sv[0]);
    close(sv[1]);
}

/* Children that end in different ways. */
static void children(void) {
    int status, ready[2];
    char c;
    pipe(ready);
    pid_t pid = fork();
    if (pid == 0) {
        write(ready[1], "r", 1);
        pause();
        _exit(0);
    }
    read(ready[0], &c, 1);
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    pid = fork();
    if (pid == 0)
        exit(7);
    waitpid(pid, &status, 0);
}

int main(void) {
    char buf[256];
    /* files */
    int fd = open("data.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
    write(fd, "hello probe\n", 12);
    lseek(fd, 0, SEEK_SET);
    read(fd, buf, sizeof buf);
    pread(fd, buf, 5, 6);
    struct stat st;
    fstat(fd, &st);
    stat("data.txt", &st);
    lstat("data.txt", &st);
    close(fd);
    /* failures */
    open("does-not-exist", O_RDONLY);
    close(-1);
    read(9999, buf, 1);
    execve("data.txt", (char *[]){"data.txt", NULL}, (char *[]){NULL});
    mkdir("data.txt", 0755);
    unlink("does-not-exist");
    access("data.txt", X_OK);
    /* signals */
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGTERM);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, &old);
    sigprocmask(SIG_SETMASK, &old, NULL);
    kill(getpid(), SIGUSR1);
    signal(SIGPIPE, SIG_IGN);
    /* pipes and a thread */
    int p[2];
    pipe(p);
    pthread_t th;
    pthread_create(&th, NULL, worker, p);
    pthread_join(th, NULL);
    struct pollfd pfd = {p[0], POLLIN, 0};
    poll(&pfd, 1, 1000);
    read(p[0], buf, 1);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = p[0]};
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    write(p[1], "x", 1);
    struct epoll_event out[4];
    epoll_wait(ep, out, 4, 1000);
    close(ep);
    close(p[0]);
    close(p[1]);
    /* sockets */
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    send(sv[0], "ping", 4, 0);
    recv(sv[1], buf, sizeof buf, 0);
    close(sv[0]);
    close(sv[1]);
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(ls, (struct sockaddr *)&a, sizeof a);
    listen(ls, 1);
    socklen_t alen = sizeof a;
    getsockname(ls, (struct sockaddr *)&a, &alen);
    int cs = socket(AF_INET, SOCK_STREAM, 0);
    connect(cs, (struct sockaddr *)&a, sizeof a);
    int as = accept(ls, NULL, NULL);
    write(cs, "over tcp", 8);
    read(as, buf, sizeof buf);
    shutdown(cs, SHUT_WR);
    close(as);
    close(cs);
    close(ls);
    /* sleeping, directories */
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
    DIR *d = opendir(".");
    while (readdir(d))
        ;
    closedir(d);
    /* a child that exits with 3 */
    pid_t pid = fork();
    if (pid == 0)
        _exit(3);
    int status;
    waitpid(pid, &status, 0);
    unlink("data.txt");
    files_more();
    memory_and_events();
    messages();
    children();
    return got == SIGUSR1 ? 0 : 1;
}
