import Experiment
import Foundation
import RunLog
import Screens
import Terminal

/// The one-line progress display of headless runs on stderr: stage, step, tokens/s, ETA and the
/// last validation losses. Redrawn in place (at most 4 times a second) on a terminal; one line per
/// evaluation otherwise.
final class ProgressLine: @unchecked Sendable {
  let enabled: Bool
  private let isTerminal = isatty(2) == 1
  private var totalSteps = 0
  private var stageCount = 0
  /// Planned steps per stage (index 0: stage 1).
  private var plannedSteps: [Int] = []
  private var stage = 0
  private var step = 0
  private var tokensPerSecond: Double = 0
  private var tokensPerStep = 1
  private var lastLosses: [DatasetLoss] = []
  private var lastDraw: Double = 0
  private var drawn = false

  init(enabled: Bool) { self.enabled = enabled }

  /// The plan to count against: `config`'s stages, ending at `endStep` (a resumed run: where
  /// the trainer's restored plan ends, not the sum of the config's stages).
  func configure(config: ExperimentConfig, endStep: Int? = nil) {
    plannedSteps = config.stages.map(\.steps)
    totalSteps = endStep ?? config.totalSteps
    stageCount = config.stages.count
    tokensPerStep = config.tokensPerStep
  }

  /// A message of its own (data preparation and the like).
  func message(_ text: String) {
    guard enabled else { return }
    clear()
    printError(text)
  }

  func update(with event: RunEvent) {
    // Errors (a NaN loss, a full disk) are printed even with --quiet: they say why the run ended.
    if case .error(let e) = event {
      clear()
      printError("cptui: \(e.kind): \(e.message)")
      return
    }
    guard enabled else { return }
    switch event {
    case .step(let s):
      stage = s.stage
      step = s.step
      tokensPerSecond = s.tokensPerSecond ?? tokensPerSecond
      draw(force: false)
    case .eval(let e):
      lastLosses = e.losses
      stage = max(stage, e.stage)
      step = e.step
      if isTerminal { draw(force: true) } else { printError(line) }
    case .stageStart(let s):
      stage = s.stage
      stageCount = max(stageCount, s.stage)
      // From here the plan is this stage as it starts and the later ones as planned (an earlier
      // stage that ended early moved the end).
      totalSteps = s.startStep + s.steps + plannedSteps.dropFirst(s.stage).reduce(0, +)
    default:
      break
    }
  }

  func finish() {
    guard enabled, drawn else { return }
    writeStandardError("\n")
    drawn = false
  }

  private var line: String { parts.joined(separator: " · ") }

  /// stage, step, tokens/s, ETA, losses.
  private var parts: [String] {
    let remaining = Double(max(totalSteps - step, 0) * tokensPerStep)
    let eta = tokensPerSecond > 0 ? Self.duration(remaining / tokensPerSecond) : "–"
    // Non-finite losses as the log writes them ("NaN", not printf's "-nan").
    let losses = lastLosses.map { loss in
      let value =
        loss.loss.isFinite
        ? String(format: "%.3f", loss.loss) : JSONText.nonFiniteSpelling(loss.loss)
      return "\(loss.dataset) \(value)"
    }
    .joined(separator: " ")
    return [
      "stage \(stage)/\(stageCount)", "step \(step)/\(totalSteps)",
      "\(Self.rate(tokensPerSecond)) tok/s", "ETA \(eta)", losses,
    ]
  }

  /// The progress parts joined in fewer than `columns` columns, so that a narrow terminal never
  /// wraps the line (a wrapped line is not redrawn in place: its first row stays behind each time).
  /// Leaves out tokens/s, then the ETA, then the stage; then cuts the end with `…`.
  /// `columns` ≤ 0 (not known) keeps the whole line.
  static func fitted(_ parts: [String], columns: Int) -> String {
    var kept = parts
    let whole = { (parts: [String]) in localText(parts.joined(separator: " · ")) }
    guard columns > 0 else { return whole(kept) }
    let room = columns - 1
    for index in [2, 3, 0] where whole(kept).terminalWidth > room && index < parts.count {
      kept.removeAll { $0 == parts[index] }
    }
    let text = whole(kept)
    guard text.terminalWidth > room else { return text }
    let ellipsis = localText("…")
    var cut = ""
    var width = 0
    for c in text {
      let w = String(c).terminalWidth
      if width + w + ellipsis.terminalWidth > room { break }
      cut.append(c)
      width += w
    }
    return cut + ellipsis
  }

