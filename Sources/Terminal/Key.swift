// Keys as the rest of the program sees them, independent of curses.

/// One key press (or a terminal event that arrives like one).
public enum Key: Sendable, Hashable {
  case char(Character)
  case up
  case down
  case left
  case right
  case enter
  case escape
  case backspace
  case delete
  case tab
  case backTab
  case pageUp
  case pageDown
  case home
  case end
  case resize
  /// SIGINT or SIGTERM arrived; the program should shut down cleanly.
  case interrupted(Int32)
  case unknown(Int32)

  /// A short name for help screens: `q`, `space`, `←`, `Enter`, `PgUp`, …
  public var label: String {
    switch self {
    case .char(" "): return "space"
    case .char(let c): return String(c)
    case .up: return "↑"
    case .down: return "↓"
    case .left: return "←"
    case .right: return "→"
    case .enter: return "Enter"
    case .escape: return "Esc"
    case .backspace: return "Bksp"
    case .delete: return "Del"
    case .tab: return "Tab"
    case .backTab: return "S-Tab"
    case .pageUp: return "PgUp"
    case .pageDown: return "PgDn"
    case .home: return "Home"
    case .end: return "End"
    case .resize: return "resize"
    case .interrupted: return "signal"
    case .unknown(let code): return "key \(code)"
    }
  }

  /// Decodes a plain character as `wget_wch` returns it (not a function-key code).
  public static func fromCharacter(_ code: UInt32) -> Key {
    switch code {
    case 10, 13: return .enter
    case 27: return .escape
    case 8, 127: return .backspace
    case 9: return .tab
    default:
      guard let scalar = Unicode.Scalar(code), !TextSanitizer.isUnsafe(scalar) else {
        return .unknown(Int32(bitPattern: code))
      }
      return .char(Character(scalar))
    }
  }
}
