// libFuzzer's driver entry point (compiler-rt, FuzzerInterface.h / FuzzerDriver.cpp), linked
// by `-sanitize=fuzzer`. The harnesses call it from their own `main`: SwiftPM gives every
// executable a `main` (an alias of `<module>_main`), so libFuzzer's own `main` is never linked.
#ifndef CFUZZERDRIVER_H
#define CFUZZERDRIVER_H
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