  /// The terminal's columns on stderr (0 when not known).
  private static var terminalColumns: Int {
    var size = winsize()
    guard ioctl(2, UInt(TIOCGWINSZ), &size) == 0 else { return 0 }
    return Int(size.ws_col)
  }

  private func draw(force: Bool) {
    guard isTerminal else { return }
    let now = Date().timeIntervalSinceReferenceDate
    if !force && now - lastDraw < 0.25 { return }
    lastDraw = now
    writeStandardError("\r\u{1B}[K" + Self.fitted(parts, columns: Self.terminalColumns))
    drawn = true
  }

  private func clear() {
    if isTerminal && drawn {
      writeStandardError("\r\u{1B}[K")
      drawn = false
    }
  }

  static func rate(_ value: Double) -> String {
    value >= 1000 ? String(format: "%.1fk", value / 1000) : String(format: "%.0f", value)
  }

  /// "m:ss" or "h:mm:ss", as the screens write it ("--:--" for no finite time).
  static func duration(_ seconds: Double) -> String { Format.duration(seconds) }
}

/// SIGINT/SIGTERM/SIGHUP (a closed terminal or ssh session) for headless commands: the first
/// calls what the command is `watch`ing for (a run: stop at the next step, which checkpoints and
/// ends the log), a second one exits at once. One set of signal sources for the whole process,
/// made at first use and never cancelled: cancelling and making them again (a sweep's next run)
/// lost signals.
final class StopSignals: @unchecked Sendable {
  static let shared = StopSignals()
  private var sources: [DispatchSourceSignal] = []
  private let lock = NSLock()
  private var count = 0
  private var first: Int32?
  private var action: (notice: String, onStop: @Sendable (Int32) -> Void)?

  /// The first signal received, if one was (also one that came while nothing was watched).
  var received: Int32? { lock.withLock { first } }

  private init() {
    var watched: [Int32] = []
    for sig in [SIGINT, SIGTERM, SIGHUP] {
      // Under nohup (SIGHUP ignored on purpose) a hang-up must not stop the run.
      if sig == SIGHUP, Self.handler(of: sig) == Self.bits(SIG_IGN) { continue }
      let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
      source.setEventHandler { [self] in handle(sig) }
      source.resume()
      sources.append(source)
      watched.append(sig)
    }
    // libdispatch installs its own handlers from its manager thread, a moment later; a signal
    // before that takes its default action (ignoring it meanwhile lost it instead). Wait until
    // they are in place, so that none is lost from here on.
    let deadline = DispatchTime.now().uptimeNanoseconds + 500_000_000
    while DispatchTime.now().uptimeNanoseconds < deadline,
      watched.contains(where: {
        [Self.bits(SIG_DFL), Self.bits(SIG_IGN)].contains(Self.handler(of: $0))
      })
    {
      usleep(100)
    }
  }

  /// The address of the handler `sig` has now (SIG_DFL 0, SIG_IGN 1), read without changing it.
  private static func handler(of sig: Int32) -> Int {
    var current = sigaction()
    sigaction(sig, nil, &current)
    return unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self)
  }

  private static func bits(_ handler: sighandler_t?) -> Int { unsafeBitCast(handler, to: Int.self) }

  /// From now on a first signal prints `notice` and calls `onStop` with the signal.
  func watch(
    notice: String = "stopping after this step (again to quit now)",
    onStop: @escaping @Sendable (Int32) -> Void
  ) {
    lock.withLock { action = (notice, onStop) }
  }

  /// A first signal from now on is only remembered (`received`).
  func unwatch() { lock.withLock { action = nil } }

  private func handle(_ sig: Int32) {
    let (n, action) = lock.withLock {
      () -> (Int, (notice: String, onStop: @Sendable (Int32) -> Void)?) in
      first = first ?? sig
      count += 1
      return (count, self.action)
    }
    // A second signal leaves at once: the trainer thread may be inside OpenBLAS.
    guard n == 1 else { CStreams.exitAtOnce(128 + sig) }
    if let action {
      printError("\ncptui: " + action.notice)
      action.onStop(sig)
    } else {
      printError("\ncptui: stopping (again to quit now)")
    }
  }

}
