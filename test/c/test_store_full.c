/*
 * test_store_full.c: a full filesystem is HL_EFULL, never a SIGBUS. Each
 * test mounts a small tmpfs (we are root in CI; a refused mount skips the
 * test with mount's reason), fills it from outside, and runs the store in a
 * child so that a signal shows as the child's death.
 */
#include "store_fixture.h"

/* --- a full filesystem (issue 10, item 5) --------------------------------
 *
 * A tmpfs of 8 MiB, mounted for the test (we run as root; without the right
 * to mount, the tests are skipped and say so). Another process fills it
 * after the store opened: a plain file, or a second store. The store under
 * test runs in a child, so that a SIGBUS would show as the child's death;
 * its writes must answer HL_EFULL, its reads go on, and it writes again once
 * room is freed. The C node's settings (MDB_WRITEMAP: multi_thread 0,
 * sync 0), the NIF's (multi_thread 1, MDB_WRITEMAP too, writes tried first
 * without waiting) and a --sync commit C node's (no MDB_WRITEMAP) are
 * tried. */
typedef struct {
    char mnt[64];
    char dir[96];
    int err; /* mount's errno: the test skips */
} small_fs;

static int mount_small_fs(small_fs *fs)
{
    strcpy(fs->mnt, "/tmp/hl_full_XXXXXX");
    if (!mkdtemp(fs->mnt))
        return errno;
    if (mount("tmpfs", fs->mnt, "tmpfs", 0, "size=8m,mode=0700")) {
        int e = errno;
        rmdir(fs->mnt);
        return e;
    }
    snprintf(fs->dir, sizeof fs->dir, "%s/store", fs->mnt);
    return 0;
}

/* Setup and teardown: the filesystem is unmounted even when a test fails. */
static int fs_setup(void **state)
{
    small_fs *fs = calloc(1, sizeof *fs);
    if (!fs)
        return -1;
    fs->err = mount_small_fs(fs);
    *state = fs;
    return 0;
}

static int fs_teardown(void **state)
{
    small_fs *fs = *state;
    if (!fs->err) {
        nftw(fs->mnt, rm_entry, 8, FTW_DEPTH | FTW_PHYS); /* the files only */
        umount2(fs->mnt, MNT_DETACH);
        rmdir(fs->mnt);
    }
    free(fs);
    return 0;
}

static void skip_unless_mounted(small_fs *fs)
{
    if (fs->err) {
        print_message("mount tmpfs refused (%s): needs root; skipped\n", strerror(fs->err));
        skip();
    }
}

/* Fill the filesystem with a plain file until write says ENOSPC. */
static int fill_with_file(const char *mnt, char *path, size_t len)
{
    static char chunk[16 << 10];
    snprintf(path, len, "%s/filler", mnt);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    while (write(fd, chunk, sizeof chunk) > 0)
        ;
    int e = errno;
    close(fd);
    return e == ENOSPC ? 0 : -1;
}

/* {I, <<256 KiB>>} */
static int big_row(hl_buf *b, int64_t i)
{
    static unsigned char fill[256 << 10];
    b->len = 0;
    return hl_term_put_tuple_header(b, 2) || hl_term_put_int(b, i) ||
           hl_term_put_binary(b, fill, sizeof fill);
}

/* Insert big rows from `from` until the store refuses: the code, or -100
 * when 400 rows (100 MiB, more than the filesystem) all went in. */
/* Set in a child that stands for the NIF: each write goes first as on a
 * normal scheduler (hl_store_no_wait), and is redone allowed to wait when
 * that answers HL_EWOULDBLOCK (a map to grow, say), as heirloom does. */
static int nif_like;

static int insert_one(hl_store *s, hl_bytes tab, hl_bytes o)
{
    int rc = HL_EWOULDBLOCK;
    if (nif_like) {
        hl_store_no_wait(1);
        rc = hl_store_insert(s, tab, cnode, &o, 1, 0, NULL);
        hl_store_no_wait(0);
    }
    return rc == HL_EWOULDBLOCK ? hl_store_insert(s, tab, cnode, &o, 1, 0, NULL) : rc;
}

