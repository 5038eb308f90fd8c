/*
 * Copyright (C) collab
 *
 * The presence benchmark's client: many Server-Sent Events connections on
 * one thread (raw sockets, epoll), with client tokens it signs itself with
 * the server's key (core/ngx_collab_ctoken.c), so that no token request
 * stands between it and the streams.
 *
 *   sse_bench hold   N SECONDS     N idle streams, held: how many stayed,
 *                                  the heartbeats each got, the longest
 *                                  gap between two of them
 *   sse_bench cycle  CONC SECONDS  join/leave cycles: connect, read the
 *                                  snapshot, close, CONC at a time
 *   sse_bench post   CONC SECONDS  POST .../users, CONC keep-alive
 *                                  connections at a time, for comparison
 *   sse_bench fanout N ROUNDS      N streams of one viewer in one worker,
 *                                  in the last room; a heartbeat PUT (a
 *                                  join of its user "bot") and DELETE (its
 *                                  leave) sent to the other worker; the
 *                                  time from each request to the message
 *                                  on every stream, p50 p99 max
 *
 * Settings come from the environment: BENCH_PORT, BENCH_KEY (the hex
 * client token key), BENCH_ACCOUNT, BENCH_ROOMS (a file of room ids),
 * BENCH_ROOM_USERS (users per room), BENCH_ADMIN (the admin token),
 * BENCH_SOURCES (how many 127.0.0.x source addresses, from .2).
 * Prints one line of results.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ngx_collab_ctoken.h"


#define BENCH_BUF        4096
#define BENCH_MAX_ROOMS  100000


typedef struct {
    int             fd;
    int             state;          /* see below */
    int             room;
    int             user;
    int             worker;         /* X-Worker */
    int             heartbeats;
    int             messages;
    int64_t         last;           /* ms of the last message */
    int64_t         gap;            /* the longest, ms */
    size_t          tail;           /* bytes kept across reads */
    char            keep[1024];
} bench_conn_t;

#define BENCH_HEARTBEAT  0x01
#define BENCH_JOINED     0x02
#define BENCH_LEFT       0x04
#define BENCH_PRESENCE   0x08


enum {
    BENCH_CONNECTING = 1,
    BENCH_HEAD,                     /* waiting for the answer's head */
    BENCH_OPEN,                     /* streaming */
    BENCH_CLOSED
};


static int            port;
static char           account[64];
static char          *rooms[BENCH_MAX_ROOMS];
static int            nrooms;
static int            room_users;
static unsigned char  key[COLLAB_CTOKEN_KEY_LEN];
static char           admin[600];
static int            sources;
static int            ep;
static int64_t        started;


static int64_t
now_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


static double
now_us(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}


static void
die(const char *what)
{
    fprintf(stderr, "sse_bench: %s: %s\n", what, strerror(errno));
    exit(1);
}


static const char *
env(const char *name)
{
    const char  *v;

    v = getenv(name);
    if (v == NULL) {
        fprintf(stderr, "sse_bench: %s is not set\n", name);
        exit(2);
    }

    return v;
}


static void
settings(void)
{
    int           i;
    FILE         *f;
    char          line[128];
    const char   *hex;
    struct rlimit  rl;

    port = atoi(env("BENCH_PORT"));
    snprintf(account, sizeof(account), "%s", env("BENCH_ACCOUNT"));
    room_users = atoi(env("BENCH_ROOM_USERS"));
    sources = getenv("BENCH_SOURCES") ? atoi(getenv("BENCH_SOURCES")) : 1;
    snprintf(admin, sizeof(admin), "%s",
             getenv("BENCH_ADMIN") ? getenv("BENCH_ADMIN") : "");

    hex = env("BENCH_KEY");

    for (i = 0; i < COLLAB_CTOKEN_KEY_LEN; i++) {
        unsigned int  b;

        if (sscanf(hex + 2 * i, "%2x", &b) != 1) {
            fprintf(stderr, "sse_bench: BENCH_KEY is not 64 hex digits\n");
            exit(2);
        }

        key[i] = (unsigned char) b;
    }

    f = fopen(env("BENCH_ROOMS"), "r");
    if (f == NULL) {
        die("BENCH_ROOMS");
    }

    while (nrooms < BENCH_MAX_ROOMS && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0]) {
            rooms[nrooms++] = strdup(line);
        }
    }

    fclose(f);

    if (nrooms == 0 || room_users <= 0) {
        fprintf(stderr, "sse_bench: no rooms, or no users per room\n");
        exit(2);
    }

    /* as many descriptors as the hard limit allows */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        (void) setrlimit(RLIMIT_NOFILE, &rl);
    }

    ep = epoll_create1(0);
    if (ep == -1) {
        die("epoll_create1");
    }

    started = now_ms();
}


