import Foundation

/// A JSON value that keeps the order of object keys (so a logged config reads like the file it came
/// from) and tells integers from other numbers (so seeds and token counts stay exact).
///
/// Numbers that JSON cannot spell (NaN, ±Infinity) are written as the strings `"NaN"`, `"Infinity"`
/// and `"-Infinity"`; the reader also accepts the bare tokens `NaN`, `Infinity` and `-Infinity`
/// that Python's `json.dumps` writes by default.
public enum JSONValue: Sendable, Hashable {
  case null
  case bool(Bool)
  case int(Int)
  case double(Double)
  case string(String)
  case array([JSONValue])
  /// An object as its ordered key/value pairs.
  case object([JSONMember])

  /// The value as a Double, for `.int`, `.double` and the strings `"NaN"`, `"Infinity"`,
  /// `"-Infinity"`; nil otherwise.
  public var doubleValue: Double? {
    switch self {
    case .int(let value): return Double(value)
    case .double(let value): return value
    case .string(let text): return JSONValue.nonFiniteNumber(text)
    default: return nil
    }
  }

  /// The value as an Int, for `.int` and integral `.double`s; nil otherwise.
  public var intValue: Int? {
    switch self {
    case .int(let value): return value
    case .double(let value):
      guard value.rounded() == value, abs(value) < 9.0e18 else { return nil }
      return Int(value)
    default: return nil
    }
  }

  public var stringValue: String? {
    if case .string(let text) = self { return text }
    return nil
  }

  public var boolValue: Bool? {
    if case .bool(let flag) = self { return flag }
    return nil
  }

  public var arrayValue: [JSONValue]? {
    if case .array(let items) = self { return items }
    return nil
  }

  public var objectValue: [JSONMember]? {
    if case .object(let members) = self { return members }
    return nil
  }

  /// The value of `key` when this is an object (the last one if a key repeats).
  public subscript(key: String) -> JSONValue? {
    guard case .object(let members) = self else { return nil }
    return members.last(where: { $0.key == key })?.value
  }

  /// A Double that JSON cannot hold, from its string spelling.
  static func nonFiniteNumber(_ text: String) -> Double? {
    switch text {
    case "NaN", "nan": return .nan
    case "Infinity", "inf", "+Infinity": return .infinity
    case "-Infinity", "-inf": return -.infinity
    default: return nil
    }
  }

  /// A Double as a JSON value: non-finite values become their string spelling.
  public static func number(_ value: Double) -> JSONValue {
    value.isFinite ? .double(value) : .string(JSONText.nonFiniteSpelling(value))
  }
}

/// One key/value pair of a JSON object.
public struct JSONMember: Sendable, Hashable {
  public var key: String
  public var value: JSONValue
  public init(_ key: String, _ value: JSONValue) {
    self.key = key
    self.value = value
  }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral,
  ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
  ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
  public init(nilLiteral: ()) { self = .null }
  public init(booleanLiteral value: Bool) { self = .bool(value) }
  public init(integerLiteral value: Int) { self = .int(value) }
  public init(floatLiteral value: Double) { self = .double(value) }
  public init(stringLiteral value: String) { self = .string(value) }
  public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
  public init(dictionaryLiteral elements: (String, JSONValue)...) {
    self = .object(elements.map { JSONMember($0.0, $0.1) })
  }
}

extension JSONValue: CustomStringConvertible {
  /// Compact JSON text.
  public var description: String { JSONText.encode(self) }
}

extension JSONValue: Codable {
  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    // Codable cannot see raw JSON text, so this goes through the generic containers.
    if container.decodeNil() {
      self = .null
    } else if let flag = try? container.decode(Bool.self) {
      self = .bool(flag)
    } else if let value = try? container.decode(Int.self) {
      self = .int(value)
    } else if let value = try? container.decode(Double.self) {
      self = .double(value)
    } else if let text = try? container.decode(String.self) {
      self = .string(text)
    } else if let items = try? container.decode([JSONValue].self) {
      self = .array(items)
    } else {
      let dictionary = try container.decode([String: JSONValue].self)
      self = .object(dictionary.keys.sorted().map { JSONMember($0, dictionary[$0]!) })
    }
  }

  public func encode(to encoder: any Encoder) throws {
    if case .object(let members) = self {
      // A keyed container keeps the members' order with encoders that keep insertion order.
      var keyed = encoder.container(keyedBy: MemberKey.self)
      for member in members { try keyed.encode(member.value, forKey: MemberKey(member.key)) }
      return
    }
    var container = encoder.singleValueContainer()
    switch self {
    case .null, .object: try container.encodeNil()
    case .bool(let flag): try container.encode(flag)
    case .int(let value): try container.encode(value)
    case .double(let value):
      if value.isFinite {
        try container.encode(value)
      } else {
        try container.encode(JSONText.nonFiniteSpelling(value))
      }
    case .string(let text): try container.encode(text)
    case .array(let items): try container.encode(items)
    }
  }
}

/// A coding key for any object member name.
private struct MemberKey: CodingKey {
  var stringValue: String
  var intValue: Int? { nil }
  init(_ name: String) { stringValue = name }
  init?(stringValue: String) { self.stringValue = stringValue }
  init?(intValue: Int) { nil }
}
