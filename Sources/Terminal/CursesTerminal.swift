// The curses backend: the only code that imports CNcursesw. It starts and stops curses, reads keys,
// and copies a CellGrid to the terminal, drawing only the cells that changed since the last frame.
// Use it from one thread only (the TUI thread).

import CNcursesw

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Whether the user's locale (LC_ALL, LC_CTYPE, LANG) uses UTF-8, read without changing the
/// process's own locale (so number formatting elsewhere is untouched).
public enum UserLocale {
  public static let isUTF8: Bool = {
    if let locale = newlocale(LC_CTYPE_MASK, "", nil) {
      defer { freelocale(locale) }
      return codesetIsUTF8(String(cString: nl_langinfo_l(nl_item(CODESET), locale)))
    }
    // A locale that is named but not installed: go by its name.
    var name = ""
    for variable in ["LC_ALL", "LC_CTYPE", "LANG"] {
      if let value = getenv(variable), value.pointee != 0 {
        name = String(cString: value)
        break
      }
    }
    return codesetIsUTF8(name.split(separator: ".").last.map(String.init) ?? "")
  }()

  static func codesetIsUTF8(_ codeset: String) -> Bool {
    codeset.uppercased().replacingOccurrences("-", "") == "UTF8"
  }
}

/// What the terminal can show, decided at start.
public struct TerminalCapabilities: Sendable, Equatable {
  /// The locale is UTF-8: braille and box drawing can be shown.
  public var unicode: Bool
  /// Colours in use: 0 (none: NO_COLOR, or a terminal without colour), 8, or 256.
  public var colors: Int

  public init(unicode: Bool, colors: Int) {
    self.unicode = unicode
    self.colors = colors
  }
}

/// Errors starting the terminal.
public enum TerminalError: Error, CustomStringConvertible {
  case notATerminal
  case initFailed
  /// curses knows no terminal of this TERM (empty when TERM is not set).
  case unknownTerminal(term: String)
  case alreadyRunning
  /// The terminal cannot place the cursor (TERM=dumb and the like).
  case cannotAddressCursor(term: String)

  public var description: String {
    switch self {
    case .notATerminal: return "standard input/output is not a terminal"
    case .initFailed: return "could not start the terminal screen"
    case .unknownTerminal(let term):
      return term.isEmpty
        ? "TERM is not set, so the screen cannot be drawn; set it (e.g. TERM=xterm-256color)"
        : "the terminal type TERM=\(term) is unknown here (no terminfo entry), so the screen "
          + "cannot be drawn; use a known one (e.g. TERM=xterm-256color)"
    case .alreadyRunning: return "the terminal screen is already running"
    case .cannotAddressCursor(let term):
      return "the terminal (TERM=\(term)) cannot place the cursor, so the screen cannot be drawn; "
        + "use a full terminal (e.g. TERM=xterm-256color), or `cptui run`, `compare` or `export` "
        + "for text"
    }
  }
}

// State the signal handlers read. Plain globals: a signal handler cannot capture context.
nonisolated(unsafe) private var cursesActive: Int32 = 0
nonisolated(unsafe) private var pendingSignal: Int32 = 0
nonisolated(unsafe) private var atexitInstalled = false

/// Leaves curses if it is on. Called from signal handlers, atexit, and `stop()`.
private func restoreTerminalNow() {
  if cursesActive != 0 {
    cursesActive = 0
    curs_set(1)
    endwin()
  }
}

/// A second SIGINT/SIGTERM/SIGHUP: restore the terminal, then die of the signal as usual.
private let hardSignalHandler: @convention(c) (Int32) -> Void = { sig in
  restoreTerminalNow()
  signal(sig, SIG_DFL)
  raise(sig)
}

/// A first SIGINT/SIGTERM/SIGHUP: remember it; `pollKey` reports it so the program can shut down cleanly.
private let softSignalHandler: @convention(c) (Int32) -> Void = { sig in
  if pendingSignal != 0 {
    hardSignalHandler(sig)
  } else {
    pendingSignal = sig
  }
}

/// The curses screen.
///
/// Lifecycle: `start()` → loop { `pollKey` → `makeGrid` → draw into the grid → `draw(grid)` } →
/// `stop()`. `CursesTerminal.run { term in … }` wraps this so that `stop()` runs however the body
/// ends (return or thrown error). SIGINT and SIGTERM come back from `pollKey` as
/// `Key.interrupted` (SIGHUP too); a second one restores the terminal and ends the process.
public final class CursesTerminal {
  public private(set) var capabilities = TerminalCapabilities(unicode: true, colors: 0)
  public private(set) var isRunning = false
  private var palette: Palette
  private var previous: CellGrid?
  private var deliveredSignal = false
  private var savedActions: [Int32: sigaction] = [:]
  private var screen: OpaquePointer?

  public init(palette: Palette = .monochrome) {
    self.palette = palette
  }

