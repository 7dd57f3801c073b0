// Names and notes from files are data: run names, stage and dataset names, notes, theme names and
// config keys with terminal escapes, bidi controls, invalid UTF-8 and very long strings are shown
// escaped or cut, on the screen (tmux: the pane title is not changed, modes are sane afterwards)
// and in what `compare` and error messages print.

import Foundation
import Testing

@Suite(.serialized) struct HostileTextTests {
  /// Escapes that would retitle the pane, clear the screen, recolour, ring the bell, reverse text.
  static let evil = "ev\u{1B}]0;pwned\u{7}il\u{202E}\u{1B}[2J\u{1B}[31m\u{9B}6n\u{2066}"
  static let invalidUTF8: [UInt8] = [0xFF, 0xFE, 0xC3, 0x28, 0xED, 0xA0, 0x80]

  /// The shipped sample log with hostile text in the run name, stage names, dataset names and a
  /// note; returns its path and the bytes of hostile text it carries.
  static func hostileLog() throws -> (path: String, hostileBytes: Int) {
    let lines = try String(contentsOfFile: ReplayScreenTests.sample, encoding: .utf8)
      .split(separator: "\n")
    var out = Data()
    var hostile = 0
    let long = String(repeating: "L", count: 10_000)
    for (i, line) in lines.enumerated() {
      guard var e = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
      else { continue }
      switch e["type"] as? String {
      case "header":
        e["runName"] = evil + long
        e["datasets"] = (e["datasets"] as? [String] ?? []).map { $0 + evil }
        hostile += evil.utf8.count + long.utf8.count + 2 * evil.utf8.count
      case "stageStart":
        e["name"] = "stage" + evil
        hostile += evil.utf8.count
      default: break
      }
      out.append(try JSONSerialization.data(withJSONObject: e))
      out.append(0x0A)
      if i == 3 {
        // A note whose text holds invalid UTF-8 bytes (written raw into the JSON string).
        out.append(Data(#"{"type":"note","text":"bad "#.utf8))
        out.append(contentsOf: invalidUTF8)
        out.append(Data(#" bytes\u001b[5m","step":1}"#.utf8))
        out.append(0x0A)
        hostile += invalidUTF8.count + 6
      }
    }
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-hostile-\(getpid()).jsonl"
    ).path
    try out.write(to: URL(fileURLWithPath: path))
    return (path, hostile)
  }

  static func expectHarmless(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let bad = text.unicodeScalars.filter {
      ($0.value < 0x20 && $0 != "\n" && $0 != "\t") || (0x7F...0x9F).contains($0.value)
        || [0x202E, 0x2066].contains($0.value)
    }
    #expect(
      bad.isEmpty, "raw control characters: \(bad.map { $0.value })", sourceLocation: sourceLocation
    )
  }

  @Test(.enabled(if: LiveScreenTests.tmuxAvailable), .timeLimit(.minutes(1)))
  func replayShowsHostileNamesHarmlessly() throws {
    let (path, hostileBytes) = try Self.hostileLog()
    let command = "'\(CLI.binary)' replay '\(path)'; " + SignalTests.afterwards
    let tmux = try TmuxSession(command: command)
    defer { tmux.close() }
    let screen = try tmux.waitFor(text: "stage 2/2")
    // Shown as text (escape characters dropped), not obeyed: the title is unchanged, the screen
    // was not cleared, no line is longer than the pane.
    #expect(screen.contains("]0;pwned"))
    let title = tmux.tmux(["display-message", "-p", "-t", tmux.name, "#{pane_title}"]).output
    #expect(!title.contains("pwned"), "pane title: \(title)")
    #expect(screen.split(separator: "\n").allSatisfy { $0.count <= 120 })
    Self.expectHarmless(screen)
    tmux.send("q")
    try tmux.waitFor(text: "CPTUI-EXIT=0")
    try SignalTests.expectRestoredTerminal(tmux)
    FileHandle.standardError.write(Data("hostile text shown: \(hostileBytes) bytes\n".utf8))
  }

  /// A foreign log whose dataset is named like a measure column is left out; when that leaves no
  /// run, compare refuses (it printed an empty table and exited 0).
  @Test func compareRefusesWhenEveryLogIsLeftOut() throws {
    let text = try String(contentsOfFile: ReplayScreenTests.sample, encoding: .utf8)
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-avg-dataset-\(getpid()).jsonl"
    ).path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try text.replacingOccurrences(of: "\"D1\"", with: "\"avg\"").write(
      toFile: path, atomically: true, encoding: .utf8)
    let alone = try CLI.run(["compare", path])
    #expect(alone.status == 1, "\(alone.stdout)")
    #expect(alone.stdout.isEmpty, "\(alone.stdout)")
    #expect(alone.stderr.contains("\(path): left out: its dataset \"avg\""), "\(alone.stderr)")
    #expect(alone.stderr.contains("no run to compare"), "\(alone.stderr)")
    let withOurs = try CLI.run(["compare", path, ReplayScreenTests.sample])
    #expect(withOurs.status == 0, "\(withOurs.stderr)")
    #expect(withOurs.stdout.contains("strong-shift"), "\(withOurs.stdout)")
  }

  @Test func compareAndErrorsPrintNoRawControls() throws {
    let (path, _) = try Self.hostileLog()
    let compare = try CLI.run(["compare", path])
    #expect(compare.status == 0, "\(compare.stderr)")
    #expect(compare.stdout.contains("]0;pwned"))
    Self.expectHarmless(compare.stdout)
    #expect(compare.stdout.split(separator: "\n").allSatisfy { $0.count < 300 })

    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-hostile-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let theme = dir.appendingPathComponent("evil.theme").path
    try "name = \(Self.evil)\ntext = re\(Self.evil)d\n".write(
      toFile: theme, atomically: true, encoding: .utf8)
    let badTheme = try CLI.run(["tiny-live", "--theme", theme])
    #expect(badTheme.status != 0)
    #expect(badTheme.stderr.contains("\\u{1B}"), "\(badTheme.stderr)")
    Self.expectHarmless(badTheme.stderr)

    let config = dir.appendingPathComponent("evil.yaml").path
    try "name: x\n\"k\\e]0;pwned\\a\\u202E\": 3\n".write(
      toFile: config, atomically: true, encoding: .utf8)
    let badConfig = try CLI.run([
      "run", config, "--out", dir.appendingPathComponent("r.jsonl").path,
    ])
    #expect(badConfig.status != 0)
    Self.expectHarmless(badConfig.stderr)
  }
}
