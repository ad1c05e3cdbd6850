// Declarations only (include/CFuzzerDriver.h); the definitions are in libFuzzer.
#include "CFuzzerDriver.h"