/* a connection from the next 127.0.0.x source, non-blocking */
static int
dial(int n)
{
    int                 fd, one;
    struct sockaddr_in  sin;

    fd = socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0);
    if (fd == -1) {
        return -1;
    }

    one = 1;
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;

    if (sources > 1) {
        sin.sin_addr.s_addr = htonl(0x7f000002 + n % sources);

        if (bind(fd, (struct sockaddr *) &sin, sizeof(sin)) == -1) {
            close(fd);
            return -1;
        }
    }

    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(0x7f000001);

    if (connect(fd, (struct sockaddr *) &sin, sizeof(sin)) == -1
        && errno != EINPROGRESS)
    {
        close(fd);
        return -1;
    }

    return fd;
}


static void
write_all(int fd, const char *p, size_t len)
{
    ssize_t  n;

    while (len) {
        n = write(fd, p, len);

        if (n > 0) {
            p += n;
            len -= n;
            continue;
        }

        if (n == -1 && errno == EINTR) {
            continue;
        }

        /* a request fits a fresh socket's buffer: anything else is fatal */
        die("write");
    }
}


static void
stream_request(bench_conn_t *c, const char *user)
{
    size_t           len;
    collab_ctoken_t  t;
    char             token[COLLAB_CTOKEN_MAX + 1], req[1024];
    int64_t          wall;
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    wall = (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;

    t.issued_at = wall;
    t.expires_at = wall + 3600 * 1000;
    t.account = (unsigned char *) account;
    t.account_len = strlen(account);
    t.room = (unsigned char *) rooms[c->room];
    t.room_len = strlen(rooms[c->room]);
    t.user = (unsigned char *) user;
    t.user_len = strlen(user);

    if (collab_ctoken_sign(token, key, sizeof(key), &t) == 0) {
        fprintf(stderr, "sse_bench: cannot sign a token\n");
        exit(1);
    }

    len = snprintf(req, sizeof(req),
                   "GET /v1/accounts/%s/rooms/%s/connect HTTP/1.1\r\n"
                   "Host: localhost\r\nAuthorization: Bearer %s\r\n"
                   "Accept: text/event-stream\r\n\r\n",
                   account, rooms[c->room], token);

    write_all(c->fd, req, len);
}


/*
 * Reads what arrived: the head (its X-Worker), then the messages, each
 * counted when its end ("\n\n") arrives.  Returns -1 when the connection
 * ended, else the number of new complete messages; *what gets a bit for
 * each kind among them: BENCH_HEARTBEAT, BENCH_JOINED, BENCH_LEFT,
 * BENCH_PRESENCE.
 */
static int
stream_read(bench_conn_t *c, char *what)
{
    int      msgs;
    char     buf[BENCH_BUF + sizeof(((bench_conn_t *) 0)->keep) + 1];
    char    *p, *end, *w;
    size_t   have;
    ssize_t  n;

    msgs = 0;

    for ( ;; ) {
        memcpy(buf, c->keep, c->tail);
        n = read(c->fd, buf + c->tail, BENCH_BUF);

        if (n == 0) {
            return -1;
        }

        if (n == -1) {
            if (errno == EAGAIN) {
                return msgs;
            }

            if (errno == EINTR) {
                continue;
            }

            return -1;
        }

        have = c->tail + n;
        buf[have] = '\0';
        p = buf;
        end = buf + have;

        if (c->state == BENCH_HEAD) {
            w = strstr(buf, "\r\n\r\n");
            if (w == NULL) {
                /* heads are small: keep what fits and wait */
                c->tail = have < sizeof(c->keep) ? have : 0;
                memcpy(c->keep, buf, c->tail);
                continue;
            }

            if (strncmp(buf, "HTTP/1.1 200", 12) != 0) {
                return -1;
            }

            p = strstr(buf, "X-Worker: ");
            c->worker = p ? atoi(p + 10) : 0;

            c->state = BENCH_OPEN;
            p = w + 4;
        }

        /* messages end with "\n\n"; chunk framing adds "\r\n" around */
        while ((w = memmem(p, end - p, "\n\n", 2)) != NULL) {
            char  *m;

            m = memmem(p, w - p, "event: participant.joined", 25);

            if (m) {
                *what |= BENCH_JOINED;

            } else if (memmem(p, w - p, "event: participant.left", 23)) {
                *what |= BENCH_LEFT;

            } else if (memmem(p, w - p, ": heartbeat", 11)) {
                *what |= BENCH_HEARTBEAT;
                c->heartbeats++;

            } else if (memmem(p, w - p, "event: presence", 15)) {
                *what |= BENCH_PRESENCE;
            }

            msgs++;
            p = w + 2;
        }

        c->tail = end - p < (ptrdiff_t) sizeof(c->keep) ? end - p : 0;
        memcpy(c->keep, p, c->tail);
    }
}


static void
watch(bench_conn_t *c, uint32_t events)
{
    struct epoll_event  ee;

    ee.events = events;
    ee.data.ptr = c;

    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ee) == -1) {
        die("epoll_ctl");
    }
}


