#include "cmailshim_common.h"
#include <openssl/crypto.h>
unsigned long cms_shim_openssl_version(void) { return OpenSSL_version_num(); }
