// CMailShim, file part. See include/cmailshim_file.h for the contract of each function.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>

#include "cmailshim_file.h"

int sm_file_start_writeback(int fd, long long offset, long long length) {
    return sync_file_range(fd, (off64_t)offset, (off64_t)length, SYNC_FILE_RANGE_WRITE);
}

int sm_file_rename_noreplace(int olddirfd, const char *oldname, int newdirfd, const char *newname) {
    return renameat2(olddirfd, oldname, newdirfd, newname, RENAME_NOREPLACE);
}

typedef struct {
    int fd;
    long long step;
    long long offset;   // where the next write lands (the fd's offset when the BIO was made)
    long long started;  // writeback was started for everything before this offset
    int error;          // errno of the first write that failed, 0 while none has
} fdsink_ctx;

static int fdsink_write(BIO *b, const char *data, int len) {
    fdsink_ctx *c = BIO_get_data(b);
    if (c == NULL || len < 0)
        return -1;
    int done = 0;
    while (done < len) {
        ssize_t n = write(c->fd, data + done, (size_t)(len - done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (c->error == 0)
                c->error = errno;
            return done > 0 ? done : -1;
        }
        done += (int)n;
    }
    c->offset += done;
    if (c->step > 0 && c->offset - c->started >= c->step) {
        (void)sm_file_start_writeback(c->fd, c->started, c->offset - c->started);
        c->started = c->offset;
    }
    return done;
}

static long fdsink_ctrl(BIO *b, int cmd, long num, void *ptr) {
    (void)b; (void)num; (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_PENDING:
    case BIO_CTRL_WPENDING:
        return 0;
    default:
        return 0;
    }
}

static int fdsink_destroy(BIO *b) {
    OPENSSL_free(BIO_get_data(b));
    BIO_set_data(b, NULL);
    return 1;
}

static BIO_METHOD *fdsink_method_instance;
static int fdsink_type;
static CRYPTO_ONCE fdsink_once = CRYPTO_ONCE_STATIC_INIT;

static void fdsink_method_init(void) {
    fdsink_type = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK;
    BIO_METHOD *m = BIO_meth_new(fdsink_type, "sealmail fd sink");
    if (m == NULL)
        return;
    BIO_meth_set_write(m, fdsink_write);
    BIO_meth_set_ctrl(m, fdsink_ctrl);
    BIO_meth_set_destroy(m, fdsink_destroy);
    fdsink_method_instance = m;
}

BIO *sm_bio_fd_sink(int fd, long long writeback_step) {
    if (!CRYPTO_THREAD_run_once(&fdsink_once, fdsink_method_init) || fdsink_method_instance == NULL)
        return NULL;
    fdsink_ctx *c = OPENSSL_zalloc(sizeof(*c));
    if (c == NULL)
        return NULL;
    BIO *b = BIO_new(fdsink_method_instance);
    if (b == NULL) {
        OPENSSL_free(c);
        return NULL;
    }
    off_t at = lseek(fd, 0, SEEK_CUR);
    c->fd = fd;
    c->step = writeback_step;
    c->offset = at < 0 ? 0 : (long long)at;
    c->started = c->offset;
    BIO_set_data(b, c);
    BIO_set_init(b, 1);
    return b;
}

int sm_bio_fd_sink_error(BIO *chain) {
    for (BIO *b = chain; b != NULL; b = BIO_next(b)) {
        if (fdsink_method_instance != NULL && BIO_method_type(b) == fdsink_type) {
            fdsink_ctx *c = BIO_get_data(b);
            return c == NULL ? 0 : c->error;
        }
    }
    return 0;
}
