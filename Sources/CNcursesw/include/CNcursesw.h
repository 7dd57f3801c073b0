// C shim for ncursesw. SwiftPM drops the -D flags pkg-config gives, so the wide-character API is
// switched on here before the include. Swift 6 refuses C globals and function-like macros, so the few
// that cptui needs are wrapped in static inline functions. Only the Terminal module imports this.
#ifndef CPTUI_CNCURSESW_H
#define CPTUI_CNCURSESW_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif

#include <locale.h>
#include <ncursesw/curses.h>
#include <wchar.h>

/// Whether the terminal can place the cursor (terminfo `cup`): not so for TERM=dumb.
int cptui_can_address_cursor(void);

/// Reads TERM's terminfo entry without starting curses: 0 usable, 1 unknown TERM, 2 cannot place
/// the cursor.
int cptui_check_terminal(void);

static inline WINDOW *cptui_stdscr(void) { return stdscr; }
static inline int cptui_lines(void) { return LINES; }
static inline int cptui_cols(void) { return COLS; }
static inline int cptui_colors(void) { return COLORS; }
static inline int cptui_color_pairs(void) { return COLOR_PAIRS; }
static inline attr_t cptui_a_bold(void) { return A_BOLD; }
static inline attr_t cptui_a_dim(void) { return A_DIM; }
static inline attr_t cptui_a_reverse(void) { return A_REVERSE; }
static inline attr_t cptui_a_underline(void) { return A_UNDERLINE; }
static inline attr_t cptui_a_normal(void) { return A_NORMAL; }
static inline int cptui_key_resize(void) { return KEY_RESIZE; }
static inline int cptui_key_left(void) { return KEY_LEFT; }
static inline int cptui_key_right(void) { return KEY_RIGHT; }
static inline int cptui_key_up(void) { return KEY_UP; }
static inline int cptui_key_down(void) { return KEY_DOWN; }
static inline int cptui_key_home(void) { return KEY_HOME; }
static inline int cptui_key_end(void) { return KEY_END; }
static inline int cptui_key_enter(void) { return KEY_ENTER; }
static inline int cptui_key_backspace(void) { return KEY_BACKSPACE; }
static inline int cptui_key_npage(void) { return KEY_NPAGE; }
static inline int cptui_key_ppage(void) { return KEY_PPAGE; }
static inline int cptui_key_code_yes(void) { return KEY_CODE_YES; }
static inline int cptui_key_btab(void) { return KEY_BTAB; }
static inline int cptui_key_dc(void) { return KEY_DC; }
static inline int cptui_key_f0(void) { return KEY_F0; }
static inline int cptui_err(void) { return ERR; }

/// Draws one wide character with attributes and a colour pair (pairs above 255 go through opts).
static inline int cptui_put_wch(WINDOW *win, int y, int x, wchar_t ch, attr_t attrs, int pair) {
  cchar_t cc;
  wchar_t wch[2] = {ch, L'\0'};
  setcchar(&cc, wch, attrs, (short)(pair > 32767 ? 0 : pair), &pair);
  return mvwadd_wch(win, y, x, &cc);
}

#endif