/* --- hold ---------------------------------------------------------------- */

static int
hold(int n, int seconds, int first)
{
    int                 i, k, opened, open, failed, ended, lost, mincount;
    int64_t             deadline, gap, t;
    char                what = 0, user[64];
    bench_conn_t       *conns, *c;
    struct epoll_event  evs[512];

    conns = calloc(n, sizeof(bench_conn_t));
    if (conns == NULL) {
        die("calloc");
    }

    opened = 0;
    open = 0;
    failed = 0;
    ended = 0;

    /* connect at a pace the listen queue takes: a batch, then its heads */
    for (i = 0; i < n; i++) {
        c = &conns[i];
        c->room = (first + i) / room_users % nrooms;
        c->user = (first + i) % room_users;
        c->fd = dial(first + i);

        if (c->fd == -1) {
            failed++;
            c->state = BENCH_CLOSED;
            continue;
        }

        c->state = BENCH_HEAD;
        snprintf(user, sizeof(user), "u%d", c->user);
        stream_request(c, user);
        watch(c, EPOLLIN|EPOLLRDHUP);
        opened++;

        if (opened % 256 == 0 || i == n - 1) {
            t = now_ms() + 5000;

            while (open + ended < opened && now_ms() < t) {
                k = epoll_wait(ep, evs, 512, 100);

                for (int e = 0; e < k; e++) {
                    c = evs[e].data.ptr;
                    int  was = c->state;

                    if (stream_read(c, &what) < 0) {
                        if (c->state != BENCH_CLOSED) {
                            close(c->fd);
                            c->state = BENCH_CLOSED;
                            ended++;
                            if (was == BENCH_OPEN) {
                                open--;
                            }
                        }
                        continue;
                    }

                    if (was == BENCH_HEAD && c->state == BENCH_OPEN) {
                        open++;
                        c->last = now_ms();
                    }
                }
            }
        }
    }

    fprintf(stderr, "sse_bench: %d streams open, %d refused or ended, "
            "%d could not connect; holding %d s\n", open, ended, failed,
            seconds);

    /* the hold: heartbeats are counted from here */
    for (i = 0; i < n; i++) {
        conns[i].heartbeats = 0;
        conns[i].gap = 0;
        conns[i].last = now_ms();
    }

    deadline = now_ms() + (int64_t) seconds * 1000;
    lost = 0;

    while ((t = now_ms()) < deadline) {
        k = epoll_wait(ep, evs, 512, (int) (deadline - t));

        for (i = 0; i < k; i++) {
            c = evs[i].data.ptr;

            if (c->state != BENCH_OPEN) {
                continue;
            }

            int  before = c->heartbeats;

            if (stream_read(c, &what) < 0) {
                close(c->fd);
                c->state = BENCH_CLOSED;
                lost++;
                continue;
            }

            if (c->heartbeats != before) {
                t = now_ms();
                gap = t - c->last;
                if (gap > c->gap) {
                    c->gap = gap;
                }
                c->last = t;
            }
        }
    }

    mincount = -1;
    gap = 0;

    for (i = 0; i < n; i++) {
        c = &conns[i];

        if (c->state != BENCH_OPEN) {
            continue;
        }

        /* the time since the last heartbeat counts as a gap too */
        if (deadline - c->last > c->gap) {
            c->gap = deadline - c->last;
        }

        if (mincount < 0 || c->heartbeats < mincount) {
            mincount = c->heartbeats;
        }

        if (c->gap > gap) {
            gap = c->gap;
        }
    }

    printf("hold: %d opened, %d held %d s, %d lost while held, "
           "heartbeats per stream min %d, longest gap %lld ms\n",
           n, open - lost, seconds, lost, mincount < 0 ? 0 : mincount,
           (long long) gap);
    fflush(stdout);

    /* stay connected until told to go (the memory is read meanwhile) */
    if (getenv("BENCH_LINGER")) {
        sleep(atoi(getenv("BENCH_LINGER")));
    }

    return 0;
}


