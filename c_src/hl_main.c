/*
 * hl_main.c: the heirloom_node command line.
 *
 * Parses options, finds the cookie, makes sure epmd runs, opens the store,
 * starts the node and runs the event loop until SIGTERM or SIGINT, which
 * only set a flag: the loop returns and shutdown happens here, in order
 * (connections, epmd registration, store).
 */
#include "hl_loop.h"
#include "hl_node.h"
#include "hl_store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/time.h>
#include <unistd.h>

#ifndef HL_VERSION
#error "HL_VERSION comes from src/heirloom.app.src through the Makefile"
#endif

/* hl_loop_busy_wait: with one caller in a loop of calls, 100 us catches its
 * next request on the 2-vCPU VMs measured (latency 80 -> 40 us), at most
 * 100 us of CPU per burst of calls. */
#define HL_BUSY_WAIT_US 100

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* --exit-with-stdin: EOF (or an error) on standard input means the process
 * that started us through a pipe is gone; stop as SIGTERM would. What is
 * written to stdin is read and dropped. */
static void on_stdin(void *ctx, int fd, short revents)
{
    char buf[256];
    (void)ctx;
    (void)revents;
    ssize_t r = read(fd, buf, sizeof buf);
    if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
        stop_flag = 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: heirloom_node [options]\n"
               "  --name NAME          node name (default heirloom@127.0.0.1)\n"
               "  --cookie COOKIE      distribution cookie\n"
               "  --cookie-file FILE   read the cookie from FILE (default ~/.erlang.cookie)\n"
               "  --dir DIR            store directory (default /dev/shm/heirloom/NAME)\n"
               "  --listen ADDR        IPv4 address to listen on (default 127.0.0.1)\n"
               "  --port PORT          distribution port (default: any free port)\n"
               "  --sync MODE          none (default) or commit: fsync every commit\n"
               "  --map-size BYTES     the most this node grows the store to (default 64 GiB)\n"
               "  --net-ticktime SECS  drop peers silent this long (default 60)\n"
               "  --verbose            log refused requests and connection events\n"
               "  --busy-wait USEC     after serving, poll this long before sleeping\n"
               "                       (default 100; 0: sleep at once, least CPU)\n"
               "  --exit-with-stdin    stop when standard input closes (a parent's pipe:\n"
               "                       test harnesses; never for a node whose data must\n"
               "                       outlive the VM that started it)\n"
               "  --default-dir        print the default store directory for --name, exit\n"
               "  --help, --version\n");
}

static int read_cookie(const char *path, char *out, size_t cap, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read cookie file %s: %s", path, strerror(errno));
        return -1;
    }
    size_t n = fread(out, 1, cap - 1, f);
    fclose(f);
    out[n] = 0;
    out[strcspn(out, "\r\n")] = 0;
    if (!out[0]) {
        snprintf(err, errlen, "cookie file %s is empty", path);
        return -1;
    }
    return 0;
}

/* Ask for NAMES_REQ and read the reply (epmd's port, then names until it closes): a bare connect
 * would make epmd log a partial packet, and this also proves it is epmd. */
static int epmd_answers(void)
{
    const char *p = getenv("ERL_EPMD_PORT");
    int port = p ? atoi(p) : 4369;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tmo = {.tv_sec = 1};
    static const unsigned char names_req[3] = {0, 1, 110};
    unsigned char reply[4];
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return 0;
    int ok = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof tmo) == 0 &&
             connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
             write(fd, names_req, sizeof names_req) == (ssize_t)sizeof names_req &&
             recv(fd, reply, sizeof reply, MSG_WAITALL) == (ssize_t)sizeof reply;
    /* Drain the name list: closing early makes epmd log a broken pipe. */
    char rest[512];
    while (ok && recv(fd, rest, sizeof rest, 0) > 0)
        ;
    close(fd);
    return ok;
}

/* Start `epmd -daemon` if nothing answers on the epmd port, then wait for it.
 * It listens where we do: on loopback only when we listen on loopback (epmd
 * always adds loopback to ERL_EPMD_ADDRESS), on every interface only when we
 * do. A caller's own ERL_EPMD_ADDRESS is kept. */
