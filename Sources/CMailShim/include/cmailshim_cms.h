// CMailShim, S/MIME part: the OpenSSL macros, stacks and BIO plumbing that Swift cannot call
// directly. Every function here is narrow: it owns nothing it returns (the caller frees what a
// function documents as "new"), decides no policy, prints nothing and creates no file.
// Functions return 1 on success and 0 on failure unless documented otherwise; on failure the
// reason is on OpenSSL's error queue.
#ifndef CMAILSHIM_CMS_H
#define CMAILSHIM_CMS_H
#include <stddef.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

// ---- BIOs -------------------------------------------------------------------------------------

/// New output chain: a write buffer of `bufsize` bytes over `fd` (the fd is not closed by the
/// BIO), starting writeback every `writeback_step` bytes when > 0 (see sm_bio_fd_sink). Free
/// with BIO_free_all. NULL on failure.
BIO *sm_cms_bio_fd_out(int fd, int bufsize, long long writeback_step);

/// New filter BIO that base64-encodes what is written to it into lines of 76 characters, each
/// ended by CRLF (RFC 2045 6.8, RFC 5322 2.1.1), writing them to `next` (pushed below it).
/// BIO_flush passes complete lines on and flushes `next`; only sm_cms_b64crlf_finish encodes the
/// final partial group. Pop it (BIO_pop) before freeing it with BIO_free.
BIO *sm_cms_bio_b64crlf(BIO *next);

/// New filter BIO that passes what is written to it on to `next` (pushed below it) from a
/// thread of its own, in blocks of `block` octets (two are allocated): the caller's thread
/// goes on (encrypting, say) while this one writes. Order is kept. BIO_flush, and every other
/// BIO_ctrl but BIO_CTRL_PUSH and BIO_CTRL_POP, first waits until everything written has
/// reached `next`; a failed write to `next` makes later writes and flushes fail. Flush before
/// freeing (pop it first, BIO_pop, then BIO_free): freeing stops the thread and drops what was
/// not flushed.
/// The thread has every signal blocked. NULL on failure.
BIO *sm_cms_bio_async(BIO *next, int block);

/// Encodes the remaining input (with '=' padding), ends the last line with CRLF and flushes.
/// Further writes are refused. Returns 1 on success.
int sm_cms_b64crlf_finish(BIO *b64);

/// BIO_flush (a macro). Returns 1 on success.
int sm_cms_bio_flush(BIO *b);

/// Writes all `len` bytes to `b`, looping over short writes. Returns 1 on success.
int sm_cms_bio_write_all(BIO *b, const void *data, size_t len);

/// Pops and frees every BIO of the chain from `top` down to, not including, `stop` (what
/// CMS_dataInit / BIO_new_CMS pushed on top of the caller's BIO).
void sm_cms_bio_free_until(BIO *top, BIO *stop);

/// Bytes held by a memory BIO; *data points into the BIO (valid until it is written or freed).
long sm_cms_bio_mem_data(BIO *mem, const unsigned char **data);

// ---- Stacks -----------------------------------------------------------------------------------

/// New empty STACK_OF(X509). Free with sm_cms_x509_stack_free.
STACK_OF(X509) *sm_cms_x509_stack_new(void);
/// Pushes `x` (taking a new reference). Returns 1 on success.
int sm_cms_x509_stack_push(STACK_OF(X509) *sk, X509 *x);
/// Number of certificates (0 for NULL).
int sm_cms_x509_stack_count(const STACK_OF(X509) *sk);
/// The certificate at `i`, borrowed (no reference taken).
X509 *sm_cms_x509_stack_get(const STACK_OF(X509) *sk, int i);
/// Frees the stack and drops one reference on each certificate.
void sm_cms_x509_stack_free(STACK_OF(X509) *sk);
/// Frees the stack only (certificates borrowed, as from CMS_get0_signers).
void sm_cms_x509_stack_free_shallow(STACK_OF(X509) *sk);

