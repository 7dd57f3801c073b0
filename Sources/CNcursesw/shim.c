// Intentionally empty: SwiftPM needs one source file in a C target; the header is the interface.
#include "CNcursesw.h"
