/* A syscall storm: 4 threads writing 4 KiB to /dev/null 5,000 times each,
   then exit with the status given as argument.
   The bpf engine's --lossless test and benchmark run it. */
#include <pthread.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static void *storm(void *arg) {
    char buf[4096];
    memset(buf, 'x', sizeof buf);
    int fd = open("/dev/null", O_WRONLY);
    for (int i = 0; i < 5000; i++) write(fd, buf, sizeof buf);
    close(fd);
    return arg;
}
int main(int argc, char **argv) {
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], 0, storm, 0);
    for (int i = 0; i < 4; i++) pthread_join(t[i], 0);
    return argc > 1 ? atoi(argv[1]) : 0;     /* the exit status asked for */
}
