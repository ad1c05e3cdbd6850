// Loads the system's libssl and libcrypto on the first call of an OpenSSL function (see
// openssl_stubs.S), instead of at every start of the program. They stay shared libraries, the
// ones Debian's security updates replace; the version is the one of the headers we compiled
// against (libssl.so.3 for OpenSSL 3).
//
// A failure here is the dynamic loader's failure moved to the first call, and ends the process
// as the dynamic loader does when a library is missing at start (message, status 127): the
// stub cannot return an error of a signature it does not know.
#if defined(__x86_64__) && defined(__linux__) && defined(SEALMAIL_LAZY_OPENSSL)
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>
#include <openssl/opensslv.h>

#define SEALMAIL_STR2(x) #x
#define SEALMAIL_STR(x) SEALMAIL_STR2(x)
#define SEALMAIL_LIBSSL "libssl.so." SEALMAIL_STR(OPENSSL_VERSION_MAJOR)

static pthread_once_t sealmail_openssl_once = PTHREAD_ONCE_INIT;
static void *sealmail_openssl_handle;

static void sealmail_openssl_fail(const char *what) {
    const char *reason = dlerror();
    fprintf(stderr, "sealmail: error while loading shared libraries: %s: %s\n", what,
            reason != NULL ? reason : "not found");
    _exit(127);
}

static void sealmail_openssl_open(void) {
    // libssl brings libcrypto as its dependency; dlsym on this handle finds both.
    sealmail_openssl_handle = dlopen(SEALMAIL_LIBSSL, RTLD_NOW | RTLD_LOCAL);
    if (sealmail_openssl_handle == NULL) sealmail_openssl_fail(SEALMAIL_LIBSSL);
}

/// Called by sealmail_openssl_bind with the stub's slot and the function's name: fills the
/// slot (once per function; concurrent callers store the same address) and returns it.
__attribute__((visibility("hidden")))
void *sealmail_openssl_resolve(void **slot, const char *name) {
    pthread_once(&sealmail_openssl_once, sealmail_openssl_open);
    void *function = dlsym(sealmail_openssl_handle, name);
    if (function == NULL) sealmail_openssl_fail(name);
    __atomic_store_n(slot, function, __ATOMIC_RELEASE);
    return function;
}
#endif
