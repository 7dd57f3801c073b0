import Foundation
import Testing

/// `cptui replay` in tmux: a shipped sample run opens on its finished picture, and a damaged copy
/// shows how many lines were skipped; q leaves a working shell.
@Suite(.serialized) struct ReplayScreenTests {
  static let sample =
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent(
      "sample-runs/strong-shift/strong-shift__stage2.replay=25.jsonl"
    ).path

  func replay(_ path: String, expect texts: [String]) throws {
    let command =
      "'\(CLI.binary)' replay '\(path)'; echo CPTUI-EXIT=$?; PS1='$ ' exec sh"
    let session = try TmuxSession(command: command)
    defer { session.close() }
    for text in texts { try session.waitFor(text: text) }
    session.send("q")
    try session.waitFor(text: "CPTUI-EXIT=0")
  }

  @Test(.enabled(if: LiveScreenTests.tmuxAvailable))
  func sampleRunOpensOnItsFinishedPicture() throws {
    try replay(
      Self.sample,
      expect: ["strong-shift", "D0 english", "D1 german", "stage 2/2", "forgetting ΔD0 +0.04"])
  }

  @Test(.enabled(if: LiveScreenTests.tmuxAvailable))
  func damagedLogShowsTheSkippedLines() throws {
    var lines = try String(contentsOfFile: Self.sample, encoding: .utf8).split(separator: "\n")
    lines.insert("this is not json", at: 5)
    lines.insert("{\"type\":\"step\",\"stage\":1}", at: 9)
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-replay-\(getpid()).jsonl"
    ).path
    try (lines.joined(separator: "\n") + "\n{\"type\":\"eval\",\"st").write(
      toFile: path, atomically: true, encoding: .utf8)
    try replay(path, expect: ["D0 english", "skipped 2 lines (line 6"])
  }

  @Test func emptyOrMissingLogIsOneLineAndNonZero() throws {
    let missing = try CLI.run(["replay", "/nonexistent.jsonl"])
    #expect(
      missing.status != 0 && missing.stderr.contains("/nonexistent.jsonl"), "\(missing.stderr)")
  }
}
