/// GPT-2's byte-level pieces: the byte → printable-character table used to write tokens into
/// `tokenizer.json`, and the GPT-2 pre-tokenizer (the regex
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`), written by hand over
/// UTF-8 bytes.
///
/// Invalid UTF-8: every byte that is not part of a well-formed UTF-8 sequence is treated as one
/// character of the "other" class (neither letter, number nor white space), so it joins runs of
/// punctuation, exactly like a symbol would. Valid text is split exactly as the regex splits it.
public enum ByteLevel {
  /// GPT-2's table: byte → Unicode scalar. Printable Latin-1 bytes map to themselves; the other 68
  /// bytes map to U+0100 upwards in byte order (space → `Ġ`, newline → `Ċ`).
  public static let byteToScalar: [Unicode.Scalar] = {
    var table = [Unicode.Scalar](repeating: " ", count: 256)
    var next: UInt32 = 256
    for b in 0..<256 {
      let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
      if printable {
        table[b] = Unicode.Scalar(UInt32(b))!
      } else {
        table[b] = Unicode.Scalar(next)!
        next += 1
      }
    }
    return table
  }()

  /// The inverse of `byteToScalar`.
  public static let scalarToByte: [UInt32: UInt8] = {
    var map: [UInt32: UInt8] = [:]
    for (b, s) in byteToScalar.enumerated() { map[s.value] = UInt8(b) }
    return map
  }()

  /// A token's bytes written as GPT-2 byte-level characters.
  public static func encodeToken(_ bytes: [UInt8]) -> String {
    var s = String.UnicodeScalarView()
    for b in bytes { s.append(byteToScalar[Int(b)]) }
    return String(s)
  }

  /// The bytes of a GPT-2 byte-level token string, or nil if it holds a character outside the table.
  public static func decodeToken(_ token: String) -> [UInt8]? {
    var out: [UInt8] = []
    for s in token.unicodeScalars {
      guard let b = scalarToByte[s.value] else { return nil }
      out.append(b)
    }
    return out
  }

  // MARK: Pre-tokenizer

  /// Character classes of the GPT-2 regex.
  @usableFromInline
  enum CharClass: UInt8 {
    case letter = 0
    case number = 1
    case space = 2  // U+0020, the only character the ` ?` prefix accepts
    case whitespace = 3  // other \s
    case other = 4  // everything else, including invalid UTF-8 bytes
  }

  /// Classes of the Basic Multilingual Plane, computed once.
  private static let bmpClasses: [UInt8] = {
    var table = [UInt8](repeating: CharClass.other.rawValue, count: 0x10000)
    for v in 0..<0x10000 {
      guard let s = Unicode.Scalar(UInt32(v)) else { continue }
      table[v] = classify(s).rawValue
    }
    return table
  }()

  private static func classify(_ s: Unicode.Scalar) -> CharClass {
    if s.value == 0x20 { return .space }
    let p = s.properties
    if p.isWhitespace { return .whitespace }
    switch p.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
      return .letter
    case .decimalNumber, .letterNumber, .otherNumber:
      return .number
    default:
      return .other
    }
  }

  private static func classOf(scalar v: UInt32) -> CharClass {
    if v < 0x10000 { return CharClass(rawValue: bmpClasses[Int(v)])! }
    guard let s = Unicode.Scalar(v) else { return .other }
    return classify(s)
  }

  /// ASCII classes, the fast path.
  private static let asciiClasses: [UInt8] = (0..<128).map { b in
    classify(Unicode.Scalar(UInt8(b))).rawValue
  }

  /// Class and byte length of the character starting at `i` (invalid UTF-8 → one `.other` byte).
  @inline(__always)
  static func char(at i: Int, in p: UnsafeBufferPointer<UInt8>) -> (CharClass, Int) {
    let b0 = p[i]
    if b0 < 0x80 { return (CharClass(rawValue: asciiClasses[Int(b0)])!, 1) }
    let n = p.count
    if b0 >= 0xC2 && b0 <= 0xDF {
      if i + 1 < n && p[i + 1] & 0xC0 == 0x80 {
        let v = UInt32(b0 & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F)
        return (classOf(scalar: v), 2)
      }
    } else if b0 >= 0xE0 && b0 <= 0xEF {
      if i + 2 < n && p[i + 1] & 0xC0 == 0x80 && p[i + 2] & 0xC0 == 0x80 {
        let v = UInt32(b0 & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F)
        if v >= 0x800 && !(0xD800...0xDFFF).contains(v) { return (classOf(scalar: v), 3) }
      }
    } else if b0 >= 0xF0 && b0 <= 0xF4 {
      if i + 3 < n && p[i + 1] & 0xC0 == 0x80 && p[i + 2] & 0xC0 == 0x80
        && p[i + 3] & 0xC0 == 0x80
      {
        let v =
          UInt32(b0 & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6
          | UInt32(p[i + 3] & 0x3F)
        if v >= 0x10000 && v <= 0x10FFFF { return (classOf(scalar: v), 4) }
      }
    }
    return (.other, 1)
  }

  /// Splits `bytes` into GPT-2 pre-tokens and calls `body(start, end)` for each, in order; the
  /// pieces cover the input exactly.
  public static func pretokenize(
    _ p: UnsafeBufferPointer<UInt8>, _ body: (_ start: Int, _ end: Int) -> Void
  ) {
    let n = p.count
    var i = 0
    while i < n {
      // Contractions: 's 't 'm 'd 're 've 'll (lower case only, as in GPT-2).
      if p[i] == 0x27 && i + 1 < n {
        let c1 = p[i + 1]
        if c1 == 0x73 || c1 == 0x74 || c1 == 0x6D || c1 == 0x64 {
          body(i, i + 2)
          i += 2
          continue
        }
        if i + 2 < n {
          let c2 = p[i + 2]
          if (c1 == 0x72 && c2 == 0x65) || (c1 == 0x76 && c2 == 0x65) || (c1 == 0x6C && c2 == 0x6C)
          {
            body(i, i + 3)
            i += 3
            continue
          }
        }
      }
      let (cls, len) = char(at: i, in: p)
      var runClass = cls
      var j = i + len
      if cls == .space && j < n {
        let (next, nextLen) = char(at: j, in: p)
        if next == .letter || next == .number || next == .other {
          runClass = next
          j += nextLen
        }
      }
      switch runClass {
      case .letter, .number, .other:
        while j < n {
          let (c, l) = char(at: j, in: p)
          if c != runClass { break }
          j += l
        }
        body(i, j)
        i = j
      case .space, .whitespace:
        var lastStart = i
        while j < n {
          let (c, l) = char(at: j, in: p)
          if c != .space && c != .whitespace { break }
          lastStart = j
          j += l
        }
        if j == n || lastStart == i {
          body(i, j)
          i = j
        } else {
          body(i, lastStart)
          i = lastStart
        }
      }
    }
  }

  /// Convenience: the pre-tokens of a string, as strings (for tests and tools).
  public static func pretokenize(_ text: String) -> [String] {
    let bytes = Array(text.utf8)
    var out: [String] = []
    bytes.withUnsafeBufferPointer { p in
      pretokenize(p) { s, e in out.append(String(decoding: p[s..<e], as: UTF8.self)) }
    }
    return out
  }

  /// Convenience: the pre-tokens of raw bytes.
  public static func pretokenize(bytes: [UInt8]) -> [[UInt8]] {
    var out: [[UInt8]] = []
    bytes.withUnsafeBufferPointer { p in
      pretokenize(p) { s, e in out.append(Array(p[s..<e])) }
    }
    return out
  }
}