/* --- cycle --------------------------------------------------------------- */

static int
cycle(int conc, int seconds)
{
    int                 i, k, done, failed;
    char                what = 0, user[64];
    int64_t             deadline;
    bench_conn_t       *conns, *c;
    struct epoll_event  evs[512];

    conns = calloc(conc, sizeof(bench_conn_t));
    if (conns == NULL) {
        die("calloc");
    }

    done = 0;
    failed = 0;
    deadline = now_ms() + (int64_t) seconds * 1000;

    for (i = 0; i < conc; i++) {
        c = &conns[i];
        c->room = i % nrooms;
        c->user = i;
        c->fd = -1;
    }

    for ( ;; ) {
        for (i = 0; i < conc; i++) {
            c = &conns[i];

            if (c->fd != -1 || now_ms() >= deadline) {
                continue;
            }

            c->fd = dial(i);
            if (c->fd == -1) {
                failed++;
                continue;
            }

            /* a user of its own each time: every cycle a join and a leave */
            c->state = BENCH_HEAD;
            c->tail = 0;
            c->messages++;
            snprintf(user, sizeof(user), "cyc%d-%d", c->user, c->messages);
            stream_request(c, user);
            watch(c, EPOLLIN|EPOLLRDHUP);
        }

        if (now_ms() >= deadline) {
            break;
        }

        k = epoll_wait(ep, evs, 512, 100);

        for (i = 0; i < k; i++) {
            c = evs[i].data.ptr;
            what = 0;

            if (stream_read(c, &what) < 0) {
                failed++;
                close(c->fd);
                c->fd = -1;
                continue;
            }

            /* the snapshot is in: a join, and now the leave */
            if (what & BENCH_PRESENCE) {
                done++;
                close(c->fd);
                c->fd = -1;
            }
        }
    }

    printf("cycle: %d connections at a time, %d join/leave cycles in %d s, "
           "%.0f/s, %d failed\n", conc, done, seconds,
           (double) done / seconds, failed);

    return 0;
}


/* --- post ---------------------------------------------------------------- */

