/*
 * Copyright (C) collab
 *
 * The runner's sandbox, for the day an engine bug lets a workflow run
 * code of its choice: no inherited descriptors but the module's socket,
 * an empty environment, no new privileges, no core dumps, bounded
 * descriptors and address space, and a system call filter that refuses
 * starting programs, opening files, creating processes, and every socket
 * but Internet stream and datagram ones (fetch and DNS).  The filter is
 * applied after everything the runner needs is open; the compile helper,
 * forked before, is outside it (it starts esbuild) but has no socket to
 * the outside and only the runner to talk to.
 */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/sched.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <seccomp.h>

#include "ngx_collab_sandbox.h"


#define COLLAB_NOFILE        16384
#define COLLAB_ADDRESS_SPACE (16ULL * 1024 * 1024 * 1024)


/* system calls that no part of the runner makes after start */
static const int  collab_refused[] = {
    SCMP_SYS(execve), SCMP_SYS(execveat),
    SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(openat2), SCMP_SYS(creat),
    SCMP_SYS(open_by_handle_at), SCMP_SYS(name_to_handle_at),
    SCMP_SYS(fork), SCMP_SYS(vfork),
    SCMP_SYS(socketpair),
    SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv),
    SCMP_SYS(process_vm_writev), SCMP_SYS(kcmp),
    SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root),
    SCMP_SYS(chroot), SCMP_SYS(unshare), SCMP_SYS(setns),
    SCMP_SYS(bpf), SCMP_SYS(perf_event_open), SCMP_SYS(userfaultfd),
    SCMP_SYS(io_uring_setup), SCMP_SYS(io_uring_enter),
    SCMP_SYS(io_uring_register),
    SCMP_SYS(kexec_load), SCMP_SYS(kexec_file_load),
    SCMP_SYS(init_module), SCMP_SYS(finit_module), SCMP_SYS(delete_module),
    SCMP_SYS(reboot), SCMP_SYS(swapon), SCMP_SYS(swapoff), SCMP_SYS(acct),
    SCMP_SYS(keyctl), SCMP_SYS(add_key), SCMP_SYS(request_key),
    SCMP_SYS(quotactl), SCMP_SYS(syslog), SCMP_SYS(fanotify_init),
    SCMP_SYS(settimeofday), SCMP_SYS(clock_settime), SCMP_SYS(adjtimex),
    SCMP_SYS(sethostname), SCMP_SYS(setdomainname),
    SCMP_SYS(iopl), SCMP_SYS(ioperm),
    SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(rename),
    SCMP_SYS(renameat), SCMP_SYS(renameat2), SCMP_SYS(link),
    SCMP_SYS(linkat), SCMP_SYS(symlink), SCMP_SYS(symlinkat),
    SCMP_SYS(mkdir), SCMP_SYS(mkdirat), SCMP_SYS(rmdir), SCMP_SYS(mknod),
    SCMP_SYS(mknodat), SCMP_SYS(chmod), SCMP_SYS(fchmodat),
    SCMP_SYS(chown), SCMP_SYS(lchown), SCMP_SYS(fchownat),
    SCMP_SYS(truncate), SCMP_SYS(utime), SCMP_SYS(utimes),
    SCMP_SYS(utimensat), SCMP_SYS(futimesat),
    SCMP_SYS(listen), SCMP_SYS(accept), SCMP_SYS(accept4),
};


/*
 * Run first: the inherited descriptors (but the socket and stderr) are
 * closed, stdin and stdout lead nowhere, the environment is emptied.
 */
int
collab_sandbox_fds(void)
{
    int  fd;

    if (syscall(SYS_close_range, COLLAB_RUNNER_FD + 1, ~0U, 0) != 0) {
        for (fd = COLLAB_RUNNER_FD + 1; fd < 65536; fd++) {
            close(fd);
        }
    }

    fd = open("/dev/null", O_RDWR|O_CLOEXEC);

    if (fd == -1) {
        collab_runner_error("cannot open /dev/null: %s", strerror(errno));
        return -1;
    }

    if (!collab_runner.selftest) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
    }

    close(fd);

    clearenv();
    umask(077);

    return 0;
}


