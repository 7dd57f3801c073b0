import Foundation
import Yams

/// A config that cannot be used, with where the problem is: the key path (list positions count
/// from 1, e.g. `stages.2.replay`) and the YAML line and column, or the `--set` override it came from.
public struct ConfigError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The file (or other source name) the config came from.
  public var source: String
  public var line: Int?
  public var column: Int?
  /// e.g. `stages.2.replay`; empty for the whole document.
  public var keyPath: String
  public var message: String
  /// The `--set key=value` text when the offending value came from an override.
  public var override: String?
  /// Where that override was given, when not by `--set` (`--grid`, a sweep file's line): the
  /// message then names it so, e.g. `--grid stages.2.replay=150`.
  public var overrideOrigin: String?

  public init(
    source: String, line: Int? = nil, column: Int? = nil, keyPath: String, message: String,
    override: String? = nil
  ) {
    self.source = source
    self.line = line
    self.column = column
    self.keyPath = keyPath
    self.message = message
    self.override = override
  }

  /// `FILE:LINE:COLUMN: KEY.PATH: MESSAGE`, or `--set K=V: KEY.PATH: MESSAGE` for an override
  /// (`--grid K=V`, `FILE:LINE:COLUMN: grid value K=V` when `overrideOrigin` says so).
  public var description: String {
    var place = source
    if let override {
      place = "\(overrideOrigin ?? "--set") \(override)"
    } else if let line {
      place += ":\(line)"
      if let column { place += ":\(column)" }
    }
    return keyPath.isEmpty ? "\(place): \(message)" : "\(place): \(keyPath): \(message)"
  }
}

/// A parsed YAML document with positions, small enough to edit (overrides) before it is decoded.
struct ConfigNode {
  enum Value {
    case null
    /// A scalar's text; `quoted` when it was written in quotes (so it is text, never a number).
    case scalar(String, quoted: Bool)
    case list([ConfigNode])
    case map([ConfigEntry])
  }

  var value: Value
  var line: Int?
  var column: Int?
  /// The override text when this node came from `--set`.
  var origin: String?

  init(_ value: Value, line: Int? = nil, column: Int? = nil, origin: String? = nil) {
    self.value = value
    self.line = line
    self.column = column
    self.origin = origin
  }

  var entries: [ConfigEntry]? {
    if case .map(let entries) = value { return entries }
    return nil
  }

  subscript(key: String) -> ConfigNode? {
    entries?.first(where: { $0.key == key })?.value
  }

  /// A short description of the node's kind for type errors.
  var kindDescription: String {
    switch value {
    case .null: return "nothing"
    case .scalar(let text, _): return "\"\(text)\""
    case .list: return "a list"
    case .map: return "a map"
    }
  }

  var isNull: Bool {
    if case .null = value { return true }
    return false
  }
}

struct ConfigEntry {
  var key: String
  var keyLine: Int?
  var keyColumn: Int?
  var value: ConfigNode
}

/// One step of a key path: a map key or a list position (from 1).
enum KeyPathComponent: Equatable, CustomStringConvertible {
  case key(String)
  case index(Int)
  var description: String {
    switch self {
    case .key(let key): return key
    case .index(let index): return String(index)
    }
  }
}

func renderKeyPath(_ path: [KeyPathComponent]) -> String {
  path.map(\.description).joined(separator: ".")
}

extension ConfigNode {
  /// Parses YAML text into a tree. Duplicate keys are an error.
  static func parse(yaml: String, source: String, origin: String? = nil) throws(ConfigError)
    -> ConfigNode
  {
    try checkNesting(yaml, source: source, origin: origin)
    let node: Node?
    do {
      node = try Yams.compose(yaml: yaml)
    } catch let error as YamlError {
      throw yamlError(error, source: source, origin: origin)
    } catch {
      throw ConfigError(source: source, keyPath: "", message: "YAML: \(error)", override: origin)
    }
    guard let node else { return ConfigNode(.null, line: 1, column: 1, origin: origin) }
    var budget = maximumValues
    return try convert(node, path: [], source: source, origin: origin, budget: &budget)
  }

  /// Deepest nesting a config may have (flow `[`/`{` levels; indentation plus `- ` markers on one
  /// line): real configs stay under 10, and the YAML parser recurses once per level, so a few
  /// thousand levels (10 KB of `[`) would overflow its stack.
  static let maximumFlowDepth = 200
  static let maximumBlockDepth = 1000
  /// Most values a config may hold once YAML aliases are expanded (a 300-byte "billion laughs"
  /// file expands to 43 million; real configs hold a few hundred).
  static let maximumValues = 100_000