/// The e-mail addresses of `x` (subjectAltName rfc822Name, then subject emailAddress), as one
/// newly allocated string of NUL-free addresses separated by '\n'; free with sm_cms_free.
/// NULL when there are none or on failure.
char *sm_cms_x509_emails(X509 *x);
/// OPENSSL_free (a macro).
void sm_cms_free(void *p);

// ---- Signing (RFC 5652 5, RFC 8551 2.5) --------------------------------------------------------

/// Adds an SMIMECapabilities attribute (RFC 8551 2.5.2) listing `nids` in order, without
/// parameters. Use with CMS_NOSMIMECAP so OpenSSL does not add its default list.
int sm_cms_add_smimecaps(CMS_SignerInfo *si, const int *nids, size_t count);

/// Adds an SMIMEEncryptionKeyPreference attribute (RFC 8551 2.5.3) naming `enc_cert` by
/// issuerAndSerialNumber ([0] IMPLICIT).
int sm_cms_add_encryption_key_preference(CMS_SignerInfo *si, X509 *enc_cert);

/// Switches an RSA signer to RSASSA-PSS (RFC 4056) with MGF1 over the signing digest and a salt
/// as long as the digest. The signer must have been added with CMS_KEY_PARAM.
int sm_cms_signer_use_pss(CMS_SignerInfo *si);

// ---- Enveloping (RFC 5652 6, RFC 5083, RFC 3560, RFC 5753) -------------------------------------

/// Configures a key-transport recipient for RSAES-OAEP with SHA-256 and MGF1-SHA-256 (RFC 3560).
/// The recipient must have been added with CMS_KEY_PARAM.
int sm_cms_recipient_use_oaep(CMS_RecipientInfo *ri);

/// Configures a key-agreement recipient for ECDH with the SHA-256 X9.63 KDF and the AES key
/// wrap of `wrap_bits` (128 or 256) (RFC 5753 3.1, RFC 8551 2.3). Added with CMS_KEY_PARAM.
int sm_cms_recipient_use_ecdh(CMS_RecipientInfo *ri, int wrap_bits);

/// The tag length of the AEAD cipher of the first cipher BIO in `chain` (what CMS_dataInit
/// returns for AuthEnvelopedData, RFC 5083): the size of the `mac` that CMS_dataFinal sets.
/// 0 when there is no cipher BIO or its cipher is not an AEAD.
int sm_cms_aead_tag_length(BIO *chain);

// ---- Reading signed data ----------------------------------------------------------------------

/// The signing time attribute of signer `index` as seconds since the epoch in *out.
/// Returns 1 when present and parsed, 0 otherwise.
int sm_cms_signer_signing_time(CMS_ContentInfo *cms, int index, long long *out);

/// The NID of the digest algorithm of signer `index`, or NID_undef.
int sm_cms_signer_digest_nid(CMS_ContentInfo *cms, int index);

/// Number of SignerInfos (0 when not signed data).
int sm_cms_signer_count(CMS_ContentInfo *cms);

/// Time fields of a certificate as seconds since the epoch. Returns 1 on success.
int sm_cms_x509_validity(const X509 *x, long long *not_before, long long *not_after);

/// X509_STORE_CTX for chain validation of `leaf`, with `untrusted` intermediates, the check
/// time `at` (seconds since the epoch) and `flags` (X509_V_FLAG_*) on its parameters.
/// Returns the X509_V_* result (X509_V_OK is 0) and the failing depth in *depth.
int sm_cms_verify_chain(X509_STORE *store, X509 *leaf, STACK_OF(X509) *untrusted,
                        long long at, unsigned long flags, int *depth);

/// Prints `name` on one line ("O = Test Lab, CN = alice"), UTF-8. Returns 1 on success.
int sm_cms_name_print(BIO *out, const X509_NAME *name);

/// Sets the verification time and flags on a store used by CMS_verify, and the purpose
/// S/MIME signing. Returns 1 on success.
int sm_cms_store_set_time(X509_STORE *store, long long at, unsigned long flags);

#endif