static int insert_until_refused(hl_store *s, hl_bytes tab, int from, int *n)
{
    hl_buf b = {0};
    int rc = HL_OK;
    for (*n = 0; *n < 400 && rc == HL_OK; (*n)++) {
        if (big_row(&b, from + *n)) {
            rc = HL_ENOMEM;
            break;
        }
        rc = insert_one(s, tab, hl_buf_view(&b));
    }
    hl_buf_free(&b);
    return rc == HL_OK ? -100 : rc;
}

/* A byte from the parent; gives up after 30 s so that a child never
 * outlives a test that failed in the parent. */
static int read_byte(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    char c;
    return poll(&p, 1, 30000) == 1 && read(fd, &c, 1) == 1 ? 0 : -1;
}

/* Room to free later: a plain file of 1 MiB. */
static int ballast(const char *mnt, char *path, size_t len)
{
    static char chunk[64 << 10];
    snprintf(path, len, "%s/ballast", mnt);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600), ok = fd >= 0;
    for (int i = 0; i < 16 && ok; i++)
        ok = write(fd, chunk, sizeof chunk) == (ssize_t)sizeof chunk;
    if (fd >= 0)
        close(fd);
    return ok ? 0 : -1;
}

/* The store under test, in a child: 0 when everything held, else the step
 * that failed. go/ready are pipes to and from the parent. mt: the NIF's
 * settings (writes tried without waiting first); sync: no MDB_WRITEMAP. */
static int full_store_side(const char *dir, size_t cap, int mt, int sync, int go, int ready)
{
    hl_store *s = NULL;
    hl_store_opts o = {dir, cap, sync, mt, NULL, NULL};
    nif_like = mt;
    hl_buf tab = {0}, k = {0}, b = {0};
    int n = 0, found = 0, rc;
    hl_meta m = meta_of(HL_PUBLIC, 1, cnode);
    if (hl_store_open(&o, &s, NULL, 0) || hl_term_put_atom(&tab, "t", 1) || hl_term_put_int(&k, 0))
        return 2;
    if (hl_store_create(s, hl_buf_view(&tab), &m) || big_row(&b, 0))
        return 3;
    hl_bytes o0 = hl_buf_view(&b);
    if (hl_store_insert(s, hl_buf_view(&tab), cnode, &o0, 1, 0, NULL))
        return 4;
    if (write(ready, "r", 1) != 1 || read_byte(go)) /* the parent fills */
        return 5;
    rc = insert_until_refused(s, hl_buf_view(&tab), 1, &n);
    if (rc != HL_EFULL) {
        fprintf(stderr, "  full store: insert %d answered %d, not full\n", n, rc);
        return 6;
    }
    if (hl_store_member(s, hl_buf_view(&tab), cnode, hl_buf_view(&k), &found) || !found)
        return 7;
    if (hl_store_delete_key(s, hl_buf_view(&tab), cnode, hl_buf_view(&k)) != HL_OK)
        return 8; /* a delete needs no new page once the freelist has room */
    if (write(ready, "f", 1) != 1 || read_byte(go)) /* the parent frees room */
        return 9;
    /* Room again. A store with a cap (the C node's --map-size) that another
     * process grew past it uses what is reserved but does not grow the file
     * itself: still full, and still no signal. */
    if (insert_one(s, hl_buf_view(&tab), o0) != (cap ? HL_EFULL : HL_OK))
        return 10;
    hl_buf_free(&tab);
    hl_buf_free(&k);
    hl_buf_free(&b);
    hl_store_close(s);
    return 0;
}

static void wait_normal_exit(pid_t child, const char *who)
{
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    if (WIFSIGNALED(status))
        fail_msg("%s died of signal %d", who, WTERMSIG(status));
    if (WEXITSTATUS(status))
        fail_msg("%s failed at step %d", who, WEXITSTATUS(status));
}

