// Text that comes from log files and configs is data, not terminal input: control characters, bidi
// overrides and broken encodings must never reach the screen.

public enum TextSanitizer {
  /// The longest text kept by default, in characters.
  public static let defaultMaxLength = 200

  /// Whether a scalar is dropped: C0/C1 controls, DEL, bidi embeddings/overrides/isolates and marks,
  /// byte-order marks, line/paragraph separators, and other invisible format characters.
  public static func isUnsafe(_ s: Unicode.Scalar) -> Bool {
    let v = s.value
    if v < 0x20 || (0x7F...0x9F).contains(v) { return true }
    switch v {
    case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0xFEFF, 0x2028, 0x2029,
      0xFFF9...0xFFFB:
      return true
    default:
      return false
    }
  }

  /// Returns printable text: tabs and newlines become spaces, other unsafe scalars are dropped,
  /// U+FFFD (what invalid UTF-8 decodes to) becomes `?`, and text longer than `maxLength`
  /// characters is cut with an ellipsis.
  public static func clean(_ text: String, maxLength: Int = defaultMaxLength) -> String {
    var scalars = String.UnicodeScalarView()
    for s in text.unicodeScalars {
      if s == "\t" || s == "\n" || s == "\r" {
        scalars.append(" ")
      } else if s == "\u{FFFD}" {
        scalars.append("?")
      } else if !isUnsafe(s) {
        scalars.append(s)
      }
    }
    var out = String(scalars)
    if out.count > maxLength {
      out = String(out.prefix(max(0, maxLength - 1))) + "…"
    }
    return out
  }

  /// Decodes bytes as UTF-8 (invalid sequences become `?`) and cleans the result.
  public static func clean(bytes: some Sequence<UInt8>, maxLength: Int = defaultMaxLength)
    -> String
  {
    clean(String(decoding: Array(bytes), as: UTF8.self), maxLength: maxLength)
  }
}

extension TextSanitizer {
  /// Text for a message on stderr or stdout: keeps newlines, shows every other unsafe scalar (an
  /// escape, a bidi override) as a visible `\u{…}` escape and U+FFFD (invalid UTF-8) as `?`, so a
  /// name from a file can never drive the terminal.
  public static func escaped(_ text: String) -> String {
    var out = ""
    for s in text.unicodeScalars {
      if s == "\n" || s == "\t" {
        out.unicodeScalars.append(s)
      } else if s == "\u{FFFD}" {
        out += "?"
      } else if isUnsafe(s) {
        out += "\\u{" + String(s.value, radix: 16, uppercase: true) + "}"
      } else {
        out.unicodeScalars.append(s)
      }
    }
    return out
  }
}

extension String {
  /// This text made safe for the screen (see `TextSanitizer.clean`).
  public var sanitizedForScreen: String { TextSanitizer.clean(self) }
}
