// Theme files: the shipped ones parse and match the built-in copies; bad files name file, line
// and field; the loader finds names and paths.

import Foundation
import Testing

@testable import Screens
@testable import Terminal

struct ThemeTests {
  static let repoThemes = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("themes").path

  @Test(arguments: ["dark", "light", "high-contrast", "mono"])
  func shippedThemesParse(name: String) throws {
    let loader = ThemeLoader(directories: [Self.repoThemes])
    let theme = try loader.load(name)
    #expect(theme.name == name)
    for role in ColorRole.seriesRoles { #expect(theme.palette.roles[role] != nil) }
    let file = try String(contentsOfFile: Self.repoThemes + "/\(name).theme", encoding: .utf8)
    #expect(
      BuiltinThemes.text[name] == file.trimmingCharacters(in: .newlines),
      "Sources/Screens/BuiltinThemes.swift is out of date with themes/\(name).theme")
  }

  /// The eight series of every shipped theme look different from each other and from the stage
  /// marker, in 256 colours and on 8-colour terminals alike (colour and attributes together). The
  /// review found mono's series 1 and 5 both plain, dark's 5 and 8 both white on 8 colours, and
  /// light's series 5 the marker's colour.
  @Test(arguments: ["dark", "light", "high-contrast", "mono"])
  func seriesCanBeToldApart(name: String) throws {
    let theme = try ThemeLoader(directories: [Self.repoThemes]).load(name)
    let series = ColorRole.seriesRoles.map { theme.palette[$0] }
    let full = series.map { "\($0.foreground) \($0.attributes.rawValue)" }
    #expect(Set(full).count == series.count, "\(name): \(full)")
    let marker = theme.palette[.marker]
    #expect(
      !series.contains { $0.foreground == marker.foreground && $0.attributes == marker.attributes },
      "\(name): a series looks like the marker")
    let eight = series.map {
      "\($0.foreground8.map { "\($0)" } ?? "\($0.foreground)") \(($0.attributes8 ?? $0.attributes).rawValue)"
    }
    #expect(Set(eight).count == series.count, "\(name) @8: \(eight)")
  }

  @Test func valuesAndEightColourOverrides() throws {
    let t = try ThemeParser.parse(
      "name = t\ntext = 252 on black\nseries1 = bright-blue bold\nseries1@8 = cyan", file: "t")
    #expect(t.palette[.text] == RoleStyle(foreground: .index(252), background: .index(0)))
    #expect(t.palette[.series1].foreground == .index(12))
    #expect(t.palette[.series1].attributes == .bold)
    #expect(t.palette[.series1].foreground8 == .index(6))
    #expect(t.palette[.series1].attributes8 == [])  // an @8 line describes the whole 8-colour look
    #expect(t.palette[.axis] == t.palette[.text])  // unset roles fall back to text
  }

  @Test(arguments: [
    ("name = x\nsereis1 = red", 2, "sereis1", "unknown role (did you mean `series1`?)"),
    ("name = x\nsereis1@8 = red", 2, "sereis1@8", "(did you mean `series1@8`?)"),
    ("name = x\ntext = gren", 2, "text", "unknown colour `gren` (did you mean `green`?)"),
    ("name = x\ntext = red on bright-bleu", 2, "text", "(did you mean `bright-blue`?)"),
    ("name = x\ntext = red bodl", 2, "text", "unknown word `bodl` (did you mean `bold`?)"),
    ("name = x\n\ntext = 300", 3, "text", "0–255"),
    ("name = x\ntext = red on", 2, "text", "background"),
    ("name = x\ntext = red blink", 2, "text", "unknown word `blink` (attributes:"),
    ("name = x\njust words", 2, "just words", "expected"),
    ("text = red", 0, "name", "no `name"),
    ("name = x\ntext = red\n\ntext = blue", 4, "text", "given twice (first on line 2)"),
    ("name = x\nname = y", 2, "name", "given twice"),
    ("name = x\ntext = #ff0000", 2, "text", "# starts a comment"),
  ])
  func errorsNameFileLineAndField(bad: (String, Int, String, String)) {
    do {
      _ = try ThemeParser.parse(bad.0, file: "bad.theme")
      Issue.record("should fail")
    } catch {
      #expect(error.file == "bad.theme")
      #expect(error.line == bad.1)
      #expect(error.field == bad.2)
      #expect(error.description.contains(bad.3), "\(error.description)")
    }
  }

  @Test func loaderSearchOrder() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-theme-test-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    try "name = dark\ntext = red\n".write(
      to: dir.appendingPathComponent("dark.theme"), atomically: true, encoding: .utf8)
    try "name = mine\ntext = 1\n".write(
      to: dir.appendingPathComponent("mine.theme"), atomically: true, encoding: .utf8)
    let loader = ThemeLoader(directories: [dir.path, Self.repoThemes])
    #expect(try loader.load("dark").palette[.text].foreground == .index(1))  // user dir wins
    #expect(try loader.load("mine").name == "mine")
    #expect(try loader.load(dir.path + "/mine.theme").name == "mine")
    #expect(loader.availableNames() == ["dark", "light", "high-contrast", "mono", "mine"])
    #expect(throws: ThemeError.self) { try loader.load("nope") }
    // A path that is no file says why.
    for (path, reason) in [(dir.path + "/none.theme", "no such file"), (dir.path, "a folder")] {
      do {
        _ = try loader.loadFile(path)
        Issue.record("\(path) loaded")
      } catch {
        #expect(error.description.contains(reason), "\(error.description)")
      }
    }
    // Text that is not UTF-8 is named by its line (it read "??name: unknown role").
    let latin1 = dir.appendingPathComponent("latin1.theme").path
    _ = FileManager.default.createFile(
      atPath: latin1, contents: Data("name = x\ntext = red # caf".utf8 + [0xE9, 0x0A]))
    do {
      _ = try loader.loadFile(latin1)
      Issue.record("latin1.theme loaded")
    } catch {
      #expect(error.description == "\(latin1):2: cannot read it as UTF-8 text", "\(error)")
    }
    // Cycling with `t` to a broken theme names its file, line and field in the short notice.
    try "name = broken\n\ntext = teel\n".write(
      to: dir.appendingPathComponent("broken.theme"), atomically: true, encoding: .utf8)
    do {
      _ = try loader.load("broken")
      Issue.record("broken.theme loaded")
    } catch {
      #expect(error.brief.hasPrefix("broken.theme:3: text"), "\(error.brief)")
      #expect(error.description.hasPrefix(dir.path + "/broken.theme:3"), "\(error.description)")
    }
    // With no folders at all, the built-in copies still work.
    #expect(try ThemeLoader(directories: []).load("mono").name == "mono")
    let env = ["XDG_CONFIG_HOME": "/x"]
    #expect(ThemeLoader.standard(environment: env).directories.first == "/x/cptui/themes")
  }
}