int
collab_sandbox_limits(void)
{
    struct rlimit  rl;

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        collab_runner_error("prctl(PR_SET_NO_NEW_PRIVS) failed: %s",
                            strerror(errno));
        return -1;
    }

    /* no core file, and no ptrace by other processes of the user */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

    rl.rlim_cur = 0;
    rl.rlim_max = 0;

    if (setrlimit(RLIMIT_CORE, &rl) != 0) {
        collab_runner_error("setrlimit(RLIMIT_CORE) failed: %s",
                            strerror(errno));
        return -1;
    }

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > COLLAB_NOFILE) {
            rl.rlim_max = COLLAB_NOFILE;
        }

        rl.rlim_cur = rl.rlim_max;

        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            collab_runner_error("setrlimit(RLIMIT_NOFILE) failed: %s",
                                strerror(errno));
            return -1;
        }
    }

#if !defined(__SANITIZE_ADDRESS__)
    /*
     * Every execution has its own memory limit; this bounds the whole
     * process.  AddressSanitizer reserves terabytes of address space for
     * its shadow memory, so its builds go without.
     */
    rl.rlim_cur = COLLAB_ADDRESS_SPACE;
    rl.rlim_max = COLLAB_ADDRESS_SPACE;

    if (setrlimit(RLIMIT_AS, &rl) != 0) {
        collab_runner_error("setrlimit(RLIMIT_AS) failed: %s",
                            strerror(errno));
        return -1;
    }
#endif

    return 0;
}


int
collab_sandbox_seccomp(void)
{
    int             rc;
    size_t          i;
    scmp_filter_ctx  f;
    int              domain, type;

    f = seccomp_init(SCMP_ACT_ALLOW);
    if (f == NULL) {
        collab_runner_error("seccomp_init() failed");
        return -1;
    }

    rc = 0;

    for (i = 0; rc == 0 && i < sizeof(collab_refused) / sizeof(int); i++) {
        if (collab_refused[i] < 0) {
            /* not a system call of this architecture */
            continue;
        }

        rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), collab_refused[i], 0);
    }

    /* threads may be created, processes may not */
    if (rc == 0) {
        rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
    }

    /* clone3's flags are out of the filter's reach: the C library then
       falls back to clone */
    if (rc == 0) {
        rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    }

    /* sockets: AF_INET and AF_INET6 only ... */
    if (rc == 0) {
        rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
                              SCMP_A0(SCMP_CMP_LT, AF_INET));
    }

    for (domain = AF_INET + 1; rc == 0 && domain < AF_INET6; domain++) {
        rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
                              SCMP_A0(SCMP_CMP_EQ, domain));
    }

    if (rc == 0) {
        rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
                              SCMP_A0(SCMP_CMP_GT, AF_INET6));
    }

    /* ... and of them stream and datagram sockets only */
    for (type = 0; rc == 0 && type < 16; type++) {
        if (type == SOCK_STREAM || type == SOCK_DGRAM) {
            continue;
        }

        rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
                              SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, type));
    }

    if (rc == 0) {
        rc = seccomp_load(f);
    }

    seccomp_release(f);

    if (rc != 0) {
        collab_runner_error("the system call filter cannot be applied: %s",
                            strerror(-rc));
        return -1;
    }

    return 0;
}


static int
collab_selftest_refused(const char *what, long rc, int want)
{
    int  err = errno;

    if (rc == -1 && err == want) {
        printf("ok: %s refused (%s)\n", what, strerror(err));
        return 0;
    }

    printf("FAILED: %s was not refused (rc %ld, %s)\n", what, rc,
           rc == -1 ? strerror(err) : "no error");
    return 1;
}


static int
collab_selftest_allowed(const char *what, long rc)
{
    if (rc >= 0) {
        printf("ok: %s allowed\n", what);
        return 0;
    }

    printf("FAILED: %s refused (%s)\n", what, strerror(errno));
    return 1;
}