static void full_by_file(small_fs *fs, int mt, int sync)
{
    char filler[160];
    int go[2], ready[2];
    char c;
    skip_unless_mounted(fs);
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(ready), 0);
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(full_store_side(fs->dir, 0, mt, sync, go[0], ready[1]));
    close(ready[1]);
    if (read(ready[0], &c, 1) == 1) {
        assert_int_equal(fill_with_file(fs->mnt, filler, sizeof filler), 0);
        assert_int_equal(write(go[1], "g", 1), 1);
        if (read(ready[0], &c, 1) == 1) { /* full, as it should be: free room */
            assert_int_equal(unlink(filler), 0);
            assert_int_equal(write(go[1], "g", 1), 1);
        }
    }
    wait_normal_exit(child, "store");
    close(go[0]);
    close(go[1]);
    close(ready[0]);
}

static void test_store_full_fs_writemap(void **state)
{
    full_by_file(*state, 0, 0);
}

/* The NIF's settings: multi-threaded, MDB_WRITEMAP too, writes tried first
 * without waiting. */
static void test_store_full_fs_multi_thread(void **state)
{
    full_by_file(*state, 1, 0);
}

/* A --sync commit C node: no MDB_WRITEMAP. */
static void test_store_full_fs_sync(void **state)
{
    full_by_file(*state, 0, 1);
}

/* A second store (the NIF: multi_thread, MDB_WRITEMAP, no cap) fills the
 * filesystem, far past the first store's map and its cap (the C node's
 * --map-size, 2 MiB); the first (the C node, with MDB_WRITEMAP or, sync,
 * without) then reads on (adopting the grown file) and its writes say full.
 * Once some room is freed, the first writes again. */
static void full_by_other_store(small_fs *fs, int first_sync)
{
    char spare[160];
    int go[2], ready[2];
    char c;
    skip_unless_mounted(fs);
    assert_int_equal(ballast(fs->mnt, spare, sizeof spare), 0);
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(ready), 0);
    fflush(NULL);
    pid_t first = fork();
    assert_true(first >= 0);
    if (first == 0)
        _exit(full_store_side(fs->dir, (size_t)2 << 20, 0, first_sync, go[0], ready[1]));
    close(ready[1]);
    assert_int_equal(read(ready[0], &c, 1), 1);
    pid_t other = fork();
    assert_true(other >= 0);
    if (other == 0) {
        hl_store *s = NULL;
        hl_store_opts o = {fs->dir, 0, 0, 1, NULL, NULL};
        hl_buf tab = {0};
        int n = 0;
        nif_like = 1;
        if (hl_store_open(&o, &s, NULL, 0) || hl_term_put_atom(&tab, "u", 1))
            _exit(2);
        hl_meta m = meta_of(HL_PUBLIC, 1, cnode);
        if (hl_store_create(s, hl_buf_view(&tab), &m))
            _exit(3);
        int rc = insert_until_refused(s, hl_buf_view(&tab), 1000, &n);
        fprintf(stderr, "  other store: %d rows, then %d\n", n - 1, rc);
        hl_store_close(s);
        hl_buf_free(&tab);
        _exit(rc == HL_EFULL && n > 4 ? 0 : 4);
    }
    wait_normal_exit(other, "other store");
    assert_int_equal(write(go[1], "g", 1), 1);
    if (read(ready[0], &c, 1) == 1) {
        assert_int_equal(unlink(spare), 0); /* free some room */
        assert_int_equal(write(go[1], "g", 1), 1);
    }
    wait_normal_exit(first, "first store");
    close(go[0]);
    close(go[1]);
    close(ready[0]);
}

static void test_store_full_fs_by_other_store(void **state)
{
    full_by_other_store(*state, 0);
}

/* The same with the first store without MDB_WRITEMAP: processes with and
 * without it share the file. */
static void test_store_full_fs_by_other_store_sync(void **state)
{
    full_by_other_store(*state, 1);
}

int main(void)
{
    if (getenv("HL_TEST_FILTER"))
        cmocka_set_test_filter(getenv("HL_TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_store_full_fs_writemap, fs_setup, fs_teardown),
        cmocka_unit_test_setup_teardown(test_store_full_fs_multi_thread, fs_setup, fs_teardown),
        cmocka_unit_test_setup_teardown(test_store_full_fs_sync, fs_setup, fs_teardown),
        cmocka_unit_test_setup_teardown(test_store_full_fs_by_other_store, fs_setup, fs_teardown),
        cmocka_unit_test_setup_teardown(test_store_full_fs_by_other_store_sync, fs_setup,
                                        fs_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