  deinit { stop() }

  /// Runs `body` with a started terminal and always stops it afterwards.
  public static func run<T>(palette: Palette, _ body: (CursesTerminal) throws -> T) throws -> T {
    let term = CursesTerminal(palette: palette)
    try term.start()
    defer { term.stop() }
    return try body(term)
  }

  /// Whether `NO_COLOR` asks for no colour (set and not empty, see no-color.org).
  public static var noColorRequested: Bool {
    guard let v = getenv("NO_COLOR") else { return false }
    return v.pointee != 0
  }

  /// Checks, without starting curses, that standard input and output are a terminal the screen
  /// can be drawn on (TERM known, cursor addressing): commands call it before they create
  /// anything, so a bad TERM costs no run log or training.
  public static func checkUsable() throws {
    guard isatty(0) != 0, isatty(1) != 0 else { throw TerminalError.notATerminal }
    let term = getenv("TERM").map { String(cString: $0) } ?? ""
    switch cptui_check_terminal() {
    case 0: return
    case 1: throw TerminalError.unknownTerminal(term: term)
    default: throw TerminalError.cannotAddressCursor(term: term)
    }
  }

  /// Starts curses: locale, raw-ish input, no cursor, colours, signal handlers.
  public func start() throws {
    guard !isRunning else { throw TerminalError.alreadyRunning }
    guard isatty(0) != 0, isatty(1) != 0 else { throw TerminalError.notATerminal }
    setlocale(LC_ALL, "")
    let unicode = UserLocale.codesetIsUTF8(String(cString: nl_langinfo(nl_item(CODESET))))
    if getenv("ESCDELAY") == nil { set_escdelay(25) }
    // newterm rather than initscr: initscr exits the process on failure, newterm returns nil.
    guard let output = fdopen(1, "w"), let input = fdopen(0, "r") else {
      throw TerminalError.initFailed
    }
    guard let screen = newterm(nil, output, input) else {
      throw TerminalError.unknownTerminal(term: getenv("TERM").map { String(cString: $0) } ?? "")
    }
    set_term(screen)
    guard cptui_can_address_cursor() != 0 else {
      endwin()
      delscreen(screen)
      throw TerminalError.cannotAddressCursor(
        term: getenv("TERM").map { String(cString: $0) } ?? "")
    }
    self.screen = screen
    cursesActive = 1
    isRunning = true
    installSignalHandlers()
    // A process started with these blocked (its parent's mask is inherited) would never see a
    // resize or a request to stop: take them on this thread.
    var wanted = sigset_t()
    sigemptyset(&wanted)
    for sig in [SIGWINCH, SIGINT, SIGTERM, SIGHUP] { sigaddset(&wanted, sig) }
    pthread_sigmask(SIG_UNBLOCK, &wanted, nil)
    cbreak()
    noecho()
    nonl()
    keypad(cptui_stdscr(), true)
    curs_set(0)
    var colors = 0
    if !CursesTerminal.noColorRequested && has_colors() {
      start_color()
      use_default_colors()
      colors = cptui_colors() >= 256 ? 256 : (cptui_colors() >= 8 ? 8 : 0)
    }
    capabilities = TerminalCapabilities(unicode: unicode, colors: colors)
    applyPalette()
    previous = nil
  }

  /// Restores the terminal. Safe to call more than once.
  public func stop() {
    guard isRunning else { return }
    isRunning = false
    restoreTerminalNow()
    if let screen {
      delscreen(screen)
      self.screen = nil
    }
    for (sig, var action) in savedActions { sigaction(sig, &action, nil) }
    savedActions = [:]
    pendingSignal = 0
  }

  /// The terminal's size in cells.
  public var size: (width: Int, height: Int) {
    guard isRunning else { return (0, 0) }
    return (Int(getmaxx(cptui_stdscr())), Int(getmaxy(cptui_stdscr())))
  }

  /// A blank grid of the terminal's size, ASCII-only when the locale is not UTF-8.
  public func makeGrid() -> CellGrid {
    let s = size
    return CellGrid(width: s.width, height: s.height, asciiOnly: !capabilities.unicode)
  }

  /// Switches colours (for example when the user cycles themes); the next frame is drawn whole.
  public func setPalette(_ p: Palette) {
    guard p != palette else { return }
    palette = p
    if isRunning { applyPalette() }
    previous = nil
  }

  /// Waits up to `timeoutMilliseconds` for a key (0: don't wait, negative: wait forever).
  /// Returns nil on timeout.
  public func pollKey(timeoutMilliseconds: Int32) -> Key? {
    guard isRunning else { return nil }
    if let k = takeSignal() { return k }
    wtimeout(cptui_stdscr(), timeoutMilliseconds)
    var wch: wint_t = 0
    let r = wget_wch(cptui_stdscr(), &wch)
    if r == cptui_err() { return takeSignal() }
    if r == cptui_key_code_yes() {
      let key = CursesTerminal.decodeKeyCode(Int32(bitPattern: wch))
      if key == .resize { previous = nil }
      return key
    }
    return Key.fromCharacter(wch)
  }

