// Themes: small text files that give every colour role a look (docs/themes.md), a parser that names
// file, line and field when something is wrong, and a loader that searches `--theme NAME|PATH`,
// `$XDG_CONFIG_HOME/cptui/themes`, then the `themes/` folder next to the executable or repository.

import Foundation
import Spelling
import Terminal

/// A parsed theme.
public struct Theme: Sendable, Equatable {
  public var name: String
  public var palette: Palette

  public init(name: String, palette: Palette) {
    self.name = name
    self.palette = palette
  }
}

/// A theme file that could not be used.
public struct ThemeError: Error, Sendable, Equatable, CustomStringConvertible {
  public var file: String
  public var line: Int
  public var field: String
  public var message: String

  public init(file: String, line: Int, field: String, message: String) {
    self.file = file
    self.line = line
    self.field = field
    self.message = message
  }

  public var description: String {
    if line == 0 { return "\(file): \(message)" }
    if field.isEmpty { return "\(file):\(line): \(message)" }
    // A field is text from the file: a long or binary line is cut so the error stays one line.
    let shown = field.count > 40 ? String(field.prefix(40)) + "…" : field
    return "\(file):\(line): \(shown): \(message)"
  }

  /// The description with the file's last path component only: fits the screen's notice line
  /// when `t` reaches a theme that does not load ("dusk.theme:4: text: unknown colour `teel`").
  public var brief: String {
    var short = self
    if file.contains("/") { short.file = URL(fileURLWithPath: file).lastPathComponent }
    return short.description
  }
}

public enum ThemeParser {
  static let colorNames = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]

  /// Parses a theme file's text. `file` is used in error messages only.
  public static func parse(_ text: String, file: String) throws(ThemeError) -> Theme {
    var name = ""
    var roles: [ColorRole: RoleStyle] = [:]
    var lineNumber = 0
    // Where each key was first given: a key given twice is refused, as configs refuse it (the
    // second would silently win).
    var seen: [String: Int] = [:]
    for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
      lineNumber += 1
      var line = Substring(rawLine)
      if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
      let trimmed = String(line).trimmingSpaces()
      if trimmed.isEmpty { continue }
      guard let eq = trimmed.firstIndex(of: "=") else {
        throw ThemeError(
          file: file, line: lineNumber, field: trimmed,
          message: "expected `role = colour [on colour] [attributes]`")
      }
      let key = String(trimmed[..<eq]).trimmingSpaces()
      let value = String(trimmed[trimmed.index(after: eq)...]).trimmingSpaces()
      if let first = seen[key] {
        throw ThemeError(
          file: file, line: lineNumber, field: key, message: "given twice (first on line \(first))")
      }
      seen[key] = lineNumber
      if key == "name" {
        name = value
        continue
      }
      let eight = key.hasSuffix("@8")
      let roleName = eight ? String(key.dropLast(2)) : key
      guard let role = ColorRole(name: roleName) else {
        let names = ColorRole.allCases.map(\.name)
        var message = "unknown role"
        if let close = Spelling.suggestion(for: roleName, among: ["name"] + names) {
          message += " (did you mean `\(close)\(eight && close != "name" ? "@8" : "")`?)"
        }
        message += " (known: name, \(names.joined(separator: ", ")))"
        throw ThemeError(file: file, line: lineNumber, field: key, message: message)
      }
      let spec: (TermColor, TermColor?, TextAttributes)
      do {
        spec = try parseValue(value)
      } catch {
        throw ThemeError(file: file, line: lineNumber, field: key, message: error.message)
      }
      var rs = roles[role] ?? RoleStyle()
      if eight {
        rs.foreground8 = spec.0
        if let bg = spec.1 { rs.background8 = bg }
        rs.attributes8 = spec.2
      } else {
        rs.foreground = spec.0
        rs.background = spec.1 ?? .terminalDefault
        rs.attributes = spec.2
      }
      roles[role] = rs
    }
    if name.isEmpty {
      throw ThemeError(
        file: file, line: 0, field: "name", message: "the theme has no `name = …` line")
    }
    return Theme(name: name, palette: Palette(roles: roles))
  }

  /// `FG [on BG] [attrs…]`.
  static func parseValue(_ value: String) throws(EntryError) -> (
    TermColor, TermColor?, TextAttributes
  ) {
    let words = value.split(separator: " ").map(String.init)
    guard let first = words.first else {
      // `text = #ff0000` reads as an empty value: `#` starts a comment.
      throw EntryError("missing colour (a name or 0–255; # starts a comment, so no #rrggbb)")
    }
    let fg = try color(first)
    var bg: TermColor?
    var attrs: TextAttributes = []
    var i = 1
    while i < words.count {
      let w = words[i].lowercased()
      switch w {
      case "on":
        guard i + 1 < words.count else { throw EntryError("`on` needs a background colour") }
        bg = try color(words[i + 1])
        i += 1
      case "bold": attrs.insert(.bold)
      case "dim": attrs.insert(.dim)
      case "reverse": attrs.insert(.reverse)
      case "underline": attrs.insert(.underline)
      default:
        let attributes = ["bold", "dim", "reverse", "underline"]
        var message = "unknown word `\(words[i])`"
        if let close = Spelling.suggestion(for: w, among: attributes + ["on"]) {
          message += " (did you mean `\(close)`?)"
        }
        throw EntryError(message + " (attributes: bold dim reverse underline)")
      }
      i += 1
    }
    return (fg, bg, attrs)
  }

  static func color(_ word: String) throws(EntryError) -> TermColor {
    let w = word.lowercased()
    if w == "default" { return .terminalDefault }
    if let n = Int(w) {
      guard (0...255).contains(n) else { throw EntryError("colour \(n) is not in 0–255") }
      return .index(UInt8(n))
    }
    if let k = colorNames.firstIndex(of: w) { return .index(UInt8(k)) }
    if w.hasPrefix("bright-"), let k = colorNames.firstIndex(of: String(w.dropFirst(7))) {
      return .index(UInt8(k + 8))
    }
    if w == "gray" || w == "grey" { return .index(8) }
    var message = "unknown colour `\(word)`"
    let names = colorNames + colorNames.map { "bright-" + $0 } + ["default", "gray", "grey"]
    if let close = Spelling.suggestion(for: w, among: names) {
      message += " (did you mean `\(close)`?)"
    }
    throw EntryError(message + " (default, a name such as red or bright-blue, or 0–255)")
  }
}

