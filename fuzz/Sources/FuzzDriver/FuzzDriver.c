// Declarations only (include/FuzzDriver.h); the driver itself is in libFuzzer.
#include "FuzzDriver.h"
