// CMailShim, S/MIME part. See include/cmailshim_cms.h for the contract of each function.
#include <limits.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cmailshim_cms.h"
#include "cmailshim_file.h"

// ---- BIOs -------------------------------------------------------------------------------------

BIO *sm_cms_bio_fd_out(int fd, int bufsize, long long writeback_step) {
    BIO *fdb = sm_bio_fd_sink(fd, writeback_step);
    BIO *buf = BIO_new(BIO_f_buffer());
    if (fdb == NULL || buf == NULL || BIO_set_write_buffer_size(buf, bufsize) <= 0) {
        BIO_free(fdb);
        BIO_free(buf);
        return NULL;
    }
    return BIO_push(buf, fdb);
}

enum { B64_IN_LINE = 57, B64_OUT_LINE = 78, B64_LINES = 128 };

typedef struct {
    unsigned char in[B64_IN_LINE];
    int in_len;
    unsigned char out[B64_OUT_LINE * B64_LINES + 1];
    int out_len;
    int finished;
} b64crlf_ctx;

static int b64crlf_drain(BIO *b, b64crlf_ctx *c) {
    if (c->out_len > 0) {
        if (!sm_cms_bio_write_all(BIO_next(b), c->out, (size_t)c->out_len))
            return 0;
        c->out_len = 0;
    }
    return 1;
}

static int b64crlf_emit_line(BIO *b, b64crlf_ctx *c, const unsigned char *src, int n) {
    if (c->out_len + B64_OUT_LINE > B64_OUT_LINE * B64_LINES && !b64crlf_drain(b, c))
        return 0;
    int w = EVP_EncodeBlock(c->out + c->out_len, src, n);
    c->out_len += w;
    c->out[c->out_len++] = '\r';
    c->out[c->out_len++] = '\n';
    return 1;
}

static int b64crlf_write(BIO *b, const char *data, int len) {
    b64crlf_ctx *c = BIO_get_data(b);
    const unsigned char *p = (const unsigned char *)data;
    int left = len;
    if (c == NULL || c->finished || BIO_next(b) == NULL || len < 0)
        return -1;
    if (c->in_len > 0) {
        int take = B64_IN_LINE - c->in_len;
        if (take > left)
            take = left;
        memcpy(c->in + c->in_len, p, (size_t)take);
        c->in_len += take;
        p += take;
        left -= take;
        if (c->in_len < B64_IN_LINE)
            return len;
        if (!b64crlf_emit_line(b, c, c->in, B64_IN_LINE))
            return -1;
        c->in_len = 0;
    }
    while (left >= B64_IN_LINE) {
        if (!b64crlf_emit_line(b, c, p, B64_IN_LINE))
            return -1;
        p += B64_IN_LINE;
        left -= B64_IN_LINE;
    }
    memcpy(c->in, p, (size_t)left);
    c->in_len = left;
    return len;
}

static long b64crlf_ctrl(BIO *b, int cmd, long num, void *ptr) {
    b64crlf_ctx *c = BIO_get_data(b);
    BIO *next = BIO_next(b);
    if (cmd == BIO_CTRL_FLUSH) {
        if (c == NULL || next == NULL || !b64crlf_drain(b, c))
            return 0;
        return BIO_ctrl(next, cmd, num, ptr);
    }
    if (cmd == BIO_CTRL_WPENDING && c != NULL)
        return c->out_len + c->in_len + (next ? BIO_ctrl(next, cmd, num, ptr) : 0);
    return next ? BIO_ctrl(next, cmd, num, ptr) : 0;
}

static int b64crlf_create(BIO *b) {
    b64crlf_ctx *c = OPENSSL_zalloc(sizeof(*c));
    if (c == NULL)
        return 0;
    BIO_set_data(b, c);
    BIO_set_init(b, 1);
    return 1;
}

static int b64crlf_destroy(BIO *b) {
    OPENSSL_clear_free(BIO_get_data(b), sizeof(b64crlf_ctx));
    BIO_set_data(b, NULL);
    return 1;
}

