/* SPDX-License-Identifier: MIT */
/* test_socket_cloexec.c - the provider's connections are close-on-exec (issue 9): a child a host
 * starts must not inherit a TLS connection that carries the management token.
 *
 * cloudflare.so is loaded as a host loads it and makes calls to cfemu over TLS; libcurl keeps the
 * connections open in its cache afterwards. Then:
 *  - every TCP socket (AF_INET/AF_INET6) of the process has FD_CLOEXEC, and there is at least one
 *    (else the test would prove nothing);
 *  - a child that execs `ls -l /proc/self/fd` lists none of those sockets' inodes.
 * libcurl 7.88 creates its internal socket pair (AF_UNIX) without close-on-exec and offers no hook
 * for it: hosts close inherited descriptors in their children (ABI.md, "Process hardening"; the
 * harness's --exec does, see test_exec_fds.sh). The socket pair is reported, not failed. */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sec_util.h"

static cfemu_fx g_fx;

static int setup(void **state)
{
    (void)state;
    return cfemu_start(&g_fx, NULL, NULL);
}

static int teardown(void **state)
{
    (void)state;
    return cfemu_stop(&g_fx) == 0 ? 0 : -1;
}

typedef struct sock_scan {
    int inet; /* TCP sockets found */
    int inet_no_cloexec;
    int unix_no_cloexec;
    unsigned long inodes[64];
    int ninodes;
} sock_scan;

static void scan_sockets(sock_scan *s)
{
    memset(s, 0, sizeof(*s));
    for (int fd = 0; fd < 1024; fd++) {
        struct stat st;
        int domain = 0;
        socklen_t len = sizeof(domain);
        int flags;

        if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
            continue;
        if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0)
            continue;
        flags = fcntl(fd, F_GETFD);
        if (domain == AF_INET || domain == AF_INET6) {
            s->inet++;
            if ((flags & FD_CLOEXEC) == 0)
                s->inet_no_cloexec++;
            if (s->ninodes < 64)
                s->inodes[s->ninodes++] = (unsigned long)st.st_ino;
        } else if (domain == AF_UNIX && (flags & FD_CLOEXEC) == 0) {
            s->unix_no_cloexec++;
        }
    }
}

/* What a child that execs ls sees in /proc/self/fd, into buf. */
static void child_listing(char *buf, size_t cap)
{
    int pfd[2];
    pid_t pid;
    size_t n = 0;
    int status;

    assert_int_equal(pipe(pfd), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(pfd[1], STDOUT_FILENO);
        execl("/bin/ls", "ls", "-l", "/proc/self/fd/", (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    for (;;) {
        ssize_t r = read(pfd[0], buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    close(pfd[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void provider_connections_are_close_on_exec(void **state)
{
    void *dl = NULL;
    const rotp_provider *p = sec_load(&dl);
    const char *mgmt = sec_cred(&g_fx, "CFEMU_TOKEN_MGMT_VALUE");
    char mgmt_copy[512], listing[16384], needle[64];
    rotp_instance *inst = NULL;
    rotp_error err;
    sock_scan s;

    (void)state;
    snprintf(mgmt_copy, sizeof(mgmt_copy), "%s", mgmt);
    assert_int_equal(sec_open(p, &inst, &err, "api_token", mgmt_copy, "api_base", g_fx.api_base,
                              "ca_file", g_fx.ca_file, NULL),
                     ROTP_E_OK);
    /* two reads: the connection stays in libcurl's cache afterwards */
    assert_int_equal(sec_call(p, inst, p->verify, &err, "kind", "cloudflare.user_token", "secret",
                              mgmt_copy, NULL),
                     ROTP_E_OK);
    assert_int_equal(sec_call(p, inst, p->list, &err, "kind", "cloudflare.user_token", NULL),
                     ROTP_E_OK);
    scan_sockets(&s);
    print_message("TCP sockets: %d (%d without FD_CLOEXEC); AF_UNIX without FD_CLOEXEC: %d "
                  "(libcurl's own socket pair)\n",
                  s.inet, s.inet_no_cloexec, s.unix_no_cloexec);
    assert_true(s.inet >= 1);
    assert_int_equal(s.inet_no_cloexec, 0);

    child_listing(listing, sizeof(listing));
    for (int i = 0; i < s.ninodes; i++) {
        snprintf(needle, sizeof(needle), "socket:[%lu]", s.inodes[i]);
        if (strstr(listing, needle) != NULL)
            fail_msg("the child inherited the provider's connection %s", needle);
    }
    p->close(inst);
    sec_lines_clear();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(provider_connections_are_close_on_exec),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
