// TLS client and digests over OpenSSL 3; see cmailshim_tls.h. No policy, no printing.
#include "cmailshim_tls.h"
#include <string.h>
#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

sm_tls_ctx *sm_tls_ctx_new(int verify) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) return NULL;
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return ctx;
}

int sm_tls_ctx_load_trust(sm_tls_ctx *ctx, const char *ca_file) {
    if (ca_file != NULL) return SSL_CTX_load_verify_locations(ctx, ca_file, NULL) == 1;
    return SSL_CTX_set_default_verify_paths(ctx) == 1;
}

int sm_tls_ctx_use_client_cert(sm_tls_ctx *ctx, const char *cert_file, const char *key_file) {
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) return 0;
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) return 0;
    return SSL_CTX_check_private_key(ctx) == 1;
}

void sm_tls_ctx_free(sm_tls_ctx *ctx) { SSL_CTX_free(ctx); }

static int is_ip_literal(const char *name) {
    unsigned char buf[16];
    return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

sm_tls_conn *sm_tls_conn_new(sm_tls_ctx *ctx, int fd, const char *server_name, const char *verify_name) {
    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL) return NULL;
    if (SSL_set_fd(ssl, fd) != 1) goto fail;
    if (server_name != NULL && !is_ip_literal(server_name)) {
        if (SSL_set_tlsext_host_name(ssl, server_name) != 1) goto fail;
    }
    if (verify_name != NULL) {
        if (is_ip_literal(verify_name)) {
            X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
            if (X509_VERIFY_PARAM_set1_ip_asc(param, verify_name) != 1) goto fail;
        } else {
            SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            if (SSL_set1_host(ssl, verify_name) != 1) goto fail;
        }
    }
    SSL_set_connect_state(ssl);
    return ssl;
fail:
    SSL_free(ssl);
    return NULL;
}

void sm_tls_conn_free(sm_tls_conn *conn) { SSL_free(conn); }

static int map_result(SSL *ssl, int ret) {
    switch (SSL_get_error(ssl, ret)) {
    case SSL_ERROR_WANT_READ: return SM_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE: return SM_TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN: return SM_TLS_CLOSED;
    case SSL_ERROR_SYSCALL:
        // EOF without close_notify is reported as a syscall error with an empty queue.
        if (ERR_peek_error() == 0) return SM_TLS_CLOSED;
        return SM_TLS_ERROR;
    default: return SM_TLS_ERROR;
    }
}

int sm_tls_handshake(sm_tls_conn *conn) {
    ERR_clear_error();
    int ret = SSL_do_handshake(conn);
    if (ret == 1) return SM_TLS_OK;
    int mapped = map_result(conn, ret);
    return mapped == SM_TLS_CLOSED ? SM_TLS_ERROR : mapped;
}

long sm_tls_read(sm_tls_conn *conn, void *buf, size_t len) {
    ERR_clear_error();
    size_t got = 0;
    int ret = SSL_read_ex(conn, buf, len, &got);
    if (ret == 1) return (long)got;
    return map_result(conn, ret);
}

long sm_tls_write(sm_tls_conn *conn, const void *buf, size_t len) {
    ERR_clear_error();
    size_t done = 0;
    int ret = SSL_write_ex(conn, buf, len, &done);
    if (ret == 1) return (long)done;
    int mapped = map_result(conn, ret);
    return mapped == SM_TLS_CLOSED ? SM_TLS_ERROR : mapped;
}

int sm_tls_pending(sm_tls_conn *conn) { return SSL_pending(conn); }

void sm_tls_shutdown(sm_tls_conn *conn) {
    ERR_clear_error();
    (void)SSL_shutdown(conn);
    ERR_clear_error();
}

long sm_tls_verify_result(sm_tls_conn *conn) { return SSL_get_verify_result(conn); }

const char *sm_tls_verify_text(long code) { return X509_verify_cert_error_string(code); }

const char *sm_tls_protocol(sm_tls_conn *conn) {
    const char *v = SSL_get_version(conn);
    return v ? v : "";
}

const char *sm_tls_cipher(sm_tls_conn *conn) {
    const char *c = SSL_get_cipher_name(conn);
    return c ? c : "";
}

int sm_tls_peer_sha256(sm_tls_conn *conn, unsigned char out[32]) {
    X509 *cert = SSL_get1_peer_certificate(conn);
    if (cert == NULL) return 0;
    unsigned int len = 0;
    int ok = X509_digest(cert, EVP_sha256(), out, &len) == 1 && len == 32;
    X509_free(cert);
    return ok;
}

size_t sm_tls_error_text(char *buf, size_t len) {
    size_t used = 0;
    if (len == 0) return 0;
    buf[0] = '\0';
    unsigned long code;
    while ((code = ERR_get_error()) != 0) {
        char one[256];
        ERR_error_string_n(code, one, sizeof one);
        size_t need = strlen(one) + (used ? 2 : 0);
        if (used + need + 1 > len) continue;  // keep draining, drop what does not fit
        if (used) { memcpy(buf + used, "; ", 2); used += 2; }
        memcpy(buf + used, one, strlen(one));
        used += strlen(one);
        buf[used] = '\0';
    }
    return used;
}

int sm_tls_hmac(const char *digest, const void *key, size_t key_len, const void *data, size_t data_len,
                unsigned char *out, unsigned int *out_len) {
    const EVP_MD *md = EVP_get_digestbyname(digest);
    if (md == NULL) return 0;
    return HMAC(md, key, (int)key_len, data, data_len, out, out_len) != NULL;
}

int sm_tls_sha256(const void *data, size_t len, unsigned char out[32]) {
    unsigned int out_len = 0;
    return EVP_Digest(data, len, out, &out_len, EVP_sha256(), NULL) == 1 && out_len == 32;
}

int sm_tls_pbkdf2_sha256(const void *password, size_t password_len, const void *salt, size_t salt_len,
                         int iterations, unsigned char *out, size_t out_len) {
    return PKCS5_PBKDF2_HMAC(password, (int)password_len, salt, (int)salt_len, iterations,
                             EVP_sha256(), (int)out_len, out) == 1;
}

int sm_tls_random(unsigned char *out, size_t len) { return RAND_bytes(out, (int)len) == 1; }