static int
post(int conc, int seconds)
{
    int                 i, k, done, failed;
    int                *fds, *sent;
    char                req[2048], buf[BENCH_BUF];
    size_t              len;
    ssize_t             n;
    int64_t             deadline;
    struct epoll_event  ee, evs[512];

    fds = calloc(conc, sizeof(int));
    sent = calloc(conc, sizeof(int));
    if (fds == NULL || sent == NULL) {
        die("calloc");
    }

    done = 0;
    failed = 0;

    for (i = 0; i < conc; i++) {
        fds[i] = dial(i);
        if (fds[i] == -1) {
            die("connect");
        }

        ee.events = EPOLLOUT;
        ee.data.u32 = i;

        if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ee) == -1) {
            die("epoll_ctl");
        }
    }

    len = snprintf(req, sizeof(req),
                   "POST /v1/accounts/%s/rooms/%s/users HTTP/1.1\r\n"
                   "Host: localhost\r\nAuthorization: Bearer %s\r\n"
                   "Content-Type: application/json\r\n"
                   "Content-Length: 2\r\n\r\n{}", account, rooms[0], admin);

    deadline = now_ms() + (int64_t) seconds * 1000;

    while (now_ms() < deadline) {
        k = epoll_wait(ep, evs, 512, 100);

        for (i = 0; i < k; i++) {
            int  j = evs[i].data.u32;

            if (evs[i].events & EPOLLOUT) {
                write_all(fds[j], req, len);
                ee.events = EPOLLIN;
                ee.data.u32 = j;
                epoll_ctl(ep, EPOLL_CTL_MOD, fds[j], &ee);
                continue;
            }

            /* one answer, small, in one read: then the next request */
            n = read(fds[j], buf, sizeof(buf) - 1);
            if (n <= 0) {
                die("read");
            }

            buf[n] = '\0';

            if (strncmp(buf, "HTTP/1.1 201", 12) == 0) {
                done++;

            } else {
                failed++;
            }

            write_all(fds[j], req, len);
        }
    }

    printf("post: %d connections, %d users created in %d s, %.0f/s, "
           "%d failed\n", conc, done, seconds, (double) done / seconds,
           failed);

    return 0;
}


/* --- fanout -------------------------------------------------------------- */

static int
compare(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y;
}


/* a keep-alive connection to the API served by another worker than w */
static int
control(int w, int *got)
{
    int      i, fd;
    char     req[1024], buf[BENCH_BUF], *p;
    ssize_t  n;
    size_t   len;

    len = snprintf(req, sizeof(req),
                   "GET /v1/accounts/%s/rooms/%s/presence HTTP/1.1\r\n"
                   "Host: localhost\r\nAuthorization: Bearer %s\r\n\r\n",
                   account, rooms[nrooms - 1], admin);

    for (i = 0; i < 1000; i++) {
        fd = dial(i);
        if (fd == -1) {
            die("connect");
        }

        fcntl(fd, F_SETFL, 0);
        usleep(1000);
        write_all(fd, req, len);

        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0) {
            die("read");
        }

        buf[n] = '\0';
        p = strstr(buf, "X-Worker: ");
        *got = p ? atoi(p + 10) : 0;

        if (*got != w) {
            return fd;
        }

        close(fd);
    }

    fprintf(stderr, "sse_bench: every connection went to worker %d\n", w);
    exit(1);
}


static void
api(int fd, const char *method, const char *tail, const char *body)
{
    char     req[2048], buf[BENCH_BUF];
    size_t   len;
    ssize_t  n;

    len = snprintf(req, sizeof(req),
                   "%s /v1/accounts/%s/rooms/%s/presence/%s HTTP/1.1\r\n"
                   "Host: localhost\r\nAuthorization: Bearer %s\r\n"
                   "Content-Type: application/json\r\n"
                   "Content-Length: %zu\r\n\r\n%s", method, account,
                   rooms[nrooms - 1], tail, admin, strlen(body), body);

    write_all(fd, req, len);

    /* the answer waits for the event to be recorded; it is read later */
    (void) n;
    (void) buf;
}