  /// Bytes after which a quote opens a quoted scalar.
  private static let scalarStarts: Set<UInt8> = Set(":-[{,?\n".utf8)

  /// Refuses text nested deeper than the limits above, naming the line, before the parser sees it.
  private static func checkNesting(_ yaml: String, source: String, origin: String?)
    throws(ConfigError)
  {
    var flow = 0
    var quote: UInt8?
    var escaped = false
    var line = 1
    var atLineStart = true
    var lineDepth = 0
    var inComment = false
    // The last byte outside quotes that was not a space: a quote opens a quoted scalar only where
    // a scalar starts (after `:`, `-`, `[`, `{`, `,`, `?` or at a line's start); elsewhere (`5"
    // floppy`) it is text. Quotes end at the line's end here, so no quote hides later lines.
    var previous: UInt8 = UInt8(ascii: "\n")
    func tooDeep(_ what: String) -> ConfigError {
      ConfigError(
        source: source, line: line, column: nil, keyPath: "",
        message: "nested too deeply (\(what)); a config needs a few levels", override: origin)
    }
    for byte in yaml.utf8 {
      if byte == UInt8(ascii: "\n") {
        line += 1
        atLineStart = true
        lineDepth = 0
        inComment = false
        quote = nil
        escaped = false
        previous = byte
        continue
      }
      if inComment { continue }
      if atLineStart {
        if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "\t") {
          lineDepth += 1
          if lineDepth > maximumBlockDepth { throw tooDeep("over \(maximumBlockDepth) levels") }
          continue
        }
        atLineStart = false
      }
      if let open = quote {
        if escaped {
          escaped = false
        } else if open == UInt8(ascii: "\"") && byte == UInt8(ascii: "\\") {
          escaped = true
        } else if byte == open {
          quote = nil
          previous = byte
        }
        continue
      }
      defer { if byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\t") { previous = byte } }
      switch byte {
      case UInt8(ascii: "'"), UInt8(ascii: "\""):
        if Self.scalarStarts.contains(previous) { quote = byte }
      case UInt8(ascii: "#"): inComment = true
      case UInt8(ascii: "["), UInt8(ascii: "{"):
        flow += 1
        if flow > maximumFlowDepth { throw tooDeep("over \(maximumFlowDepth) levels of [ or {") }
      case UInt8(ascii: "]"), UInt8(ascii: "}"): flow = max(0, flow - 1)
      default: break
      }
    }
  }

  private static func yamlError(_ error: YamlError, source: String, origin: String?) -> ConfigError
  {
    switch error {
    case .scanner(let context, let problem, let mark, _),
      .parser(let context, let problem, let mark, _),
      .composer(let context, let problem, let mark, _):
      let detail = context.map { "\(problem) \($0.text)" } ?? problem
      return ConfigError(
        source: source, line: mark.line, column: mark.column, keyPath: "",
        message: "YAML syntax: \(detail)", override: origin)
    default:
      return ConfigError(source: source, keyPath: "", message: "YAML: \(error)", override: origin)
    }
  }

  private static func convert(
    _ node: Node, path: [KeyPathComponent], source: String, origin: String?, budget: inout Int
  ) throws(ConfigError) -> ConfigNode {
    let line = node.mark?.line
    let column = node.mark?.column
    budget -= 1
    if budget < 0 {
      throw ConfigError(
        source: source, line: line, column: column, keyPath: renderKeyPath(path),
        message: "the config expands to over \(maximumValues) values (YAML aliases?)",
        override: origin)
    }
    switch node {
    case .scalar(let scalar):
      let quoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted
      if !quoted, ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
        return ConfigNode(.null, line: line, column: column, origin: origin)
      }
      return ConfigNode(
        .scalar(scalar.string, quoted: quoted), line: line, column: column, origin: origin)
    case .sequence(let sequence):
      var items: [ConfigNode] = []
      for (index, item) in sequence.enumerated() {
        items.append(
          try convert(
            item, path: path + [.index(index + 1)], source: source, origin: origin,
            budget: &budget))
      }
      return ConfigNode(.list(items), line: line, column: column, origin: origin)
    case .mapping(let mapping):
      var entries: [ConfigEntry] = []
      var keyLines: [String: Int] = [:]
      for (keyNode, valueNode) in mapping {
        guard let key = keyNode.scalar?.string else {
          throw ConfigError(
            source: source, line: keyNode.mark?.line, column: keyNode.mark?.column,
            keyPath: renderKeyPath(path), message: "keys must be plain text", override: origin)
        }
        if let earlier = keyLines[key] {
          throw ConfigError(
            source: source, line: keyNode.mark?.line, column: keyNode.mark?.column,
            keyPath: renderKeyPath(path + [.key(key)]),
            message: "appears twice (first on line \(earlier))", override: origin)
        }
        keyLines[key] = keyNode.mark?.line ?? 0
        let value = try convert(
          valueNode, path: path + [.key(key)], source: source, origin: origin, budget: &budget)
        entries.append(
          ConfigEntry(
            key: key, keyLine: keyNode.mark?.line, keyColumn: keyNode.mark?.column, value: value))
      }
      return ConfigNode(.map(entries), line: line, column: column, origin: origin)
    }
  }
}

