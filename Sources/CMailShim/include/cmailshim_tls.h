// TLS client and the few digests SASL needs, over OpenSSL 3 (RFC 8446/5246 via libssl, RFC 2104
// HMAC, RFC 8018 PBKDF2). Narrow and policy-free: callers decide what to verify and what a
// failure means; every object returned here is owned and freed by a Swift class.
#ifndef CMAILSHIM_TLS_H
#define CMAILSHIM_TLS_H
#include <stddef.h>

typedef struct ssl_ctx_st sm_tls_ctx;
typedef struct ssl_st sm_tls_conn;

/// Result codes of sm_tls_handshake / sm_tls_read / sm_tls_write.
enum {
    SM_TLS_OK = 1,
    SM_TLS_CLOSED = 0,        // the peer closed the TLS session (close_notify or EOF)
    SM_TLS_WANT_READ = -2,    // poll for reading, then call again
    SM_TLS_WANT_WRITE = -3,   // poll for writing, then call again
    SM_TLS_ERROR = -1         // failure: sm_tls_error_text explains
};

/// A client context: TLS 1.2 minimum; peer verification on when `verify` is non-zero.
/// Returns NULL on failure.
sm_tls_ctx *sm_tls_ctx_new(int verify);
/// Trust the CAs in `ca_file` (PEM), or the system store when `ca_file` is NULL. 1 on success.
int sm_tls_ctx_load_trust(sm_tls_ctx *ctx, const char *ca_file);
/// Use a client certificate (PEM chain file) and its private key (PEM). 1 on success.
int sm_tls_ctx_use_client_cert(sm_tls_ctx *ctx, const char *cert_file, const char *key_file);
/// Frees a context (NULL is fine).
void sm_tls_ctx_free(sm_tls_ctx *ctx);

/// A connection on socket `fd`. `server_name` goes into SNI unless it is an IP literal;
/// `verify_name` (host name or IP literal, or NULL) is checked against the certificate.
/// Returns NULL on failure.
sm_tls_conn *sm_tls_conn_new(sm_tls_ctx *ctx, int fd, const char *server_name, const char *verify_name);
/// Frees a connection (NULL is fine); does not close the socket.
void sm_tls_conn_free(sm_tls_conn *conn);
/// One step of the client handshake: SM_TLS_OK, SM_TLS_WANT_*, or SM_TLS_ERROR.
int sm_tls_handshake(sm_tls_conn *conn);
/// Reads up to `len` bytes into `buf`: > 0 bytes read, or an SM_TLS_* code (never SM_TLS_OK).
long sm_tls_read(sm_tls_conn *conn, void *buf, size_t len);
/// Writes up to `len` bytes: > 0 bytes written, or an SM_TLS_* code.
long sm_tls_write(sm_tls_conn *conn, const void *buf, size_t len);
/// Bytes decrypted and buffered inside OpenSSL, readable without touching the socket.
int sm_tls_pending(sm_tls_conn *conn);
/// Sends close_notify (one attempt, non-blocking sockets may not finish it).
void sm_tls_shutdown(sm_tls_conn *conn);
/// The X509_V_* result of chain/host verification (0 = X509_V_OK).
long sm_tls_verify_result(sm_tls_conn *conn);
/// Text for an X509_V_* code (static storage).
const char *sm_tls_verify_text(long code);
/// The negotiated protocol ("TLSv1.3") and cipher names (static storage); "" before a handshake.
const char *sm_tls_protocol(sm_tls_conn *conn);
const char *sm_tls_cipher(sm_tls_conn *conn);
/// SHA-256 over the peer certificate's DER into out[32]. 1 on success, 0 without a certificate.
int sm_tls_peer_sha256(sm_tls_conn *conn, unsigned char out[32]);
/// Drains OpenSSL's error queue into `buf` as "; "-joined texts. Returns the length written.
size_t sm_tls_error_text(char *buf, size_t len);

/// HMAC with the digest named `digest` ("MD5", "SHA256"). Writes at most 64 bytes to `out`
/// and the length to `out_len`. 1 on success.
int sm_tls_hmac(const char *digest, const void *key, size_t key_len, const void *data, size_t data_len,
                unsigned char *out, unsigned int *out_len);
/// SHA-256 of `data` into out[32]. 1 on success.
int sm_tls_sha256(const void *data, size_t len, unsigned char out[32]);
/// PBKDF2-HMAC-SHA256 (RFC 8018 5.2) into out[out_len]. 1 on success.
int sm_tls_pbkdf2_sha256(const void *password, size_t password_len, const void *salt, size_t salt_len,
                         int iterations, unsigned char *out, size_t out_len);
/// Cryptographically random bytes. 1 on success.
int sm_tls_random(unsigned char *out, size_t len);
#endif
