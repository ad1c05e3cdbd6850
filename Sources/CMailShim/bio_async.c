// CMailShim: a filter BIO that writes on a thread of its own. See include/cmailshim_cms.h.
//
// While one core encrypts a large message, base64 and the writes to the queue file (a third
// of the work) run on the other. Two blocks: the caller fills one while the thread writes the
// other, so the output keeps its order and memory stays at two blocks.
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>

#include "cmailshim_cms.h"

typedef struct {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    BIO *next;
    unsigned char *buf[2];
    size_t cap, len[2];
    int filling;   // the block the caller fills
    int handed;    // the block the thread writes, or -1
    int failed;    // a write to next failed: everything after is refused
    int stopping;
    int running;
} async_ctx;

static void *async_main(void *arg) {
    async_ctx *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (c->handed < 0 && !c->stopping)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->handed < 0)
            break;
        int i = c->handed;
        int skip = c->failed;
        pthread_mutex_unlock(&c->mu);
        int ok = skip ? 0 : sm_cms_bio_write_all(c->next, c->buf[i], c->len[i]);
        pthread_mutex_lock(&c->mu);
        if (!ok)
            c->failed = 1;
        c->len[i] = 0;
        c->handed = -1;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

// Waits until the thread is idle; then, when `hand` and the filling block holds something,
// gives it that block. Returns 0 once a write has failed.
static int async_sync(async_ctx *c, int hand) {
    pthread_mutex_lock(&c->mu);
    while (c->handed >= 0)
        pthread_cond_wait(&c->cv, &c->mu);
    int ok = !c->failed;
    if (ok && hand && c->len[c->filling] > 0) {
        c->handed = c->filling;
        c->filling ^= 1;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    return ok;
}

// Everything written so far has reached next.
static int async_drain(async_ctx *c) { return async_sync(c, 1) && async_sync(c, 0); }

static int async_write(BIO *b, const char *data, int len) {
    async_ctx *c = BIO_get_data(b);
    if (c == NULL || !c->running || len < 0)
        return -1;
    const unsigned char *p = (const unsigned char *)data;
    size_t left = (size_t)len;
    while (left > 0) {
        int i = c->filling;  // only this thread changes it
        size_t take = c->cap - c->len[i];
        if (take > left)
            take = left;
        memcpy(c->buf[i] + c->len[i], p, take);
        c->len[i] += take;
        p += take;
        left -= take;
        // After a failure the bytes taken are not counted: -1, and every later call fails.
        if (c->len[i] == c->cap && !async_sync(c, 1))
            return -1;
    }
    return len;
}

static long async_ctrl(BIO *b, int cmd, long num, void *ptr) {
    async_ctx *c = BIO_get_data(b);
    BIO *next = BIO_next(b);
    if (c == NULL || next == NULL)
        return 0;
    // Pushing and popping concern the chain, not the data: passed on at once (freeing this
    // BIO pops it, and drops what was not flushed, as the header says).
    if (cmd == BIO_CTRL_PUSH || cmd == BIO_CTRL_POP)
        return BIO_ctrl(next, cmd, num, ptr);
    // Anything else may concern what was written (and the BIOs below are the thread's while
    // it writes): it reaches next first.
    if (!async_drain(c))
        return cmd == BIO_CTRL_FLUSH ? 0 : BIO_ctrl(next, cmd, num, ptr);
    return BIO_ctrl(next, cmd, num, ptr);
}

static int async_create(BIO *b) {
    async_ctx *c = OPENSSL_zalloc(sizeof(*c));
    if (c == NULL)
        return 0;
    c->handed = -1;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    BIO_set_data(b, c);
    BIO_set_init(b, 1);
    return 1;
}

static int async_destroy(BIO *b) {
    async_ctx *c = BIO_get_data(b);
    if (c == NULL)
        return 1;
    if (c->running) {
        pthread_mutex_lock(&c->mu);
        c->stopping = 1;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        pthread_join(c->thread, NULL);
    }
    OPENSSL_free(c->buf[0]);
    OPENSSL_free(c->buf[1]);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    OPENSSL_free(c);
    BIO_set_data(b, NULL);
    return 1;
}

static BIO_METHOD *async_method_instance;
static CRYPTO_ONCE async_once = CRYPTO_ONCE_STATIC_INIT;

static void async_method_init(void) {
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_FILTER, "sealmail writer thread");
    if (m == NULL)
        return;
    BIO_meth_set_write(m, async_write);
    BIO_meth_set_ctrl(m, async_ctrl);
    BIO_meth_set_create(m, async_create);
    BIO_meth_set_destroy(m, async_destroy);
    async_method_instance = m;
}

BIO *sm_cms_bio_async(BIO *next, int block) {
    if (next == NULL || block <= 0)
        return NULL;
    if (!CRYPTO_THREAD_run_once(&async_once, async_method_init) || async_method_instance == NULL)
        return NULL;
    BIO *b = BIO_new(async_method_instance);
    if (b == NULL)
        return NULL;
    async_ctx *c = BIO_get_data(b);
    c->cap = (size_t)block;
    c->buf[0] = OPENSSL_malloc(c->cap);
    c->buf[1] = OPENSSL_malloc(c->cap);
    c->next = next;
    if (c->buf[0] == NULL || c->buf[1] == NULL) {
        BIO_free(b);
        return NULL;
    }
    // Signals stay with the caller's threads (sendmail's handlers remove a half-written
    // queue file): the new thread starts with every signal blocked.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int e = pthread_create(&c->thread, NULL, async_main, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e != 0) {
        BIO_free(b);
        return NULL;
    }
    c->running = 1;
    return BIO_push(b, next);
}
