// CMailShim: narrow C functions over OpenSSL's macros and BIO plumbing (house rule 4: it owns
// nothing, prints nothing, decides nothing). Each area has its own header, included here.
#ifndef CMAILSHIM_H
#define CMAILSHIM_H
#include "cmailshim_common.h"
#include "cmailshim_cms.h"
#include "cmailshim_file.h"
#include "cmailshim_tls.h"
#endif