// MARK: - Overrides

/// Parses `key.path=value` override texts and applies them to a tree before it is decoded.
enum ConfigOverrides {
  /// Splits `stages.2.replay=25` into its path and value; `stage2.x` is read as `stages.2.x`.
  static func split(_ text: String, source: String) throws(ConfigError) -> (
    path: [KeyPathComponent], value: String
  ) {
    guard let equals = text.firstIndex(of: "=") else {
      throw ConfigError(
        source: source, keyPath: "", message: "expected key.path=value", override: text)
    }
    let pathText = text[..<equals].trimmingCharacters(in: .whitespaces)
    let value = String(text[text.index(after: equals)...])
    guard !pathText.isEmpty else {
      throw ConfigError(source: source, keyPath: "", message: "missing key path", override: text)
    }
    var path: [KeyPathComponent] = []
    for part in pathText.split(separator: ".", omittingEmptySubsequences: false) {
      let component = String(part)
      if component.isEmpty {
        throw ConfigError(
          source: source, keyPath: pathText, message: "empty part in key path", override: text)
      }
      if let index = Int(component) {
        path.append(.index(index))
      } else if component.hasPrefix("stage"), component != "stages",
        let index = Int(component.dropFirst("stage".count)), path.isEmpty
      {
        path += [.key("stages"), .index(index)]
      } else {
        path.append(.key(component))
      }
    }
    return (path, value)
  }

  /// Applies one override to the tree.
  static func apply(_ text: String, to root: inout ConfigNode, source: String) throws(ConfigError) {
    let (path, valueText) = try split(text, source: source)
    var value = try ConfigNode.parse(yaml: valueText, source: source, origin: text)
    if value.isNull, valueText.trimmingCharacters(in: .whitespaces).isEmpty {
      value = ConfigNode(.scalar("", quoted: true), origin: text)
    }
    try set(value, at: path[...], in: &root, walked: [], source: source, text: text)
  }

  private static func set(
    _ value: ConfigNode, at path: ArraySlice<KeyPathComponent>, in node: inout ConfigNode,
    walked: [KeyPathComponent], source: String, text: String
  ) throws(ConfigError) {
    guard let first = path.first else {
      node = value
      return
    }
    let here = walked + [first]
    switch first {
    case .key(let key):
      if node.isNull { node = ConfigNode(.map([]), origin: text) }
      guard case .map(var entries) = node.value else {
        throw ConfigError(
          source: source, keyPath: renderKeyPath(walked),
          message: "is \(node.kindDescription), not a map, so it has no key \"\(key)\"",
          override: text)
      }
      if let index = entries.firstIndex(where: { $0.key == key }) {
        try set(
          value, at: path.dropFirst(), in: &entries[index].value, walked: here, source: source,
          text: text)
      } else {
        var child = ConfigNode(.null, origin: text)
        try set(value, at: path.dropFirst(), in: &child, walked: here, source: source, text: text)
        entries.append(ConfigEntry(key: key, keyLine: nil, keyColumn: nil, value: child))
      }
      // A stage's length is tokens or steps: setting one replaces the other.
      if path.count == 1, let other = ["tokens": "steps", "steps": "tokens"][key] {
        entries.removeAll { $0.key == other }
      }
      node.value = .map(entries)
    case .index(let index):
      guard case .list(var items) = node.value else {
        throw ConfigError(
          source: source, keyPath: renderKeyPath(walked),
          message: "is \(node.kindDescription), not a list, so it has no entry \(index)",
          override: text)
      }
      guard index >= 1 else {
        throw ConfigError(
          source: source, keyPath: renderKeyPath(here),
          message: "list positions count from 1", override: text)
      }
      if index == items.count + 1 {
        items.append(ConfigNode(.null, origin: text))
      } else if index > items.count {
        throw ConfigError(
          source: source, keyPath: renderKeyPath(here),
          message:
            "\(renderKeyPath(walked)) has \(items.count) entr\(items.count == 1 ? "y" : "ies")",
          override: text)
      }
      try set(
        value, at: path.dropFirst(), in: &items[index - 1], walked: here, source: source,
        text: text)
      node.value = .list(items)
    }
  }
}