static BIO_METHOD *b64crlf_method_instance;
static int b64crlf_type;
static CRYPTO_ONCE b64crlf_once = CRYPTO_ONCE_STATIC_INIT;

static void b64crlf_method_init(void) {
    b64crlf_type = BIO_get_new_index() | BIO_TYPE_FILTER;
    BIO_METHOD *m = BIO_meth_new(b64crlf_type, "sealmail base64 CRLF");
    if (m == NULL)
        return;
    BIO_meth_set_write(m, b64crlf_write);
    BIO_meth_set_ctrl(m, b64crlf_ctrl);
    BIO_meth_set_create(m, b64crlf_create);
    BIO_meth_set_destroy(m, b64crlf_destroy);
    b64crlf_method_instance = m;
}

BIO *sm_cms_bio_b64crlf(BIO *next) {
    if (!CRYPTO_THREAD_run_once(&b64crlf_once, b64crlf_method_init) || b64crlf_method_instance == NULL)
        return NULL;
    BIO *b = BIO_new(b64crlf_method_instance);
    if (b == NULL)
        return NULL;
    return BIO_push(b, next);
}

int sm_cms_b64crlf_finish(BIO *b) {
    if (b == NULL || BIO_method_type(b) != b64crlf_type)
        return 0;
    b64crlf_ctx *c = BIO_get_data(b);
    if (c == NULL || c->finished)
        return 0;
    if (c->in_len > 0 && !b64crlf_emit_line(b, c, c->in, c->in_len))
        return 0;
    c->in_len = 0;
    c->finished = 1;
    if (!b64crlf_drain(b, c))
        return 0;
    return BIO_flush(BIO_next(b)) > 0;
}

int sm_cms_bio_flush(BIO *b) { return BIO_flush(b) > 0; }

int sm_cms_bio_write_all(BIO *b, const void *data, size_t len) {
    const char *p = data;
    while (len > 0) {
        int chunk = len > INT_MAX ? INT_MAX : (int)len;
        int w = BIO_write(b, p, chunk);
        if (w <= 0)
            return 0;
        p += w;
        len -= (size_t)w;
    }
    return 1;
}

void sm_cms_bio_free_until(BIO *top, BIO *stop) {
    while (top != NULL && top != stop) {
        BIO *next = BIO_pop(top);
        BIO_free(top);
        top = next;
    }
}

long sm_cms_bio_mem_data(BIO *mem, const unsigned char **data) {
    char *p = NULL;
    long n = BIO_get_mem_data(mem, &p);
    *data = (const unsigned char *)p;
    return n;
}

// ---- Stacks -----------------------------------------------------------------------------------

STACK_OF(X509) *sm_cms_x509_stack_new(void) { return sk_X509_new_null(); }

int sm_cms_x509_stack_push(STACK_OF(X509) *sk, X509 *x) {
    if (!X509_up_ref(x))
        return 0;
    if (sk_X509_push(sk, x) <= 0) {
        X509_free(x);
        return 0;
    }
    return 1;
}

int sm_cms_x509_stack_count(const STACK_OF(X509) *sk) { return sk == NULL ? 0 : sk_X509_num(sk); }

X509 *sm_cms_x509_stack_get(const STACK_OF(X509) *sk, int i) { return sk_X509_value(sk, i); }

void sm_cms_x509_stack_free(STACK_OF(X509) *sk) { sk_X509_pop_free(sk, X509_free); }

void sm_cms_x509_stack_free_shallow(STACK_OF(X509) *sk) { sk_X509_free(sk); }

char *sm_cms_x509_emails(X509 *x) {
    STACK_OF(OPENSSL_STRING) *emails = X509_get1_email(x);
    int n = sk_OPENSSL_STRING_num(emails);
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += strlen(sk_OPENSSL_STRING_value(emails, i)) + 1;
    char *out = n > 0 ? OPENSSL_malloc(total + 1) : NULL;
    if (out != NULL) {
        size_t at = 0;
        for (int i = 0; i < n; i++) {
            const char *e = sk_OPENSSL_STRING_value(emails, i);
            size_t len = strlen(e);
            memcpy(out + at, e, len);
            at += len;
            out[at++] = '\n';
        }
        out[at] = '\0';
    }
    X509_email_free(emails);
    return out;
}

