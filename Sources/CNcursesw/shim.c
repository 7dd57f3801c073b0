// SwiftPM needs one source file in a C target; the header is the interface. What needs
// <term.h> (whose macros would clash with names in Swift) lives here instead of in the header.
#include "CNcursesw.h"
#include <ncursesw/term.h>

int cptui_can_address_cursor(void) {
  char *cup = tigetstr("cup");
  return cup != NULL && cup != (char *)-1;
}
