// One key table drives both key handling and the help overlay. `ScreenModel.handleKey(_:)` applies
// the view-only effects (zoom, pan, toggles, overlays, stage-panel editing) and returns the commands
// that must reach the trainer or the program (start the next stage, pause, checkpoint, quit).

import Terminal

/// Where a key binding applies.
public enum KeyContext: String, Sendable, CaseIterable, Equatable {
  case main
  case replay
  case stagePanel = "stage panel"
  case help
  case quitConfirm = "quit"
  case comparison
}

/// What a key does.
public enum Action: Sendable, Equatable {
  case openStagePanel
  case pause
  case smoothing
  case logY
  case panLeft
  case panRight
  case zoomIn
  case zoomOut
  case follow
  case toggleSeries(Int)
  case theme
  case checkpoint
  case help
  case quit
  case comparison
  case warmupDown
  case warmupUp
  case replayDown
  case replayUp
  case lrMaxDown
  case lrMaxUp
  case replaySlower
  case replayFaster
  case toggleSync
  case seekStart
  case seekEnd
  case stepBack
  case stepForward
  case scrubBack
  case scrubForward
  case pinRun
  case togglePinnedRun
  case fieldPrevious
  case fieldNext
  case valueDecrease
  case valueIncrease
  case typeText
  case erase
  case confirm
  case cancel
  case confirmQuit
  case scrollUp
  case scrollDown
  case sortPrevious
  case sortNext
  case sortReverse
}

/// What must happen outside the screen.
public enum Command: Sendable, Equatable {
  /// End the current stage now (if it is still running) and start the next with these settings.
  case startNextStage(StageSettings)
  case togglePause
  case checkpoint
  /// Save the log (and a checkpoint while training) and leave.
  case quit
  /// The user picked another theme; load it and pass its palette to the terminal.
  case themeChanged(String)
  /// Replay only: change speed by this many steps of the speed ladder.
  case replaySpeed(Int)
  case seekStart
  case seekEnd
  /// Replay only: move by this many evaluations (negative: back) of the pinned run `run`, and
  /// pause.
  case step(Int, run: Int)
  /// Replay only: switch between playing by recorded time and moving the runs together by
  /// tokens, keeping what the pinned run `run` shows.
  case toggleSync(run: Int)
  /// Replay only: move by this share of the whole replay (negative: back).
  case scrub(Double)
}

/// How keys are matched.
public enum KeyMatch: Sendable, Equatable {
  case key(Key)
  /// The digits 1–9 (series toggles).
  case seriesDigit
  /// Characters of a number: 0–9 . e - + % k M G (stage-panel direct entry).
  case numberCharacter
}

/// One row of the key table.
public struct KeyBinding: Sendable {
  public var keys: [KeyMatch]
  public var action: Action
  /// Text for the help overlay. Consecutive bindings with the same text share one help line.
  public var help: String
  public var context: KeyContext
  /// Short text for the hint line at the bottom ("next stage"); nil: not shown there.
  public var hint: String?
  /// Help text where no trainer runs (replay, follow), when it differs from `help`.
  public var helpWithoutTrainer: String?

  public init(
    _ keys: [KeyMatch], _ action: Action, _ help: String, _ context: KeyContext = .main,
    hint: String? = nil, withoutTrainer: String? = nil
  ) {
    self.keys = keys
    self.action = action
    self.help = help
    self.context = context
    self.hint = hint
    self.helpWithoutTrainer = withoutTrainer
  }

  /// The keys as shown in help ("w", "←", "1–9").
  public var keyLabel: String {
    keys.map { m -> String in
      switch m {
      case .key(let k): return k.label
      case .seriesDigit: return "1–9"
      case .numberCharacter: return "0–9 . e k M %"
      }
    }.joined(separator: " ")
  }

  func matches(_ key: Key) -> Bool {
    for m in keys {
      switch m {
      case .key(let k): if k == key { return true }
      case .seriesDigit:
        if case .char(let c) = key, let d = c.wholeNumberValue, d >= 1, d <= 9, c.isASCII {
          return true
        }
      case .numberCharacter:
        if case .char(let c) = key, "0123456789.eE-+%kKmMgG".contains(c) { return true }
      }
    }
    return false
  }
}

extension KeyMatch {
  static func c(_ ch: Character) -> KeyMatch { .key(.char(ch)) }
}

