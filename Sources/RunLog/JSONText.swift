import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// JSON text in and out, written for run logs: compact output on one line, object keys in the order
/// given, non-finite numbers as strings; a parser that works on raw bytes (no Foundation round trip,
/// so a million-line log reads fast) and accepts the bare `NaN`/`Infinity` tokens Python writes.
public enum JSONText {
  /// Compact JSON for a value (never contains a newline).
  public static func encode(_ value: JSONValue) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(64)
    append(value, to: &out)
    return String(decoding: out, as: UTF8.self)
  }

  /// Parses one JSON value that fills the whole text (surrounding white space allowed).
  public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
    var bytes = Array(text.utf8)
    return try bytes.withUnsafeMutableBufferPointer { buffer throws(JSONParseError) in
      try parse(UnsafeBufferPointer(buffer))
    }
  }

  /// Parses one JSON value that fills the whole buffer (surrounding white space allowed).
  public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSONValue
  {
    var parser = JSONParser(bytes: bytes)
    parser.skipSpace()
    let value = try parser.parseValue(depth: 0)
    parser.skipSpace()
    if parser.position != bytes.count {
      throw JSONParseError(offset: parser.position, message: "unexpected text after the value")
    }
    return value
  }

  /// How logs write a non-finite number: `NaN`, `Infinity`, `-Infinity`.
  public static func nonFiniteSpelling(_ value: Double) -> String {
    value.isNaN ? "NaN" : (value > 0 ? "Infinity" : "-Infinity")
  }

  // MARK: Output

  static func append(_ value: JSONValue, to out: inout [UInt8]) {
    switch value {
    case .null: out.append(contentsOf: "null".utf8)
    case .bool(let flag): out.append(contentsOf: (flag ? "true" : "false").utf8)
    case .int(let number): out.append(contentsOf: String(number).utf8)
    case .double(let number): appendNumber(number, to: &out)
    case .string(let text): appendString(text, to: &out)
    case .array(let items):
      out.append(UInt8(ascii: "["))
      for (index, item) in items.enumerated() {
        if index > 0 { out.append(UInt8(ascii: ",")) }
        append(item, to: &out)
      }
      out.append(UInt8(ascii: "]"))
    case .object(let members):
      out.append(UInt8(ascii: "{"))
      for (index, member) in members.enumerated() {
        if index > 0 { out.append(UInt8(ascii: ",")) }
        appendString(member.key, to: &out)
        out.append(UInt8(ascii: ":"))
        append(member.value, to: &out)
      }
      out.append(UInt8(ascii: "}"))
    }
  }

  /// A Double in its shortest round-trip spelling; non-finite values as strings.
  static func appendNumber(_ number: Double, to out: inout [UInt8]) {
    if number.isFinite {
      out.append(contentsOf: number.description.utf8)
    } else {
      appendString(nonFiniteSpelling(number), to: &out)
    }
  }

  static func appendString(_ text: String, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
      case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
      case UInt8(ascii: "\n"): out.append(contentsOf: "\\n".utf8)
      case UInt8(ascii: "\r"): out.append(contentsOf: "\\r".utf8)
      case UInt8(ascii: "\t"): out.append(contentsOf: "\\t".utf8)
      case 0..<0x20, 0x7F:
        let hex = Array("0123456789abcdef".utf8)
        out.append(contentsOf: "\\u00".utf8)
        out.append(hex[Int(byte >> 4)])
        out.append(hex[Int(byte & 15)])
      default: out.append(byte)
      }
    }
    out.append(UInt8(ascii: "\""))
  }
}

/// Why a text is not JSON, with the byte offset where parsing stopped.
public struct JSONParseError: Error, CustomStringConvertible, Equatable, Sendable {
  public var offset: Int
  public var message: String
  public var description: String { "\(message) at byte \(offset + 1)" }
}

/// A recursive-descent JSON parser over bytes. Objects keep their key order.
struct JSONParser {
  let bytes: UnsafeBufferPointer<UInt8>
  var position = 0
  static let maxDepth = 64

  init(bytes: UnsafeBufferPointer<UInt8>) {
    self.bytes = bytes
  }

  func fail(_ message: String) -> JSONParseError {
    JSONParseError(offset: position, message: message)
  }

  mutating func skipSpace() {
    while position < bytes.count {
      switch bytes[position] {
      case 0x20, 0x09, 0x0A, 0x0D: position += 1
      default: return
      }
    }
  }

  mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
    guard position < bytes.count else { throw fail("unexpected end of text") }
    switch bytes[position] {
    case UInt8(ascii: "{"):
      guard depth < Self.maxDepth else { throw fail("nested too deeply") }
      return .object(try parseObject(depth: depth))
    case UInt8(ascii: "["):
      guard depth < Self.maxDepth else { throw fail("nested too deeply") }
      position += 1
      var items: [JSONValue] = []
      skipSpace()
      if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
        position += 1
        return .array(items)
      }
      while true {
        skipSpace()
        items.append(try parseValue(depth: depth + 1))
        skipSpace()
        guard position < bytes.count else { throw fail("unterminated array") }
        if bytes[position] == UInt8(ascii: ",") {
          position += 1
        } else if bytes[position] == UInt8(ascii: "]") {
          position += 1
          return .array(items)
        } else {
          throw fail("expected ',' or ']' in an array")
        }
      }
    case UInt8(ascii: "\""):
      return .string(try parseString())
    case UInt8(ascii: "t"):
      try expectWord("true")
      return .bool(true)
    case UInt8(ascii: "f"):
      try expectWord("false")
      return .bool(false)
    case UInt8(ascii: "n"):
      try expectWord("null")
      return .null
    case UInt8(ascii: "N"):
      try expectWord("NaN")
      return .double(.nan)
    case UInt8(ascii: "I"):
      try expectWord("Infinity")
      return .double(.infinity)
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
      return try parseNumber()
    default:
      throw fail("unexpected character")
    }
  }

  mutating func parseObject(depth: Int) throws(JSONParseError) -> [JSONMember] {
    position += 1  // {
    var members: [JSONMember] = []
    skipSpace()
    if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
      position += 1
      return members
    }
    while true {
      skipSpace()
      guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
        throw fail("expected a key in quotes")
      }
      let key = try parseString()
      skipSpace()
      guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
        throw fail("expected ':' after a key")
      }
      position += 1
      skipSpace()
      let value = try parseValue(depth: depth + 1)
      members.append(JSONMember(key, value))
      skipSpace()
      guard position < bytes.count else { throw fail("unterminated object") }
      if bytes[position] == UInt8(ascii: ",") {
        position += 1
      } else if bytes[position] == UInt8(ascii: "}") {
        position += 1
        return members
      } else {
        throw fail("expected ',' or '}' in an object")
      }
    }
  }

  mutating func expectWord(_ word: StaticString) throws(JSONParseError) {
    let count = word.utf8CodeUnitCount
    guard position + count <= bytes.count else { throw fail("unexpected end of text") }
    let start = word.utf8Start
    for index in 0..<count where bytes[position + index] != start[index] {
      throw fail("unexpected character")
    }
    position += count
  }

  mutating func parseString() throws(JSONParseError) -> String {
    position += 1  // opening quote
    let start = position
    // Fast path: no escapes.
    while position < bytes.count {
      let byte = bytes[position]
      if byte == UInt8(ascii: "\"") {
        let text = String(
          decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        position += 1
        return text
      }
      if byte == UInt8(ascii: "\\") { break }
      if byte < 0x20 { throw fail("control character in a string") }
      position += 1
    }
    guard position < bytes.count else { throw fail("unterminated string") }
    var out = Array(UnsafeBufferPointer(rebasing: bytes[start..<position]))
    while position < bytes.count {
      let byte = bytes[position]
      if byte == UInt8(ascii: "\"") {
        position += 1
        return String(decoding: out, as: UTF8.self)
      }
      if byte < 0x20 { throw fail("control character in a string") }
      if byte != UInt8(ascii: "\\") {
        out.append(byte)
        position += 1
        continue
      }
      position += 1
      guard position < bytes.count else { break }
      let escape = bytes[position]
      position += 1
      switch escape {
      case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
      case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
      case UInt8(ascii: "/"): out.append(UInt8(ascii: "/"))
      case UInt8(ascii: "b"): out.append(0x08)
      case UInt8(ascii: "f"): out.append(0x0C)
      case UInt8(ascii: "n"): out.append(0x0A)
      case UInt8(ascii: "r"): out.append(0x0D)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "u"):
        var code = try parseHex4()
        if (0xD800..<0xDC00).contains(code), position + 6 <= bytes.count,
          bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
        {
          position += 2
          let low = try parseHex4()
          if (0xDC00..<0xE000).contains(low) {
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
          } else {
            code = 0xFFFD
          }
        }
        let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
        out.append(contentsOf: String(Character(scalar)).utf8)
      default:
        throw fail("unknown escape in a string")
      }
    }
    throw fail("unterminated string")
  }

  mutating func parseHex4() throws(JSONParseError) -> UInt32 {
    guard position + 4 <= bytes.count else { throw fail("short \\u escape") }
    var code: UInt32 = 0
    for _ in 0..<4 {
      let byte = bytes[position]
      let digit: UInt32
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
      default: throw fail("bad \\u escape")
      }
      code = code << 4 | digit
      position += 1
    }
    return code
  }

  /// Powers of ten that a Double holds exactly (for the exact fast path).
  static let exactPowers: [Double] = (0...22).map { exponent in
    var value = 1.0
    for _ in 0..<exponent { value *= 10 }
    return value
  }

  mutating func parseNumber() throws(JSONParseError) -> JSONValue {
    let start = position
    var negative = false
    if bytes[position] == UInt8(ascii: "-") {
      negative = true
      position += 1
      if position < bytes.count, bytes[position] == UInt8(ascii: "I") {
        try expectWord("Infinity")
        return .double(-.infinity)
      }
    }
    var mantissa: UInt64 = 0
    var digits = 0
    var integerDigits = 0
    while position < bytes.count, bytes[position] &- UInt8(ascii: "0") < 10 {
      if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(bytes[position] &- UInt8(ascii: "0")) }
      digits += 1
      integerDigits += 1
      position += 1
    }
    guard integerDigits > 0 else { throw fail("expected a digit") }
    var isInteger = true
    var fractionDigits = 0
    if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
      isInteger = false
      position += 1
      let fractionStart = position
      while position < bytes.count, bytes[position] &- UInt8(ascii: "0") < 10 {
        if digits < 19 {
          mantissa = mantissa &* 10 &+ UInt64(bytes[position] &- UInt8(ascii: "0"))
          fractionDigits += 1
        }
        digits += 1
        position += 1
      }
      guard position > fractionStart else { throw fail("expected a digit after '.'") }
    }
    var exponent = 0
    if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
      isInteger = false
      position += 1
      var exponentNegative = false
      if position < bytes.count, bytes[position] == UInt8(ascii: "-") || bytes[position] == 0x2B {
        exponentNegative = bytes[position] == UInt8(ascii: "-")
        position += 1
      }
      let exponentStart = position
      while position < bytes.count, bytes[position] &- UInt8(ascii: "0") < 10 {
        if exponent < 10_000 {
          exponent = exponent * 10 + Int(bytes[position] &- UInt8(ascii: "0"))
        }
        position += 1
      }
      guard position > exponentStart else { throw fail("expected a digit in the exponent") }
      if exponentNegative { exponent = -exponent }
    }
    if isInteger, digits <= 18 {
      let value = Int(mantissa)
      return .int(negative ? -value : value)
    }
    // 19 digits: an integer while it fits (up to Int.max, down to Int.min).
    if isInteger, digits == 19, mantissa <= UInt64(Int.max) + (negative ? 1 : 0) {
      return .int(negative ? Int(truncatingIfNeeded: 0 &- mantissa) : Int(mantissa))
    }
    // Exact fast path (Clinger): the mantissa and the power of ten are both exact Doubles.
    let scale = exponent - fractionDigits
    if digits < 19, mantissa <= 1 << 53, abs(scale) <= 22 {
      var value = Double(mantissa)
      if scale < 0 { value /= Self.exactPowers[-scale] } else { value *= Self.exactPowers[scale] }
      return .double(negative ? -value : value)
    }
    #if arch(x86_64)
      // Up to 19 digits: one correctly rounded Float80 operation, then rounding to Double, which
      // is exact unless the Float80 result sits exactly halfway between two Doubles.
      if digits <= 19, abs(scale) <= 27 {
        let exact = Float80(mantissa)
        let power = Self.exactPowers80[abs(scale)]
        let result = scale < 0 ? exact / power : exact * power
        if result.significandBitPattern & 0x7FF != 0x400 {
          return .double(negative ? -Double(result) : Double(result))
        }
      }
    #endif
    return .double(try slowDouble(from: start))
  }

  #if arch(x86_64)
    /// Powers of ten that a Float80 holds exactly (5^27 < 2^64).
    static let exactPowers80: [Float80] = (0...27).map { exponent in
      var value: Float80 = 1
      for _ in 0..<exponent { value *= 10 }
      return value
    }
  #endif

  /// The C locale for number parsing (a UI may have set a locale whose decimal mark is a comma).
  nonisolated(unsafe) static let cNumericLocale = newlocale(Int32(1 << LC_NUMERIC), "C", nil)

  /// A correctly rounded Double for the number text at `start..<position` (strtod in the C locale).
  func slowDouble(from start: Int) throws(JSONParseError) -> Double {
    guard position < bytes.count, let base = bytes.baseAddress, let locale = Self.cNumericLocale
    else {
      // No byte after the number to stop strtod: go through a String.
      let text = String(
        decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
      guard let value = Double(text) else { throw fail("bad number") }
      return value
    }
    let previous = uselocale(locale)
    defer { uselocale(previous) }
    var end: UnsafeMutablePointer<CChar>?
    let pointer = UnsafeMutableRawPointer(mutating: base + start).assumingMemoryBound(
      to: CChar.self)
    let value = strtod(pointer, &end)
    guard let end, pointer.distance(to: end) == position - start else {
      throw fail("bad number")
    }
    return value
  }
}