/// Finds and loads themes.
public struct ThemeLoader: Sendable {
  /// Folders searched for NAME.theme, in order.
  public var directories: [String]

  public init(directories: [String]) {
    self.directories = directories
  }

  /// The usual search path: `$XDG_CONFIG_HOME/cptui/themes` (or ~/.config/cptui/themes), then a
  /// `themes/` folder found by walking up from the executable, then from the working directory.
  public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment)
    -> ThemeLoader
  {
    var dirs: [String] = []
    if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty {
      dirs.append(xdg + "/cptui/themes")
    } else if let home = environment["HOME"], !home.isEmpty {
      dirs.append(home + "/.config/cptui/themes")
    }
    let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath()
    for start in [
      exe.deletingLastPathComponent(),
      URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
    ] {
      var dir = start
      for _ in 0..<6 {
        let candidate = dir.appendingPathComponent("themes").path
        if FileManager.default.fileExists(atPath: candidate + "/dark.theme"),
          !dirs.contains(candidate)
        {
          dirs.append(candidate)
          break
        }
        dir = dir.deletingLastPathComponent()
      }
    }
    return ThemeLoader(directories: dirs)
  }

  /// Loads `--theme NAME|PATH`: a path (contains `/` or ends in `.theme`) is read as is; a name is
  /// looked up in `directories`, then among the built-in themes.
  public func load(_ nameOrPath: String) throws(ThemeError) -> Theme {
    if nameOrPath.contains("/") || nameOrPath.hasSuffix(".theme") {
      return try loadFile(nameOrPath)
    }
    for dir in directories {
      let path = dir + "/" + nameOrPath + ".theme"
      if FileManager.default.fileExists(atPath: path) { return try loadFile(path) }
    }
    if let text = BuiltinThemes.text[nameOrPath] {
      return try ThemeParser.parse(text, file: "built-in theme \(nameOrPath)")
    }
    throw ThemeError(
      file: nameOrPath, line: 0, field: "",
      message:
        "no theme named `\(nameOrPath)` (available: \(availableNames().joined(separator: ", ")))")
  }

  /// The palette to use on a terminal with `colors` colours: with none (NO_COLOR, or a terminal
  /// without colour) the monochrome theme, whose lines differ by attributes, whatever was chosen.
  public func palette(for theme: Theme, colors: Int) -> Palette {
    guard colors == 0, theme.name != "mono" else { return theme.palette }
    return (try? load("mono").palette) ?? .monochrome
  }

  /// Reads and parses one file.
  public func loadFile(_ path: String) throws(ThemeError) -> Theme {
    guard let data = FileManager.default.contents(atPath: path) else {
      var isFolder: ObjCBool = false
      let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
      let reason =
        !exists
        ? "no such file"
        : isFolder.boolValue ? "a folder, not a theme file" : "cannot read the file"
      throw ThemeError(file: path, line: 0, field: "", message: reason)
    }
    if data.contains(0) {
      throw ThemeError(
        file: path, line: 0, field: "",
        message: "not a theme file (binary data); see themes/*.theme")
    }
    // Text that is not UTF-8 is named by its line (decoded, it read "??name: unknown role").
    guard let text = String(data: data, encoding: .utf8) else {
      let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
      let bad = lines.firstIndex { String(data: Data($0), encoding: .utf8) == nil } ?? 0
      throw ThemeError(
        file: path, line: bad + 1, field: "", message: "cannot read it as UTF-8 text")
    }
    return try ThemeParser.parse(text, file: path)
  }

  /// Theme names for cycling: the built-in ones first, then other files found, sorted.
  public func availableNames() -> [String] {
    var names = BuiltinThemes.order
    var extra: [String] = []
    for dir in directories {
      let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
      for f in files where f.hasSuffix(".theme") {
        let n = String(f.dropLast(6))
        if !names.contains(n) && !extra.contains(n) { extra.append(n) }
      }
    }
    names += extra.sorted()
    return names
  }
}