public enum KeyTable {
  /// Every key binding, in help order.
  public static let bindings: [KeyBinding] = [
    KeyBinding([.c("n")], .openStagePanel, "next stage: choose its settings", hint: "next stage"),
    KeyBinding([.c(" ")], .pause, "pause / resume", hint: "pause"),
    KeyBinding([.c("s")], .smoothing, "smoothing on/off (EMA, raw curve faint)", hint: "smoothing"),
    KeyBinding([.c("l")], .logY, "log-y on/off", hint: "log-y"),
    KeyBinding([.key(.left)], .panLeft, "pan the x range left / right", hint: "pan"),
    KeyBinding([.key(.right)], .panRight, "pan the x range left / right"),
    KeyBinding([.c("+"), .c("=")], .zoomIn, "zoom in / out", hint: "zoom"),
    KeyBinding([.c("-")], .zoomOut, "zoom in / out"),
    KeyBinding([.c("f")], .follow, "follow the live edge (again: show all)", hint: "follow"),
    KeyBinding([.seriesDigit], .toggleSeries(0), "show/hide series (runs in an overlay)"),
    KeyBinding([.c("w")], .warmupDown, "next stage warmup − / +"),
    KeyBinding([.c("W")], .warmupUp, "next stage warmup − / +"),
    KeyBinding([.c("r")], .replayDown, "next stage replay − / +"),
    KeyBinding([.c("R")], .replayUp, "next stage replay − / +"),
    KeyBinding([.c("e")], .lrMaxDown, "next stage η max − / +"),
    KeyBinding([.c("E")], .lrMaxUp, "next stage η max − / +"),
    KeyBinding([.c("v")], .comparison, "comparison table of the runs", hint: "compare"),
    KeyBinding([.c("t")], .theme, "next theme", hint: "theme"),
    KeyBinding([.c("c")], .checkpoint, "save a checkpoint now"),
    KeyBinding([.c("?"), .c("h")], .help, "this help", hint: "help"),
    KeyBinding(
      [.c("q")], .quit, "quit (asks first while training)", hint: "quit", withoutTrainer: "quit"),

    KeyBinding(
      [.c("<"), .c("[")], .replaySlower, "replay slower / faster", .replay, hint: "speed"),
    KeyBinding([.c(">"), .c("]")], .replayFaster, "replay slower / faster", .replay),
    KeyBinding([.key(.pageUp)], .scrubBack, "scrub back / forward (5 %)", .replay, hint: "scrub"),
    KeyBinding([.key(.pageDown)], .scrubForward, "scrub back / forward (5 %)", .replay),
    KeyBinding(
      [.c(",")], .stepBack, "step the pinned run one evaluation back / forward", .replay,
      hint: "step"),
    KeyBinding(
      [.c(".")], .stepForward, "step the pinned run one evaluation back / forward", .replay),
    KeyBinding([.key(.home), .c("g")], .seekStart, "jump to start / end", .replay),
    KeyBinding([.key(.end), .c("G")], .seekEnd, "jump to start / end", .replay),
    KeyBinding(
      [.c("p")], .pinRun, "pin the next run (on top, its numbers shown)", .replay, hint: "pin"),
    KeyBinding(
      [.c("x")], .togglePinnedRun, "show/hide the pinned run (any run, the 10th and later too)",
      .replay),
    KeyBinding([.c("a")], .toggleSync, "align the runs by tokens / play by recorded time", .replay),

    KeyBinding([.key(.up), .key(.backTab)], .fieldPrevious, "previous / next field", .stagePanel),
    KeyBinding([.key(.down), .key(.tab)], .fieldNext, "previous / next field", .stagePanel),
    KeyBinding([.key(.left)], .valueDecrease, "smaller / larger value", .stagePanel),
    KeyBinding([.key(.right)], .valueIncrease, "smaller / larger value", .stagePanel),
    KeyBinding([.numberCharacter], .typeText, "type a value (3e-4, 25, 2M)", .stagePanel),
    KeyBinding([.key(.backspace), .key(.delete)], .erase, "erase typed text", .stagePanel),
    KeyBinding([.key(.enter)], .confirm, "apply typed value / start the stage", .stagePanel),
    KeyBinding([.key(.escape)], .cancel, "cancel", .stagePanel),
    KeyBinding(
      [.c("q")], .quit, "quit (asks first while training)", .stagePanel, withoutTrainer: "quit"),

    KeyBinding([.key(.up)], .scrollUp, "scroll", .help),
    KeyBinding([.key(.down)], .scrollDown, "scroll", .help),
    KeyBinding([.key(.escape), .c("?"), .c("q"), .c("h")], .cancel, "close help", .help),

    KeyBinding([.c("y"), .c("q"), .key(.enter)], .confirmQuit, "quit", .quitConfirm),
    KeyBinding([.c("n"), .key(.escape)], .cancel, "keep going", .quitConfirm),

    KeyBinding([.key(.left)], .sortPrevious, "sort by previous / next column", .comparison),
    KeyBinding([.key(.right)], .sortNext, "sort by previous / next column", .comparison),
    KeyBinding([.c("r")], .sortReverse, "reverse the sort", .comparison),
    KeyBinding([.c("v"), .key(.escape)], .cancel, "close the table", .comparison),
    KeyBinding([.c("q")], .quit, "quit", .comparison),
  ]