static int
fanout(int n, int rounds)
{
    int                 i, k, r, w, other, fd, open, waiting, samples;
    char                what = 0;
    double             *lat, t0, t;
    bench_conn_t       *conns, *c;
    struct epoll_event  evs[512];
    char                buf[BENCH_BUF];

    conns = calloc(4 * n, sizeof(bench_conn_t));
    lat = calloc((size_t) rounds * 2 * n, sizeof(double));
    if (conns == NULL || lat == NULL) {
        die("calloc");
    }

    /* n streams of one viewer, in the worker of the first one */
    w = -1;
    open = 0;

    /* the last room: the cycles of "cycle" use the first ones */
    for (i = 0; i < 4 * n && open < n; i++) {
        c = &conns[i];
        c->room = nrooms - 1;
        c->fd = dial(i);
        if (c->fd == -1) {
            die("connect");
        }

        c->state = BENCH_HEAD;
        stream_request(c, "viewer");
        watch(c, EPOLLIN|EPOLLRDHUP);

        while (c->state == BENCH_HEAD) {
            k = epoll_wait(ep, evs, 512, 1000);
            for (int e = 0; e < k; e++) {
                bench_conn_t  *x = evs[e].data.ptr;
                if (stream_read(x, &what) < 0) {
                    fprintf(stderr, "sse_bench: a stream failed\n");
                    exit(1);
                }
            }
        }

        if (w == -1) {
            w = c->worker;
        }

        if (c->worker == w) {
            open++;
            continue;
        }

        /* another tab of the viewer, in the other worker: it goes */
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->state = BENCH_CLOSED;
    }

    fd = control(w, &other);

    fprintf(stderr, "sse_bench: %d streams in worker %d, the heartbeats "
            "go to worker %d\n", open, w, other);

    samples = 0;

    for (r = 0; r < 2 * rounds; r++) {
        char  want = (r % 2 == 0) ? BENCH_JOINED : BENCH_LEFT;

        t0 = now_us();
        api(fd, r % 2 == 0 ? "PUT" : "DELETE", "bot",
            r % 2 == 0 ? "{\"ttl\":600}" : "");

        waiting = open;

        for (i = 0; i < 4 * n; i++) {
            conns[i].messages = 0;
        }

        while (waiting > 0) {
            k = epoll_wait(ep, evs, 512, 5000);
            if (k == 0) {
                fprintf(stderr, "sse_bench: %d streams got nothing in 5 s\n",
                        waiting);
                exit(1);
            }

            t = now_us();

            for (i = 0; i < k; i++) {
                c = evs[i].data.ptr;
                what = 0;

                if (stream_read(c, &what) < 0) {
                    fprintf(stderr, "sse_bench: a stream ended\n");
                    exit(1);
                }

                if ((what & want) && c->messages == 0) {
                    c->messages = 1;
                    lat[samples++] = (t - t0) / 1000;
                    waiting--;
                }
            }
        }

        /* the answer to the request, and a pause between rounds */
        (void) read(fd, buf, sizeof(buf));
        usleep(20000);
    }

    qsort(lat, samples, sizeof(double), compare);

    printf("fanout: %d streams in one worker, %d joins and %d leaves sent "
           "to the other, %d messages: p50 %.1f ms, p99 %.1f ms, "
           "max %.1f ms\n", open, rounds, rounds, samples,
           lat[samples / 2], lat[(int) (samples * 0.99)],
           lat[samples - 1]);

    return 0;
}


int
main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: sse_bench hold N SECONDS [FIRST] | "
                "cycle CONC SECONDS | post CONC SECONDS | "
                "fanout N ROUNDS\n");
        return 2;
    }

    settings();

    if (strcmp(argv[1], "hold") == 0) {
        return hold(atoi(argv[2]), atoi(argv[3]),
                    argc > 4 ? atoi(argv[4]) : 0);
    }

    if (strcmp(argv[1], "cycle") == 0) {
        return cycle(atoi(argv[2]), atoi(argv[3]));
    }

    if (strcmp(argv[1], "post") == 0) {
        return post(atoi(argv[2]), atoi(argv[3]));
    }

    if (strcmp(argv[1], "fanout") == 0) {
        return fanout(atoi(argv[2]), atoi(argv[3]));
    }

    fprintf(stderr, "sse_bench: unknown mode %s\n", argv[1]);

    return 2;
}