void sm_cms_free(void *p) { OPENSSL_free(p); }

// ---- Signing ----------------------------------------------------------------------------------

int sm_cms_add_smimecaps(CMS_SignerInfo *si, const int *nids, size_t count) {
    STACK_OF(X509_ALGOR) *caps = NULL;
    int ok = 1;
    for (size_t i = 0; i < count && ok; i++)
        ok = CMS_add_simple_smimecap(&caps, nids[i], -1);
    if (ok)
        ok = CMS_add_smimecap(si, caps);
    sk_X509_ALGOR_pop_free(caps, X509_ALGOR_free);
    return ok == 1;
}

int sm_cms_add_encryption_key_preference(CMS_SignerInfo *si, X509 *enc_cert) {
    unsigned char *issuer = NULL, *serial = NULL;
    int ilen = i2d_X509_NAME(X509_get_issuer_name(enc_cert), &issuer);
    int slen = i2d_ASN1_INTEGER((ASN1_INTEGER *)X509_get0_serialNumber(enc_cert), &serial);
    int ok = 0;
    if (ilen > 0 && slen > 0) {
        // [0] IMPLICIT IssuerAndSerialNumber: context tag 0, constructed, DER length.
        long body = (long)ilen + slen;
        unsigned char *der = OPENSSL_malloc((size_t)body + 6);
        if (der != NULL) {
            unsigned char *p = der;
            *p++ = 0xA0;
            if (body < 0x80) {
                *p++ = (unsigned char)body;
            } else if (body < 0x100) {
                *p++ = 0x81;
                *p++ = (unsigned char)body;
            } else {
                *p++ = 0x82;
                *p++ = (unsigned char)(body >> 8);
                *p++ = (unsigned char)body;
            }
            memcpy(p, issuer, (size_t)ilen);
            memcpy(p + ilen, serial, (size_t)slen);
            int total = (int)(p - der) + (int)body;
            ok = body < 0x10000 &&
                 CMS_signed_add1_attr_by_NID(si, NID_id_smime_aa_encrypKeyPref, V_ASN1_SEQUENCE, der, total);
            OPENSSL_free(der);
        }
    }
    OPENSSL_free(issuer);
    OPENSSL_free(serial);
    return ok;
}

int sm_cms_signer_use_pss(CMS_SignerInfo *si) {
    EVP_PKEY_CTX *ctx = CMS_SignerInfo_get0_pkey_ctx(si);
    if (ctx == NULL)
        return 0;
    return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) > 0 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) > 0;
}

// ---- Enveloping -------------------------------------------------------------------------------

int sm_cms_recipient_use_oaep(CMS_RecipientInfo *ri) {
    EVP_PKEY_CTX *ctx = CMS_RecipientInfo_get0_pkey_ctx(ri);
    if (ctx == NULL)
        return 0;
    return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
           EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) > 0 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) > 0;
}

int sm_cms_recipient_use_ecdh(CMS_RecipientInfo *ri, int wrap_bits) {
    EVP_PKEY_CTX *ctx = CMS_RecipientInfo_get0_pkey_ctx(ri);
    EVP_CIPHER_CTX *wrap = CMS_RecipientInfo_kari_get0_ctx(ri);
    const EVP_CIPHER *cipher = wrap_bits == 128 ? EVP_aes_128_wrap() : EVP_aes_256_wrap();
    if (ctx == NULL || wrap == NULL || (wrap_bits != 128 && wrap_bits != 256))
        return 0;
    return EVP_PKEY_CTX_set_ecdh_kdf_md(ctx, EVP_sha256()) > 0 &&
           EVP_EncryptInit_ex(wrap, cipher, NULL, NULL, NULL) > 0;
}

