import ArgumentParser
import Controller
import Experiment
import Foundation
import RunLog
import Screens

/// `cptui replay RUN.jsonl [MORE.jsonl …]`: logged runs played back on the live screen.
struct ReplayCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "replay",
    abstract: "Play logged runs back on the live screen, overlaid, with their comparison.",
    discussion: """
      Plays one run, or several overlaid on one chart (a colour per run; D0 solid, D1 dotted, D2 dashed, D3 sparse), \
      as they happened: stage transitions included, at 1×, 10×, 100×, 1000× or as fast as \
      possible. Keys: space pauses, < > (or [ ]) change speed, , . step one evaluation (of the pinned run), PgUp PgDn scrub \
      5 %, Home End (or g G) jump to start/end, 1–9 hide/show a run, p pins the next run (drawn \
      on top, its status and measures shown), v opens the comparison table (as `cptui compare`: \
      ←→ sort, r reverses), ? shows all keys, q quits. Logs are read through the same fold the live \
      screen uses (resumed attempts dropped); skipped lines are counted on the screen.

      Runs play by their recorded time (--sync time), so a faster run draws ahead; --sync tokens \
      moves them together by training tokens instead (runs made with other thread counts or on \
      other machines stay side by side, waits between stages take no time); a switches between the \
      two while playing.
      """)

  @Argument(help: "Run logs (.jsonl), folders of logs, or globs.") var logs: [String]
  @Option(help: "A union-baseline log (also recognised by a run name starting with 'union').")
  var union: [String] = []
  // Read unconditionally so that "--speed -3" reaches the check below (not "missing value").
  @Option(
    parsing: .unconditional,
    help: "Playback speed: any factor (10, 10x; < > step through 1, 10, 100, 1000) or max.")
  var speed = "10"
  @Option(
    help:
      "Where to open: start, end (the finished picture), a percentage (50%) or a fraction (0.5).")
  var at = "start"
  @Flag(help: "Open paused.") var paused = false
  @Option(help: "Play runs by their recorded time, or together by training tokens: time or tokens.")
  var sync = "time"
  @Option(help: "Theme name or .theme file (default: dark).") var theme: String?

  func validate() throws {
    if ReplaySpeed.parse(speed) == nil {
      throw ValidationError("--speed must be a positive number (10, 10x) or max, not '\(speed)'")
    }
    if ReplayPosition(at) == nil {
      throw ValidationError(
        "--at must be start, end, a percentage such as 50% or a fraction such as 0.5, not '\(at)'")
    }
    if sync != "time" && sync != "tokens" {
      throw ValidationError("--sync must be time or tokens, not '\(sync)'")
    }
  }

  func run() throws {
    let (themes, chosenTheme) = try RunSupport.theme(theme)
    let paths = try LogPaths.expand(logs + union)
    var playback = try ReplayLoader.load(
      paths: paths, unionPaths: Set(try LogPaths.expand(union)),
      speed: ReplaySpeed.parse(speed) ?? 10, byTokens: sync == "tokens")
    guard isatty(0) == 1, isatty(1) == 1 else {
      throw CLIError("replay needs a terminal; use `cptui compare` or `cptui export` for text")
    }
    ReplayPosition(at)?.apply(to: &playback)
    if paused { playback.pause() }
    let driver = ReplayDriver(playback: playback)
    driver.start()
    defer { driver.stop() }
    let outcome = try ScreenLoop.run(
      mailbox: driver.mailbox, themes: themes, theme: chosenTheme
    ) {
      driver.send($0)
    }
    if let status = outcome.signalExitStatus { throw ExitCode(status) }
  }
}

/// `--at`: where a replay opens.
enum ReplayPosition {
  case start
  case end
  case share(Double)

  init?(_ text: String) {
    switch text.lowercased() {
    case "start", "begin", "0", "0%": self = .start
    case "end", "100%": self = .end
    default:
      var t = text
      // "50%" is a percentage, a bare number a fraction (0.5): one rule, so "1" is the end
      // and "2" is refused rather than read as 2 %.
      let percent = t.hasSuffix("%")
      if percent { t.removeLast() }
      guard let v = Double(t), v.isFinite else { return nil }
      let share = percent ? v / 100 : v
      guard share >= 0, share <= 1 else { return nil }
      self = .share(share)
    }
  }

  func apply(to playback: inout ReplayPlayback) {
    switch self {
    case .start: playback.seekStart()
    case .end: playback.seekEnd()
    case .share(let s): playback.seek(to: s * playback.duration)
    }
  }
}

/// Reads logs into a playback: events with resumes applied, each run's config from its header,
/// legend labels from what sets the runs apart, the comparison table of their final numbers.
enum ReplayLoader {
  static func load(
    paths: [String], unionPaths: Set<String>, speed: Double?, byTokens: Bool = false
  ) throws -> ReplayPlayback {
    guard !paths.isEmpty else { throw CLIError("replay: no run logs given") }
    var runs: [(path: String, events: [RunEvent], header: RunHeader?)] = []
    var skipped: [String?] = []
    for path in paths {
      let contents: RunLogContents
      do {
        contents = try RunLogReader.read(path: path)
      } catch {
        throw CLIError(describing: error)
      }
      let run = contents.lastRun
      runs.append((path, run.events, run.header))
      let notices = contents.notices + run.notices
      skipped.append(notices.isEmpty ? nil : notices.joined(separator: "; "))
    }
    // Rows by path: compare may leave a run out of its table (a dataset named like a measure
    // column); the replay still plays it, named by its file.
    func rows(_ comparison: Comparison) -> [String: (row: Comparison.Row, name: String)] {
      var out: [String: (row: Comparison.Row, name: String)] = [:]
      for (row, name) in zip(comparison.rows, comparison.shortNames) where out[row.path] == nil {
        out[row.path] = (row, name)
      }
      return out
    }
    // Union baselines last, as compare lists them: run 1, pinned at the start, is a continual run
    // (a folder's union-weak-shift.jsonl sorted first and was pinned, showing no forgetting).
    let order = Comparison.unionsLast(
      runs.map {
        Comparison.isUnion(path: $0.path, runName: $0.header?.runName, unionPaths: unionPaths)
      })
    runs = order.map { runs[$0] }
    skipped = order.map { skipped[$0] }
    let comparison = Comparison(runs: runs, unionPaths: unionPaths)
    let byPath = rows(comparison)
    var replayRuns: [ReplayRun] = []
    for (index, run) in runs.enumerated() {
      let row = byPath[run.path]
      // The legend names a run by what sets it apart (`Comparison.shortNames`).
      let label = row?.name ?? URL(fileURLWithPath: run.path).lastPathComponent
      let config: ExperimentConfig? = run.header?.config.flatMap {
        try? RunSupport.loader.parse(logged: $0, source: run.path)
      }
      replayRuns.append(
        ReplayRun(
          path: run.path, label: label, config: config, events: run.events,
          skippedSummary: skipped[index], isUnion: row?.row.isUnion ?? false))
    }
    // Each run's union baseline, as compare pairs them.
    for index in replayRuns.indices {
      if let union = byPath[runs[index].path]?.row.unionPath {
        replayRuns[index].unionIndex = runs.firstIndex { $0.path == union }
      }
    }
    var playback = ReplayPlayback(
      runs: replayRuns, speed: speed,
      comparison: ComparisonTable(comparison))
    if byTokens { playback.setSyncByTokens(true) }
    return playback
  }
}
