import Foundation
import Testing

/// `cptui follow` in tmux: a sample log written in pieces while the screen follows it — new points
/// arrive, the run stalls when the writer pauses, a truncated file is read again, the run end
/// finishes it; `follow -` reads a pipe and its keys from the terminal.
@Suite(.serialized) struct FollowScreenTests {
  static let sample =
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent(
      "sample-runs/strong-shift/strong-shift__stage2.replay=5.jsonl"
    ).path

  static func sampleLines() throws -> [String] {
    try String(contentsOfFile: sample, encoding: .utf8).split(separator: "\n").map(String.init)
  }

  static func tempDir() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-follow-\(getpid())-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
  }

  static func append(_ lines: ArraySlice<String>, to path: String) throws {
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle.seekToEnd()
    try handle.write(contentsOf: Data((lines.joined(separator: "\n") + "\n").utf8))
    try handle.close()
  }

  /// The step on the status line ("step 123/978").
  static func step(_ screen: String) -> Int? {
    guard let line = screen.split(separator: "\n").first(where: { $0.contains("cptui") }),
      let range = line.range(of: "step ")
    else { return nil }
    return Int(line[range.upperBound...].prefix { $0.isNumber })
  }

  /// The legend entry of D0 with its last value ("1 D0 english 3.91").
  static func legendD0(_ screen: String) -> String? {
    screen.split(separator: "\n").first { $0.contains("1 D0 english") }.map(String.init)
  }

  static func shell(_ command: String) -> String {
    "\(command); echo CPTUI-EXIT=$?; PS1='$ ' exec sh"
  }

  @Test(.enabled(if: LiveScreenTests.tmuxAvailable), .timeLimit(.minutes(1)))
  func aGrowingFileIsFollowedUntilItsRunEnds() throws {
    let lines = try Self.sampleLines()
    let dir = try Self.tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let log = dir.appendingPathComponent("run.jsonl").path
    _ = FileManager.default.createFile(atPath: log, contents: nil)
    try Self.append(lines[0..<300], to: log)
    let tmux = try TmuxSession(
      command: Self.shell("'\(CLI.binary)' follow --stall-after 2 '\(log)'"))
    defer { tmux.close() }

    let first = try tmux.waitFor("the first piece") {
      (Self.step($0) ?? 0) > 250 && Self.legendD0($0) != nil
    }
    let firstStep = Self.step(first)!
    let firstLegend = Self.legendD0(first)!
    #expect(firstStep < 300)
    // The writer goes on: new points arrive and the run is live.
    try Self.append(lines[300..<600], to: log)
    let second = try tmux.waitFor("new points, live") {
      (Self.step($0) ?? 0) > firstStep + 200 && $0.contains("[live]")
    }
    #expect(Self.legendD0(second) != firstLegend, "the legend's last value should change")
    // The writer pauses: stalled after 2 s, with how long it has been quiet.
    try tmux.waitFor("stalled") { $0.contains("[stalled]") && $0.contains("no new lines for") }

    // The writer starts over (truncates the file): the screen starts over too.
    try (lines[0..<150].joined(separator: "\n") + "\n").write(
      toFile: log, atomically: false, encoding: .utf8)
    try tmux.waitFor("the restarted log") {
      (Self.step($0) ?? .max) < 150 && $0.contains("the log started over")
    }
    // The rest of the run, with its end.
    try Self.append(lines[150...], to: log)
    try tmux.waitFor("the finished run") {
      $0.contains("[finished]") && $0.contains("run completed · q quits")
        && $0.contains("step 978")
    }
    tmux.send("q")
    try tmux.waitFor(text: "CPTUI-EXIT=0", timeout: 5)
  }

  @Test(.enabled(if: LiveScreenTests.tmuxAvailable), .timeLimit(.minutes(1)))
  func standardInputIsFollowedAndKeysComeFromTheTerminal() throws {
    let lines = try Self.sampleLines()
    let dir = try Self.tempDir()
    defer { try? FileManager.default.removeItem(at: dir) }
    let partA = dir.appendingPathComponent("a.jsonl").path
    let partB = dir.appendingPathComponent("b.jsonl").path
    let go = dir.appendingPathComponent("go").path
    try (lines[0..<300].joined(separator: "\n") + "\n").write(
      toFile: partA, atomically: true, encoding: .utf8)
    // The second piece stops mid-run (no run end) and its last line is torn.
    try (lines[300..<700].joined(separator: "\n") + "\n" + String(lines[700].prefix(20)))
      .write(toFile: partB, atomically: true, encoding: .utf8)
    // A writer that sends the first piece, waits for the test, sends the second, and ends.
    let writer =
      "(cat '\(partA)'; while [ ! -e '\(go)' ]; do sleep 0.1; done; cat '\(partB)')"
    let tmux = try TmuxSession(
      command: Self.shell("\(writer) | '\(CLI.binary)' follow --stall-after 30 -"))
    defer { tmux.close() }

    let first = try tmux.waitFor("the first piece") {
      (Self.step($0) ?? 0) > 250 && $0.contains("[live]")
    }
    let firstStep = Self.step(first)!
    _ = FileManager.default.createFile(atPath: go, contents: nil)
    try tmux.waitFor("the second piece, then the end of the input") {
      (Self.step($0) ?? 0) > firstStep + 300 && $0.contains("[stalled]")
        && $0.contains("input ended before the run did")
        && $0.contains("the last line is incomplete")
    }
    // Standard input is the pipe: q reaches the screen through the terminal and quits at once.
    tmux.send("q")
    try tmux.waitFor(text: "CPTUI-EXIT=0", timeout: 5)
  }

  @Test func withoutATerminalOrAFileItIsOneLineAndNonZero() throws {
    let piped = try CLI.run(["follow", "-"])
    #expect(piped.status != 0)
    #expect(piped.stderr.contains("terminal"), "\(piped.stderr)")
    #expect(piped.stderr.split(separator: "\n").count == 1, "\(piped.stderr)")
    // A file not there yet is waited for (here: no terminal to wait on); no folder for it is an
    // error naming both.
    let notYet = try CLI.run(["follow", "/nonexistent.jsonl"])
    #expect(notYet.status != 0 && notYet.stderr.contains("terminal"), "\(notYet.stderr)")
    let missing = try CLI.run(["follow", "/nonexistent/run.jsonl"])
    #expect(missing.status != 0)
    #expect(
      missing.stderr.contains("/nonexistent/run.jsonl: no such file, and no folder /nonexistent"),
      "\(missing.stderr)")
    #expect(missing.stderr.split(separator: "\n").count == 1, "\(missing.stderr)")
  }
}
