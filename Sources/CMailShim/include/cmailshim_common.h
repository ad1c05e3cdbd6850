#ifndef CMAILSHIM_COMMON_H
#define CMAILSHIM_COMMON_H
#include <stddef.h>
/// The OpenSSL version number this binary runs against (OpenSSL_version_num()).
unsigned long cms_shim_openssl_version(void);
#endif
