// The system OpenSSL 3 (Debian's libssl-dev), as one Swift module.
#ifndef SEALMAIL_COPENSSL_SHIM_H
#define SEALMAIL_COPENSSL_SHIM_H
#include <openssl/opensslv.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/bio.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/cms.h>
#include <openssl/pkcs12.h>
#include <openssl/hmac.h>
#endif