  private func takeSignal() -> Key? {
    if pendingSignal != 0 && !deliveredSignal {
      deliveredSignal = true
      return .interrupted(pendingSignal)
    }
    return nil
  }

  /// Decodes a curses function-key code.
  public static func decodeKeyCode(_ code: Int32) -> Key {
    switch code {
    case cptui_key_up(): return .up
    case cptui_key_down(): return .down
    case cptui_key_left(): return .left
    case cptui_key_right(): return .right
    case cptui_key_enter(): return .enter
    case cptui_key_backspace(): return .backspace
    case cptui_key_dc(): return .delete
    case cptui_key_btab(): return .backTab
    case cptui_key_ppage(): return .pageUp
    case cptui_key_npage(): return .pageDown
    case cptui_key_home(): return .home
    case cptui_key_end(): return .end
    case cptui_key_resize(): return .resize
    default: return .unknown(code)
    }
  }

  /// Copies the grid to the screen: only cells that differ from the last frame, then one
  /// `doupdate`. After a resize or palette change the whole screen is drawn.
  public func draw(_ grid: CellGrid) {
    guard isRunning else { return }
    let win = cptui_stdscr()
    let (w, h) = size
    let full = previous == nil || previous!.width != grid.width || previous!.height != grid.height
    if full { werase(win) }
    let cols = min(w, grid.width)
    let rows = min(h, grid.height)
    for y in 0..<rows {
      for x in 0..<cols {
        let cell = grid[x, y]
        if cell.isContinuation { continue }
        if !full, let p = previous, p[x, y] == cell {
          // A wide character's right half may have changed under an unchanged left half.
          if x + 1 >= cols || p[x + 1, y] == grid[x + 1, y] { continue }
        }
        put(cell, x: x, y: y, win: win)
      }
    }
    wnoutrefresh(win)
    doupdate()
    previous = grid
  }

  private func put(_ cell: Cell, x: Int, y: Int, win: UnsafeMutablePointer<WINDOW>?) {
    let rs = palette[cell.style.role]
    let colors = capabilities.colors
    let themeAttrs = colors > 0 && colors < 256 ? (rs.attributes8 ?? rs.attributes) : rs.attributes
    let attrs = cell.style.attributes.union(themeAttrs)
    var a = cptui_a_normal()
    if attrs.contains(.bold) { a |= cptui_a_bold() }
    if attrs.contains(.dim) { a |= cptui_a_dim() }
    if attrs.contains(.reverse) { a |= cptui_a_reverse() }
    if attrs.contains(.underline) { a |= cptui_a_underline() }
    let pair = capabilities.colors > 0 ? Int32(cell.style.role.rawValue) + 1 : 0
    var scalar = cell.scalar
    if !capabilities.unicode && scalar.value >= 0x80 { scalar = "?" }
    _ = cptui_put_wch(win, Int32(y), Int32(x), wchar_t(bitPattern: scalar.value), a, pair)
  }

  private func applyPalette() {
    guard capabilities.colors > 0 else { return }
    func code(_ c: TermColor) -> Int32 {
      if case .index(let i) = c { return Int32(i) }
      return -1
    }
    for role in ColorRole.allCases {
      let rs = palette[role]
      let textBackground = palette[.text].background
      let bg = rs.background == .terminalDefault ? textBackground : rs.background
      let fg8 = rs.foreground8 ?? rs.foreground.basic
      let bg8 = rs.background8 ?? (palette[.text].background8 ?? bg.basic)
      let (f, b) =
        capabilities.colors >= 256 ? (code(rs.foreground), code(bg)) : (code(fg8), code(bg8))
      init_pair(Int16(role.rawValue) + 1, Int16(f), Int16(b))
    }
  }

  private func installSignalHandlers() {
    pendingSignal = 0
    deliveredSignal = false
    func install(_ sig: Int32, _ handler: @convention(c) (Int32) -> Void) {
      var action = sigaction()
      action.__sigaction_handler.sa_handler = handler
      sigemptyset(&action.sa_mask)
      action.sa_flags = 0
      var old = sigaction()
      sigaction(sig, &action, &old)
      savedActions[sig] = old
    }
    install(SIGINT, softSignalHandler)
    install(SIGTERM, softSignalHandler)
    // SIGHUP too: the terminal is gone, but the run log and a checkpoint can still be saved.
    install(SIGHUP, softSignalHandler)
    if !atexitInstalled {
      atexitInstalled = true
      atexit { restoreTerminalNow() }
    }
  }
}

extension String {
  fileprivate func replacingOccurrences(_ a: Character, _ b: String) -> String {
    var out = ""
    for c in self { if c == a { out += b } else { out.append(c) } }
    return out
  }
}