static int ensure_epmd(const char *listen_addr, char *err, size_t errlen)
{
    if (epmd_answers())
        return 0;
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "cannot fork to start epmd: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        struct in_addr a;
        if (inet_pton(AF_INET, listen_addr, &a) == 1 && a.s_addr != htonl(INADDR_ANY))
            (void)setenv("ERL_EPMD_ADDRESS", listen_addr, 0);
        execlp("epmd", "epmd", "-daemon", (char *)NULL);
        _exit(127);
    }
    int status;
    (void)waitpid(pid, &status, 0);
    for (int i = 0; i < 100; i++) {
        if (epmd_answers())
            return 0;
        usleep(20000);
    }
    snprintf(err, errlen, "epmd is not running and could not be started");
    return -1;
}

static int mkdir_p(const char *path)
{
    char tmp[4096];
    if (strlen(path) >= sizeof tmp)
        return -1;
    strcpy(tmp, path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

/*
 * One C node per store directory: an flock on node.lock, held for the
 * process's life and dropped by the kernel when it dies (kill -9 too). A
 * second node on the directory would take every table from its live owner
 * at start (hl_dm_restart: pids from before a restart are not trusted) and
 * then serve the same tables beside the first. Returns the descriptor, or
 * -1 with err set.
 */
static int lock_dir(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/node.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    int rc;
    while ((rc = flock(fd, LOCK_EX | LOCK_NB)) && errno == EINTR)
        ;
    if (rc) {
        snprintf(err, errlen,
                 errno == EWOULDBLOCK ? "another heirloom_node serves store directory %s"
                                      : "cannot lock store directory %s",
                 dir);
        close(fd);
        return -1;
    }
    return fd;
}

static void store_log(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "heirloom_node: store: %s\n", msg);
}

typedef struct {
    const char *name, *cookie, *cookie_file, *dir, *listen, *sync;
    int port, ticktime, verbose;
    size_t map_size;
    int print_dir;
    int exit_with_stdin;
    long busy_wait_us;
} cli;

/* The one place the default store directory is decided: the embedded
 * default (heirloom_embedded.erl) asks for it with --default-dir. */
static void default_dir(const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "/dev/shm/heirloom/%s", name);
}

static int parse(int argc, char **argv, cli *c)
{
    static const struct option opts[] = {{"name", required_argument, 0, 'n'},
                                         {"cookie", required_argument, 0, 'c'},
                                         {"cookie-file", required_argument, 0, 'f'},
                                         {"dir", required_argument, 0, 'd'},
                                         {"listen", required_argument, 0, 'l'},
                                         {"port", required_argument, 0, 'p'},
                                         {"sync", required_argument, 0, 's'},
                                         {"map-size", required_argument, 0, 'm'},
                                         {"net-ticktime", required_argument, 0, 't'},
                                         {"verbose", no_argument, 0, 'v'},
                                         {"help", no_argument, 0, 'h'},
                                         {"version", no_argument, 0, 'V'},
                                         {"default-dir", no_argument, 0, 'D'},
                                         {"exit-with-stdin", no_argument, 0, 'e'},
                                         {"busy-wait", required_argument, 0, 'b'},
                                         {0, 0, 0, 0}};
    int o;
    char *end;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'n':
            c->name = optarg;
            break;
        case 'c':
            c->cookie = optarg;
            break;
        case 'f':
            c->cookie_file = optarg;
            break;
        case 'd':
            c->dir = optarg;
            break;
        case 'l':
            c->listen = optarg;
            break;
        case 'p':
            c->port = atoi(optarg);
            break;
        case 's':
            c->sync = optarg;
            break;
        case 'm':
            c->map_size = (size_t)strtoull(optarg, NULL, 10);
            break;
        case 't':
            c->ticktime = atoi(optarg);
            break;
        case 'v':
            c->verbose = 1;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case 'V':
            printf("heirloom_node %s\n", HL_VERSION);
            exit(0);
        case 'D':
            c->print_dir = 1;
            break;
        case 'e':
            c->exit_with_stdin = 1;
            break;
        case 'b':
            c->busy_wait_us = strtol(optarg, &end, 10);
            if (*optarg == 0 || *end || c->busy_wait_us < 0 || c->busy_wait_us > 1000000) {
                fprintf(stderr, "heirloom_node: --busy-wait takes 0 to 1000000 microseconds\n");
                return -1;
            }
            break;
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "heirloom_node: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (strcmp(c->sync, "none") && strcmp(c->sync, "commit")) {
        fprintf(stderr, "heirloom_node: --sync must be none or commit\n");
        return -1;
    }
    if (c->port < 0 || c->port > 65535 || c->ticktime <= 0) {
        fprintf(stderr, "heirloom_node: bad --port or --net-ticktime\n");
        return -1;
    }
    return 0;
}

