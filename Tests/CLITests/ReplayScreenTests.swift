import Foundation
import Testing

/// `cptui replay` in tmux: a shipped sample run opens on its finished picture, a damaged copy shows
/// how many lines were skipped, two runs overlay with a comparison table that agrees with
/// `cptui compare`, and the playback keys move the play clock; q leaves a working shell.
@Suite(.serialized) struct ReplayScreenTests {
  static let samples =
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("sample-runs/strong-shift").path
  static let sample = samples + "/strong-shift__stage2.replay=25.jsonl"
  static let sample5 = samples + "/strong-shift__stage2.replay=5.jsonl"

  static func session(_ arguments: String) throws -> TmuxSession {
    try TmuxSession(
      width: 140, height: 40,
      command: "'\(CLI.binary)' replay \(arguments); echo CPTUI-EXIT=$?; PS1='$ ' exec sh")
  }

  func replay(_ path: String, expect texts: [String]) throws {
    let command =
      "'\(CLI.binary)' replay '\(path)' --at end; echo CPTUI-EXIT=$?; PS1='$ ' exec sh"
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

  /// A folder whose union baseline sorts first (union-weak-shift.jsonl) still opens pinned on a
  /// continual run, with its forgetting: baselines come last, as compare lists them.
  @Test(.enabled(if: LiveScreenTests.tmuxAvailable))
  func unionBaselinesComeLast() throws {
    let folder = (Self.samples as NSString).deletingLastPathComponent + "/weak-shift"
    try replay(
      folder, expect: ["run 1/5: constant-min", "5 union-weak-shift", "forgetting ΔD0 +0.52"])
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

  /// `--at`: a percentage needs `%`, a bare number is a fraction; anything else is refused before
  /// the screen opens (exit 64), a valid one gets as far as asking for a terminal (exit 1).
  @Test func atTakesPercentagesAndFractions() throws {
    for bad in ["2", "50", "150%", "1.5", "middle"] {
      let r = try CLI.run(["replay", Self.sample, "--at", bad])
      #expect(r.status == 64 && r.stderr.contains("--at must be"), "\(bad): \(r)")
    }
    for good in ["0.5", "1", "50%", "end", "start"] {
      let r = try CLI.run(["replay", Self.sample, "--at", good])
      #expect(r.status == 1 && r.stderr.contains("needs a terminal"), "\(good): \(r)")
    }
  }

  @Test(.enabled(if: LiveScreenTests.tmuxAvailable))
  func twoRunsOverlaidWithAComparisonThatAgreesWithCompare() throws {
    let session = try Self.session("'\(Self.sample5)' '\(Self.sample)' --at end")
    defer { session.close() }
    // Both runs in the legend, named by what sets them apart, each with its D0 and D1.
    let chart = try session.waitFor(text: "2 replay 25%")
    #expect(chart.contains("▸1 replay 5%"), "\(chart)")
    #expect(chart.contains("D0 solid, D1 dotted"), "\(chart)")
    // The comparison view shows what `cptui compare` prints, row by row.
    session.send("v")
    // "run ▲" is the table's sorted name column; without a union run there is no Δunion column.
    // Wait for the rows, not only the heading: a capture can catch a frame half drawn.
    let table = try session.waitFor("the table's rows") { screen in
      screen.contains("run ▲")
        && screen.split(separator: "\n").filter {
          $0.contains("replay ") && $0.contains(".") && !$0.contains("━━")
            && !$0.contains("[replay")
        }.count >= 2
    }
    #expect(!table.contains("Δunion"), "\(table)")
    let compare = try CLI.run(["compare", Self.sample5, Self.sample])
    #expect(compare.status == 0)
    let rows = compare.stdout.split(separator: "\n").dropFirst()
    #expect(rows.count == 2)
    for row in rows {
      // The name column ends at the first run of two spaces.
      guard let gap = row.range(of: "  ") else { continue }
      // The table names a run as the legend does: by its settings ("replay 25%"), without the
      // experiment's name that every run shares ("strong-shift (replay 25%)" in compare).
      let name = String(row[..<gap.lowerBound])
      let label = name.split(separator: "(").last.map { String($0.dropLast()) } ?? name
      let cells = row[gap.upperBound...].split(separator: " ").map(String.init)
      let line = table.split(separator: "\n").first {
        $0.contains(label) && !$0.contains("━━") && !$0.contains("[replay")
      }
      #expect(line != nil, "no row for \(name) in\n\(table)")
      guard let line else { continue }
      var rest = Substring(line)
      for cell in cells where cell != "–" {
        // Each number appears in the row, in the same order as in `cptui compare`.
        guard let range = rest.range(of: cell) else {
          Issue.record("\(cell) of \(name) missing from: \(line)")
          break
        }
        rest = rest[range.upperBound...]
      }
    }
    // Sorting by the next column (D0) puts the 25 % run, which forgets least, first.
    session.send("Right")
    let sorted = try session.waitFor(text: "D0 ▲")
    let order = sorted.split(separator: "\n").filter {
      $0.contains("replay ") && $0.contains("%") && !$0.contains("━━") && !$0.contains("[replay")
    }
    #expect(order.first?.contains("replay 25%") == true, "\(sorted)")
    session.send("Escape")
    // Pinning the second run shows its own status; hiding it says so in the legend.
    session.send("p")
    try session.waitFor(text: "run 2/2: replay 25%")
    session.send("2")
    try session.waitFor(text: "(hidden)")
    session.send("q")
    try session.waitFor(text: "CPTUI-EXIT=0")
  }

  /// A terminal that cannot place the cursor (TERM=dumb) gets one clear line and a non-zero exit,
  /// not a screen drawn onto one line.
  @Test(.enabled(if: LiveScreenTests.tmuxAvailable))
  func aDumbTerminalIsRefusedWithAMessage() throws {
    let session = try TmuxSession(
      width: 200, height: 20,
      command: "TERM=dumb '\(CLI.binary)' replay '\(Self.sample)'; echo CPTUI-EXIT=$?; "
        + "PS1='$ ' exec sh")
    defer { session.close() }
    let screen = try session.waitFor(text: "CPTUI-EXIT=1")
    #expect(screen.contains("(TERM=dumb) cannot place the cursor"), "\(screen)")
    // A TERM that curses does not know is named as unknown (it said "is TERM set?").
    let unknown = try TmuxSession(
      width: 200, height: 20,
      command: "TERM=nosuchterm '\(CLI.binary)' replay '\(Self.sample)'; echo CPTUI-EXIT=$?; "
        + "PS1='$ ' exec sh")
    defer { unknown.close() }
    let text = try unknown.waitFor(text: "CPTUI-EXIT=1")
    #expect(text.contains("TERM=nosuchterm is unknown here"), "\(text)")
  }

  /// The live screen checks the terminal before it makes a log or trains a step: a bad TERM
  /// leaves nothing behind (it left a stopped run, one more per retry).
  @Test(.enabled(if: LiveScreenTests.tmuxAvailable))
  func theLiveScreenRefusesADumbTerminalBeforeItStarts() throws {
    let folder = try CLI.temporaryFolder("dumb-live").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    for term in ["dumb", "nosuchterm"] {
      let session = try TmuxSession(
        width: 200, height: 20,
        command: "cd '\(folder)' && TERM=\(term) '\(CLI.binary)' tiny-live --threads 1; "
          + "echo CPTUI-EXIT=$?; PS1='$ ' exec sh")
      defer { session.close() }
      let screen = try session.waitFor(text: "CPTUI-EXIT=1")
      #expect(screen.contains("TERM=\(term)"), "\(screen)")
      #expect(!screen.contains("preparing the data"), "\(screen)")
      #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
    }
  }

  /// On a terminal, compare's table is followed by what its columns mean (not in pipes: the
  /// docs' tables and scripts read the table alone).
  @Test(.enabled(if: LiveScreenTests.tmuxAvailable))
  func compareOnATerminalExplainsItsColumns() throws {
    let session = try TmuxSession(
      width: 200, height: 20,
      command: "'\(CLI.binary)' compare '\(Self.samples)'; echo CPTUI-EXIT=$?; PS1='$ ' exec sh")
    defer { session.close() }
    let screen = try session.waitFor(text: "CPTUI-EXIT=0")
    #expect(screen.contains("losses in nats per token, lower is better"), "\(screen)")
    let piped = try CLI.run(["compare", Self.samples])
    #expect(!piped.stderr.contains("nats per token"), "\(piped.stderr)")
  }

  @Test(.enabled(if: LiveScreenTests.tmuxAvailable))
  func playbackKeysMoveThePlayClock() throws {
    let session = try Self.session("'\(Self.sample)' --speed 1 --paused")
    defer { session.close() }
    try session.waitFor(text: "[replay paused 1× 0:00/")
    // End: the finished picture; Home: back to the start; "." one evaluation at a time.
    session.send("End")
    try session.waitFor(text: "step 978/978")
    try session.waitFor(text: "end of replay")
    session.send("Home")
    try session.waitFor(text: "0:00/")
    // t names the theme it switched to, for a moment.
    session.send("t")
    try session.waitFor(text: "theme: ")
    session.send(".")
    session.send(".")
    try session.waitFor("two evaluations in") { $0.contains("step 100/") }
    // Faster, then playing: the clock runs.
    session.send(">")
    session.send(">")
    session.send("Space")
    try session.waitFor(text: "[replay 100×")
    try session.waitFor("the run to advance", timeout: 20) { screen in
      guard let r = screen.range(of: "step ") else { return false }
      let digits = screen[r.upperBound...].prefix { $0.isNumber }
      return (Int(digits) ?? 0) > 200
    }
    session.send("PageUp")
    session.send("q")
    try session.waitFor(text: "CPTUI-EXIT=0")
  }

  /// The replay benchmark's tool works on a generated log (small here; not timed).
  @Test func replayOpenBenchmarkToolRuns() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-bench-\(getpid()).jsonl"
    ).path
    defer { try? FileManager.default.removeItem(atPath: path) }
    let made = try CLI.run(["dev", "big-log", "--steps", "20000", "--evals", "200", "--out", path])
    #expect(made.status == 0, "\(made.stderr)")
    let bench = try CLI.run(["dev", "replay-open", path])
    #expect(bench.status == 0, "\(bench.stderr)")
    #expect(bench.stdout.contains("events: 20"), "\(bench.stdout)")
    #expect(bench.stdout.contains("open (total):"), "\(bench.stdout)")
    #expect(bench.stdout.contains("scrub frame (7 seeks)"), "\(bench.stdout)")
  }