int sm_cms_aead_tag_length(BIO *chain) {
    BIO *cb = BIO_find_type(chain, BIO_TYPE_CIPHER);
    EVP_CIPHER_CTX *ctx = NULL;
    if (cb == NULL || BIO_get_cipher_ctx(cb, &ctx) <= 0 || ctx == NULL)
        return 0;
    if ((EVP_CIPHER_get_flags(EVP_CIPHER_CTX_get0_cipher(ctx)) & EVP_CIPH_FLAG_AEAD_CIPHER) == 0)
        return 0;
    int n = EVP_CIPHER_CTX_get_tag_length(ctx);
    return n > 0 ? n : 0;
}

// ---- Reading signed data ----------------------------------------------------------------------

static CMS_SignerInfo *signer_at(CMS_ContentInfo *cms, int index) {
    STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
    if (sis == NULL || index < 0 || index >= sk_CMS_SignerInfo_num(sis))
        return NULL;
    return sk_CMS_SignerInfo_value(sis, index);
}

int sm_cms_signer_count(CMS_ContentInfo *cms) {
    STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
    return sis == NULL ? 0 : sk_CMS_SignerInfo_num(sis);
}

static int asn1_time_to_epoch(const ASN1_TIME *t, long long *out) {
    struct tm tm;
    if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
        return 0;
    *out = (long long)timegm(&tm);
    return 1;
}

int sm_cms_signer_signing_time(CMS_ContentInfo *cms, int index, long long *out) {
    CMS_SignerInfo *si = signer_at(cms, index);
    if (si == NULL)
        return 0;
    int loc = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
    if (loc < 0)
        return 0;
    X509_ATTRIBUTE *attr = CMS_signed_get_attr(si, loc);
    ASN1_TYPE *v = X509_ATTRIBUTE_get0_type(attr, 0);
    if (v == NULL || (v->type != V_ASN1_UTCTIME && v->type != V_ASN1_GENERALIZEDTIME))
        return 0;
    return asn1_time_to_epoch((const ASN1_TIME *)v->value.asn1_string, out);
}

int sm_cms_signer_digest_nid(CMS_ContentInfo *cms, int index) {
    CMS_SignerInfo *si = signer_at(cms, index);
    X509_ALGOR *dig = NULL;
    if (si == NULL)
        return NID_undef;
    CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, NULL);
    return dig == NULL ? NID_undef : OBJ_obj2nid(dig->algorithm);
}

int sm_cms_x509_validity(const X509 *x, long long *not_before, long long *not_after) {
    return asn1_time_to_epoch(X509_get0_notBefore(x), not_before) &&
           asn1_time_to_epoch(X509_get0_notAfter(x), not_after);
}

int sm_cms_verify_chain(X509_STORE *store, X509 *leaf, STACK_OF(X509) *untrusted,
                        long long at, unsigned long flags, int *depth) {
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int result = X509_V_ERR_UNSPECIFIED;
    *depth = 0;
    if (ctx != NULL && X509_STORE_CTX_init(ctx, store, leaf, untrusted)) {
        X509_STORE_CTX_set_time(ctx, 0, (time_t)at);
        X509_STORE_CTX_set_flags(ctx, flags);
        if (X509_verify_cert(ctx) > 0) {
            result = X509_V_OK;
        } else {
            result = X509_STORE_CTX_get_error(ctx);
            *depth = X509_STORE_CTX_get_error_depth(ctx);
            if (result == X509_V_OK)
                result = X509_V_ERR_UNSPECIFIED;
        }
    }
    X509_STORE_CTX_free(ctx);
    return result;
}

int sm_cms_store_set_time(X509_STORE *store, long long at, unsigned long flags) {
    X509_VERIFY_PARAM *param = X509_VERIFY_PARAM_new();
    int ok = param != NULL;
    if (ok) {
        X509_VERIFY_PARAM_set_time(param, (time_t)at);
        ok = X509_VERIFY_PARAM_set_flags(param, flags) && X509_STORE_set1_param(store, param);
    }
    X509_VERIFY_PARAM_free(param);
    return ok;
}

int sm_cms_name_print(BIO *out, const X509_NAME *name) {
    unsigned long flags = (XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB) | ASN1_STRFLGS_UTF8_CONVERT;
    return X509_NAME_print_ex(out, name, 0, flags) >= 0;
}