/*
 * --selftest-sandbox: closes the sandbox as at start, then tries what it
 * must refuse and what it must allow, one line each on stdout; exits 0
 * when every answer is as it should be.
 */
int
collab_sandbox_selftest(void)
{
    int    failed, fd;
    long   rc;
    pid_t  pid;
    char  *argv[] = { (char *) "/bin/true", NULL };
    char  *envp[] = { NULL };

    if (collab_sandbox_fds() != 0 || collab_sandbox_limits() != 0
        || collab_sandbox_seccomp() != 0)
    {
        printf("FAILED: the sandbox cannot be closed\n");
        return 1;
    }

    failed = 0;

    errno = 0;
    rc = execve("/bin/true", argv, envp);
    failed += collab_selftest_refused("execve(\"/bin/true\")", rc, EPERM);

    errno = 0;
    rc = syscall(SYS_execveat, AT_FDCWD, "/bin/true", argv, envp, 0);
    failed += collab_selftest_refused("execveat(\"/bin/true\")", rc, EPERM);

    errno = 0;
    rc = open("/etc/passwd", O_RDONLY);
    failed += collab_selftest_refused("open(\"/etc/passwd\")", rc, EPERM);

    errno = 0;
    rc = syscall(SYS_open, "/etc/hostname", O_RDONLY);
    failed += collab_selftest_refused("open() system call", rc, EPERM);

    errno = 0;
    rc = openat(AT_FDCWD, "/tmp/collab-selftest", O_WRONLY|O_CREAT, 0600);
    failed += collab_selftest_refused("openat(O_CREAT)", rc, EPERM);

    errno = 0;
    rc = unlink("/tmp/collab-selftest");
    failed += collab_selftest_refused("unlink()", rc, EPERM);

    errno = 0;
    rc = socket(AF_UNIX, SOCK_STREAM, 0);
    failed += collab_selftest_refused("socket(AF_UNIX)", rc, EPERM);

    errno = 0;
    rc = socket(AF_NETLINK, SOCK_RAW, 0);
    failed += collab_selftest_refused("socket(AF_NETLINK)", rc, EPERM);

    errno = 0;
    rc = socket(AF_PACKET, SOCK_RAW, 0);
    failed += collab_selftest_refused("socket(AF_PACKET)", rc, EPERM);

    errno = 0;
    rc = socket(AF_INET, SOCK_RAW, 1);
    failed += collab_selftest_refused("socket(AF_INET, SOCK_RAW)", rc, EPERM);

    errno = 0;
    {
        int  sv[2];

        rc = socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    }
    failed += collab_selftest_refused("socketpair(AF_UNIX)", rc, EPERM);

    errno = 0;
    pid = fork();

    if (pid == 0) {
        _exit(0);
    }

    if (pid > 0) {
        waitpid(pid, NULL, 0);
    }

    failed += collab_selftest_refused("fork()", pid, EPERM);

    errno = 0;
    rc = syscall(SYS_clone, (long) SIGCHLD, 0L, 0L, 0L, 0L);

    if (rc == 0) {
        _exit(0);
    }

    failed += collab_selftest_refused("clone() of a process", rc, EPERM);

    errno = 0;
    rc = syscall(SYS_clone3, NULL, 0);
    failed += collab_selftest_refused("clone3()", rc, ENOSYS);

    errno = 0;
    rc = ptrace(PTRACE_TRACEME, 0, NULL, NULL);
    failed += collab_selftest_refused("ptrace()", rc, EPERM);

    fd = socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, 0);
    failed += collab_selftest_allowed("socket(AF_INET, SOCK_STREAM)", fd);

    if (fd >= 0) {
        close(fd);
    }

    fd = socket(AF_INET6, SOCK_DGRAM|SOCK_NONBLOCK, 0);
    failed += collab_selftest_allowed("socket(AF_INET6, SOCK_DGRAM)", fd);

    if (fd >= 0) {
        close(fd);
    }

    printf("%s\n", failed ? "the sandbox is open" : "the sandbox holds");
    fflush(stdout);

    /* no exit handlers: LeakSanitizer's cannot work in the sandbox */
    _exit(failed ? 1 : 0);
}