  /// The contexts whose bindings apply now, most specific first.
  public static func contexts(for model: ScreenModel) -> [KeyContext] {
    switch model.view.overlay {
    case .help: return [.help]
    case .stagePanel: return [.stagePanel]
    case .quitConfirm: return [.quitConfirm]
    case .comparison: return [.comparison]
    case .none: return model.status.mode == .replay ? [.replay, .main] : [.main]
    }
  }

  /// The action a key triggers in these contexts.
  public static func action(for key: Key, in contexts: [KeyContext]) -> Action? {
    for ctx in contexts {
      for b in bindings where b.context == ctx && b.matches(key) {
        if case .toggleSeries = b.action, case .char(let c) = key, let d = c.wholeNumberValue {
          return .toggleSeries(d)
        }
        return b.action
      }
    }
    return nil
  }

  /// Help lines for a context: (keys, text), bindings with equal text merged.
  /// Help lines of `context`; `trainer: false` (replay, follow) uses the texts for no trainer.
  public static func helpLines(
    for context: KeyContext, skipping: [Action] = [], trainer: Bool = true
  ) -> [(keys: String, text: String)] {
    var out: [(keys: String, text: String)] = []
    for b in bindings where b.context == context && !skipping.contains(b.action) {
      let help = trainer ? b.help : b.helpWithoutTrainer ?? b.help
      if let last = out.last, last.text == help {
        out[out.count - 1].keys = last.keys + " " + b.keyLabel
      } else {
        out.append((b.keyLabel, help))
      }
    }
    return out
  }

  /// The hint line's entries while an overlay is open: its own keys (the main screen's do nothing
  /// then), as the help lists them.
  public static func overlayHints(_ context: KeyContext, trainer: Bool = true) -> [(
    keys: String, text: String
  )] {
    helpLines(for: context, trainer: trainer).map { ("[" + $0.keys + "]", $0.text) }
  }

  /// The hint line's entries for the main screen: ("[n]", "next stage"), with merged keys. In
  /// replay, the replay keys come first and starting a stage is not offered.
  /// Without a trainer (a followed log), the keys that command one are left out too. A paused run
  /// offers space as "resume"; a run waiting between stages does not offer it (the trainer takes
  /// no pause there). The comparison table is offered only when there is one, pinning only when
  /// there are several runs.
  public static func hints(
    replay: Bool = false, trainer: Bool = true, mode: RunMode = .live, comparison: Bool = true,
    severalRuns: Bool = true, stopping: Bool = false
  ) -> [(keys: String, text: String)] {
    var out: [(keys: String, text: String)] = []
    let contexts: [KeyContext] = replay ? [.replay, .main] : [.main]
    for ctx in contexts {
      var entries = hints(in: ctx).filter {
        !(replay && $0.action == .openStagePanel)
          && !(!replay && !trainer && ($0.action == .openStagePanel || $0.action == .pause))
          && !(!replay && mode == .waiting && $0.action == .pause)
          // A run that ended (or is saving to end) takes no stage, pause or checkpoint.
          && !(!replay && (mode == .finished || stopping)
            && [.openStagePanel, .pause, .checkpoint].contains($0.action))
          && !(!comparison && $0.action == .comparison)
          && !(!severalRuns && $0.action == .pinRun)
      }
      if !replay && mode == .paused, let i = entries.firstIndex(where: { $0.action == .pause }) {
        entries[i].text = "resume"
      }
      if replay && ctx == .main {
        // Pause and the comparison first: the hints are cut from the end (help and quit stay).
        let first: [Action] = [.pause, .comparison]
        entries =
          entries.filter { first.contains($0.action) }
          + entries.filter { !first.contains($0.action) }
      }
      out += entries.map { ($0.keys, $0.text) }
    }
    return out
  }

  private static func hints(in context: KeyContext) -> [(
    keys: String, text: String, action: Action
  )] {
    var out: [(keys: String, text: String, action: Action)] = []
    for (i, b) in bindings.enumerated() where b.context == context {
      guard let hint = b.hint else { continue }
      var keys = b.keyLabel
      // Pair bindings ("←" + "→", "+" + "-") show both keys.
      if i + 1 < bindings.count, bindings[i + 1].help == b.help, bindings[i + 1].hint == nil {
        let (a, c) = (keyText(b), keyText(bindings[i + 1]))
        keys = a.count == 1 && c.count == 1 ? a + c : a + "/" + c
      } else {
        keys = keyText(b)
      }
      out.append(("[" + keys + "]", hint, b.action))
    }
    return out
  }