  /// A log that compare leaves out of its table (its dataset is named like a measure column) is
  /// still replayed with the others; the loader indexed the table by run and crashed.
  @Test func aRunLeftOutOfTheTableStillReplays() throws {
    let folder = try CLI.temporaryFolder("replay-left-out")
    defer { try? FileManager.default.removeItem(at: folder) }
    let text = try String(contentsOfFile: Self.sample, encoding: .utf8)
    let clash = folder.appendingPathComponent("clash.jsonl").path
    try text.replacingOccurrences(of: "\"D1\"", with: "\"avg\"").write(
      toFile: clash, atomically: true, encoding: .utf8)
    let open = try CLI.run(["dev", "replay-open", Self.sample5, clash])
    #expect(open.status == 0, "\(open.stderr)")
    #expect(open.stdout.contains("in 2 log(s)"), "\(open.stdout)")
  }

  @Test func badArgumentsSayWhatIsWrong() throws {
    let speed = try CLI.run(["replay", Self.sample, "--speed", "fast"])
    #expect(speed.status != 0 && speed.stderr.contains("--speed"), "\(speed.stderr)")
    let negative = try CLI.run(["replay", Self.sample, "--speed", "-3"])
    #expect(
      negative.status == 64 && negative.stderr.contains("must be a positive number")
        && negative.stderr.contains("not '-3'"), "\(negative.stderr)")
    let at = try CLI.run(["replay", Self.sample, "--at", "middle"])
    #expect(at.status != 0 && at.stderr.contains("--at"), "\(at.stderr)")
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-replay-empty-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let folder = try CLI.run(["replay", dir.path])
    #expect(folder.status != 0 && folder.stderr.contains("no .jsonl"), "\(folder.stderr)")
    let empty = dir.appendingPathComponent("empty.jsonl").path
    _ = FileManager.default.createFile(atPath: empty, contents: Data())
    let emptyRun = try CLI.run(["replay", empty])
    #expect(emptyRun.status != 0 && emptyRun.stderr.contains(empty), "\(emptyRun.stderr)")
    #expect(emptyRun.stderr.split(separator: "\n").count == 1, "\(emptyRun.stderr)")
  }

  @Test func emptyOrMissingLogIsOneLineAndNonZero() throws {
    let missing = try CLI.run(["replay", "/nonexistent.jsonl"])
    #expect(
      missing.status != 0 && missing.stderr.contains("/nonexistent.jsonl"), "\(missing.stderr)")
  }
}
