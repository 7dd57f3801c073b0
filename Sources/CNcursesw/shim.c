// SwiftPM needs one source file in a C target; the header is the interface. What needs
// <term.h> (whose macros would clash with names in Swift) lives here instead of in the header.
#include "CNcursesw.h"
#include <ncursesw/term.h>

int cptui_can_address_cursor(void) {
  char *cup = tigetstr("cup");
  return cup != NULL && cup != (char *)-1;
}

int cptui_check_terminal(void) {
  int err = 0;
  if (setupterm(NULL, 1, &err) != OK) return 1;
  int ok = cptui_can_address_cursor();
  del_curterm(cur_term);
  return ok ? 0 : 2;
}