  private static func keyText(_ b: KeyBinding) -> String {
    guard case .key(let k) = b.keys.first else { return b.keyLabel }
    return k.label
  }
}

/// Ladders that the stage panel and the w/W r/R e/E keys step through.
public enum StageSteps {
  public static let warmupPercent: [Double] = [0, 0.5, 1, 2, 5]
  public static let replayPercent: [Double] = [0, 0.5, 1, 5, 10, 25, 50]
  public static let learningRate: [Double] = [
    1e-5, 2e-5, 3e-5, 5e-5, 1e-4, 2e-4, 3e-4, 5e-4, 1e-3, 2e-3, 3e-3, 4e-3, 5e-3, 6e-3, 8e-3,
    1e-2, 2e-2, 3e-2, 5e-2,
  ]
  public static let minLearningRate: [Double] = [0] + learningRate

  /// "1e-1 is above 5e-2: likely to diverge" for an η max above the ladder's top, else nil (the
  /// stage panel's message and the note `run` prints for a config; short enough for the panel's
  /// 58-column message line in ASCII too).
  public static func highRateWarning(_ lrMax: Double) -> String? {
    guard let top = learningRate.last, lrMax > top else { return nil }
    return "\(Format.scientific(lrMax, significant: 3)) is above "
      + "\(Format.scientific(top, significant: 3)): likely to diverge"
  }
  /// From 1k tokens (a few steps of the tiny presets) up: ← reaches back to any stage's length.
  public static let lengthTokens: [Double] = [
    1e3, 2e3, 5e3, 10e3, 20e3, 50e3, 100e3, 250e3, 500e3, 1e6, 2e6, 5e6, 10e6, 20e6, 50e6, 100e6,
    1e9,
  ]

  /// The next value on `ladder` above (or below) `value`; values off the ladder snap to it.
  public static func step(_ value: Double, _ ladder: [Double], up: Bool) -> Double {
    let eps = max(abs(value) * 1e-9, 1e-15)
    if up { return ladder.first(where: { $0 > value + eps }) ?? ladder.last ?? value }
    return ladder.last(where: { $0 < value - eps }) ?? ladder.first ?? value
  }

  /// Parses typed text for a field; returns the value or a message saying what is wrong.
  public static func parse(_ text: String, for field: StageField) -> Result<Double, EntryError> {
    var t = text.trimmingSpaces()
    var multiplier = 1.0
    if field == .warmup || field == .replay, t.hasSuffix("%") { t.removeLast() }
    if field == .length, let last = t.last {
      switch last {
      case "k", "K": multiplier = 1e3
      case "m", "M": multiplier = 1e6
      case "g", "G": multiplier = 1e9
      default: break
      }
      if multiplier != 1 { t.removeLast() }
    }
    // Plain decimal numbers only: Double() also reads hexadecimal ("0x10" as 16), nan and inf.
    let decimal = t.wholeMatch(of: /[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?/) != nil
    guard decimal, let v = Double(t), v.isFinite else {
      return .failure(
        EntryError(
          field == .length
            ? "not a length: \(text) (tokens, or with k, M or G: 2M)" : "not a number: \(text)"))
    }
    let value = v * multiplier
    switch field {
    // The config's own limits (ConfigLoader), so a config's value can be typed again; warmup stays
    // at most 50 %, inside every schedule's own rule (infinite: before its cooldown ends at 60 %;
    // wsd: warmup + decay ≤ 100 %), so a stage started here always reads back on a resume.
    case .warmup where value < 0 || value > 50:
      return .failure(EntryError("warmup must be 0–50 % of the stage"))
    case .replay where value < 0 || value > 100:
      return .failure(EntryError("replay must be 0–100 %"))
    case .lrMax where value <= 0 || value > 10:
      return .failure(EntryError("η max must be above 0 and at most 10"))
    case .lrMin where value < 0 || value > 10:
      return .failure(EntryError("η min must be 0 to 10"))
    case .length where value < 1:
      return .failure(EntryError("length must be at least 1 token"))
    default:
      return .success(value)
    }
  }
}

/// A typed value that was not accepted.
public struct EntryError: Error, Sendable, Equatable {
  public var message: String
  public init(_ message: String) { self.message = message }
}

extension String {
  func trimmingSpaces() -> String {
    var s = Substring(self)
    while s.first == " " { s.removeFirst() }
    while s.last == " " { s.removeLast() }
    return String(s)
  }
}