static unsigned fresh_creation(void)
{
    /* ei ignores epmd's creation: pick one that differs on every start so
     * pids and refs of a restarted node never equal the old ones. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned c = (unsigned)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000) ^ ((unsigned)getpid() << 16);
    return c < 4 ? c + 4 : c;
}

int main(int argc, char **argv)
{
    cli c = {"heirloom@127.0.0.1", NULL, NULL, NULL, "127.0.0.1", "none", 0, 60, 0, 0, 0, 0,
             HL_BUSY_WAIT_US};
    char err[8192], cookie[1024], dir[4096], cookie_path[4096];
    hl_store *store = NULL;
    hl_loop *loop = NULL;
    hl_node *node = NULL;
    int rc = 1, dir_lock = -1;
    if (parse(argc, argv, &c))
        return 2;
    if (c.print_dir) {
        default_dir(c.name, dir, sizeof dir);
        printf("%s\n", dir);
        return 0;
    }
    if (c.cookie) {
        snprintf(cookie, sizeof cookie, "%s", c.cookie);
    } else {
        const char *home = getenv("HOME");
        if (!c.cookie_file) {
            snprintf(cookie_path, sizeof cookie_path, "%s/.erlang.cookie", home ? home : "");
            c.cookie_file = cookie_path;
        }
        if (read_cookie(c.cookie_file, cookie, sizeof cookie, err, sizeof err))
            goto fail;
    }
    if (!c.dir) {
        default_dir(c.name, dir, sizeof dir);
        c.dir = dir;
    }
    if (mkdir_p(c.dir)) {
        snprintf(err, sizeof err, "cannot create store directory %s: %s", c.dir, strerror(errno));
        goto fail;
    }
    if ((dir_lock = lock_dir(c.dir, err, sizeof err)) < 0)
        goto fail;
    hl_store_opts so = {c.dir, c.map_size, !strcmp(c.sync, "commit"), 0, store_log, NULL};
    if (hl_store_open(&so, &store, err, sizeof err) || ensure_epmd(c.listen, err, sizeof err))
        goto fail;
    if (!(loop = hl_loop_new())) {
        snprintf(err, sizeof err, "out of memory");
        goto fail;
    }
    hl_loop_busy_wait(loop, c.busy_wait_us);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    hl_node_opts no = {{c.name, cookie, c.listen, c.port, fresh_creation(), c.ticktime * 1000},
                       c.verbose};
    if (hl_node_start(&node, &no, store, loop, err, sizeof err))
        goto fail;
    /* Only now: a node that failed to start must not tell the NIFs on its
     * directory to stop fsyncing under a running --sync commit node. */
    hl_store_sync_announce(store);
    if (c.exit_with_stdin && hl_loop_add(loop, STDIN_FILENO, POLLIN, on_stdin, NULL)) {
        snprintf(err, sizeof err, "cannot watch standard input");
        goto fail;
    }
    printf("heirloom_node ready name=%s port=%d dir=%s pid=%d\n", c.name, hl_node_port(node), c.dir,
           (int)getpid());
    fflush(stdout);
    if (hl_loop_run(loop, &stop_flag, 1000, hl_node_tick, node)) {
        snprintf(err, sizeof err, "event loop failed: %s", strerror(errno));
        goto fail;
    }
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "heirloom_node: %s\n", err);
out:
    hl_node_stop(node);
    hl_loop_free(loop);
    hl_store_close(store);
    if (dir_lock >= 0)
        close(dir_lock); /* last: the store is closed before another node may open it */
    return rc;
}
