// The screen model: a plain value that says everything the screen shows. The controller builds it
// from events; `ScreenRenderer.render(model:into:)` turns it into cells. Nothing here knows about
// training or curses.

import Terminal

/// A line of (x, y) points, x ascending. NaN (or ±inf) in y splits the line.
public struct Series: Sendable, Equatable {
  public var name: String
  public var xs: [Double]
  public var ys: [Double]

  /// A series; if `xs` and `ys` differ in length, the longer one is cut (drawing code never traps).
  public init(name: String, xs: [Double] = [], ys: [Double] = []) {
    let n = min(xs.count, ys.count)
    self.name = name
    self.xs = xs.count == n ? xs : Array(xs.prefix(n))
    self.ys = ys.count == n ? ys : Array(ys.prefix(n))
  }

  public var count: Int { xs.count }
  public var isEmpty: Bool { xs.isEmpty }

  public mutating func append(x: Double, y: Double) {
    xs.append(x)
    ys.append(y)
  }

  /// The last finite y value.
  public var lastFinite: Double? { ys.last(where: { $0.isFinite }) }
  /// The smallest finite y value.
  public var minFinite: Double? {
    var m = Double.infinity
    for y in ys where y.isFinite && y < m { m = y }
    return m.isFinite ? m : nil
  }
}

/// A vertical line where a stage begins.
public struct StageMarker: Sendable, Equatable {
  public var x: Double
  public var label: String

  public init(x: Double, label: String) {
    self.x = x
    self.label = label
  }

  /// The usual label: "stage 2: warmup 1% · ηmax 3e-4 · r25%"; a constant-min stage, which never
  /// reaches ηmax, says the rate it trains at: "stage 2: ηmin 3e-5 · r25%" (after any warmup); a
  /// stage that continues the infinite schedule of the stage before it has no warmup or ηmax of
  /// its own: "stage 2: infinite continues · r0%".
  public static func label(stage: Int, settings: StageSettings, continuesInfinite: Bool = false)
    -> String
  {
    let replay = " · r\(Format.percent(settings.replayPercent))"
    if continuesInfinite { return "stage \(stage): infinite continues" + replay }
    let warmup = "warmup \(Format.percent(settings.warmupPercent))"
    if settings.schedule == "constant-min" {
      let rate = "ηmin \(Format.scientific(settings.lrMin, significant: 3))"
      return "stage \(stage): " + (settings.warmupPercent > 0 ? warmup + " · " : "") + rate + replay
    }
    return "stage \(stage): \(warmup) · ηmax "
      + Format.scientific(settings.lrMax, significant: 3) + replay
  }
}

/// One run: what the chart draws for it.
public struct RunSeries: Sendable, Equatable {
  /// The run's name, or its distinguishing settings ("replay 25 % · warmup 1 %") in an overlay.
  public var name: String
  /// Validation loss per dataset (D0, D1, …), named by dataset ("D0 english").
  public var validation: [Series]
  public var trainLoss: Series
  /// The learning rate so far.
  public var lrPast: Series
  /// The learning rate still planned for the rest of the run (drawn faint).
  public var lrPlanned: Series
  public var stageMarkers: [StageMarker]
  /// The last step's learning rate and train loss (the series' last points are bucket means,
  /// which lag during warmup); nil falls back to the series' last finite point.
  public var latestLearningRate: Double?
  public var latestTrainLoss: Double?
  /// In an overlay: this run's own status line and measures, shown while it is pinned.
  public var status: RunStatus?
  public var measures: Measures?

  public init(
    name: String, validation: [Series] = [], trainLoss: Series = Series(name: "train"),
    lrPast: Series = Series(name: "lr"), lrPlanned: Series = Series(name: "lr planned"),
    stageMarkers: [StageMarker] = [], status: RunStatus? = nil, measures: Measures? = nil
  ) {
    self.status = status
    self.measures = measures
    self.name = name
    self.validation = validation
    self.trainLoss = trainLoss
    self.lrPast = lrPast
    self.lrPlanned = lrPlanned
    self.stageMarkers = stageMarkers
  }
}

/// Whether the screen shows a run being trained, paused by the user, waiting between stages for
/// the next stage's settings, replayed, or followed but stalled.
public enum RunMode: String, Sendable, Equatable {
  case live
  case paused
  case waiting
  case replay
  case stalled
  case finished
}

/// What the status line says.
public struct RunStatus: Sendable, Equatable {
  public var runName: String
  public var stage: Int
  /// Stages known so far (run and planned); 0 while nothing of the run is known yet (a followed
  /// log before its header line), when the status line shows no stage or step.
  public var stageCount: Int
  /// The current stage's dataset, e.g. "D1 german".
  public var dataset: String
  public var step: Int
  public var totalSteps: Int
  public var tokensPerSecond: Double?
  public var etaSeconds: Double?
  public var mode: RunMode
  /// Replay speed shown as "10×" when in replay.
  public var replaySpeed: String?
  /// The run is drawn from a log someone else writes (`cptui follow`): no trainer to command, so
  /// no next-stage panel and no training keys.
  public var followed = false
  /// How a finished run ended when not completed ("stopped", "diverged"): the badge says it.
  public var endedAs: String? = nil
  /// The user quit and the run is saving its checkpoint and log: it takes no more commands.
  public var stopping = false
  /// The trainer is held: by the user, or until space retries a checkpoint it could not write
  /// (which can happen between stages, where `mode` says `.waiting`).
  public var held = false

  /// Whether there is a trainer behind the screen that takes commands.
  public var hasTrainer: Bool { mode != .replay && !followed }

  public init(
    runName: String = "", stage: Int = 1, stageCount: Int = 1, dataset: String = "",
    step: Int = 0, totalSteps: Int = 0, tokensPerSecond: Double? = nil, etaSeconds: Double? = nil,
    mode: RunMode = .live, replaySpeed: String? = nil
  ) {
    self.runName = runName
    self.stage = stage
    self.stageCount = stageCount
    self.dataset = dataset
    self.step = step
    self.totalSteps = totalSteps
    self.tokensPerSecond = tokensPerSecond
    self.etaSeconds = etaSeconds
    self.mode = mode
    self.replaySpeed = replaySpeed
  }
}

/// The forgetting/adaptation line.
public struct Measures: Sendable, Equatable {
  /// Rise of D0 validation loss since the end of stage 1.
  public var forgetting: Double?
  /// Runs through more domains: the rise of each later-left dataset's loss since the end of the
  /// last stage that trained it (D1, D2 … in dataset order).
  public var laterForgetting: [DatasetChange] = []
  /// Current validation loss of the last stage's dataset.
  public var adaptation: Double?
  public var average: Double?
  public var unionBaseline: Double?
  /// The datasets the line names: the first stage's (forgetting) and the last stage's
  /// (adaptation), as the config calls them.
  public var firstDataset: String
  public var adaptationDataset: String

  public init(
    forgetting: Double? = nil, adaptation: Double? = nil, average: Double? = nil,
    unionBaseline: Double? = nil, firstDataset: String = "D0", adaptationDataset: String = "D1"
  ) {
    self.forgetting = forgetting
    self.adaptation = adaptation
    self.average = average
    self.unionBaseline = unionBaseline
    self.firstDataset = firstDataset
    self.adaptationDataset = adaptationDataset
  }
}

/// A change of one dataset's validation loss (nats per token).
public struct DatasetChange: Sendable, Equatable {
  public var dataset: String
  public var change: Double
  public init(dataset: String, change: Double) {
    self.dataset = dataset
    self.change = change
  }
}

/// The infinite schedule a next stage would continue. Consecutive `infinite` stages are one
/// schedule whose phases are fractions of their summed length, so a stage continuing one takes the
/// span's ηmax and ηmin, no warmup, and the length the plan gave it (another length would re-plan
/// the steps already trained).
public struct InfiniteSpan: Sendable, Equatable {
  /// The span's first and (so far) last stage, from 1.
  public var firstStage: Int
  public var lastStage: Int
  public var lrMax: Double
  public var lrMin: Double
  /// This stage's planned length in tokens; nil when the plan has no infinite stage here (the
  /// span would grow, and its schedule change under the stages already trained).
  public var plannedLengthTokens: Double?

  public init(
    firstStage: Int, lastStage: Int, lrMax: Double, lrMin: Double, plannedLengthTokens: Double?
  ) {
    self.firstStage = firstStage
    self.lastStage = lastStage
    self.lrMax = lrMax
    self.lrMin = lrMin
    self.plannedLengthTokens = plannedLengthTokens
  }
}

/// The settings of the next stage, as edited in the settings panel and the stage panel.
public struct StageSettings: Sendable, Equatable {
  public var datasets: [String]
  public var datasetIndex: Int
  public var warmupPercent: Double
  public var lrMax: Double
  public var lrMin: Double
  public var schedules: [String]
  public var scheduleIndex: Int
  public var replayPercent: Double
  /// The stage's length in tokens.
  public var lengthTokens: Double
  /// Tokens per update (B·T) when known: a stage is whole updates, `lengthTokens` rounded up.
  public var tokensPerStep: Int? = nil
  /// The updates the stage's length gives (at least 1), when `tokensPerStep` is known.
  public var lengthSteps: Int? {
    guard let perStep = tokensPerStep, perStep > 0 else { return nil }
    let tokens = max(1, Int(lengthTokens.rounded()))
    return max(1, (tokens + perStep - 1) / perStep)
  }
  /// Per dataset choice (same order as `datasets`): what replay would draw on, e.g. "D0 D1"
  /// (empty when not known). The panel shows the one for the chosen dataset.
  public var replaySources: [String] = []
  /// The warmup choosing constant-min cleared, given back when another schedule is chosen
  /// (while the warmup is still 0).
  public var warmupBeforeConstantMin: Double? = nil
  /// Replay reads the earlier data spread over all of it (`replayOrder: spread`), not in order
  /// from its start.
  public var replaySpread = false
  /// The infinite schedule the stage before ran, which choosing `infinite` continues (nil: the
  /// stage before ran another schedule).
  public var infiniteSpan: InfiniteSpan? = nil
  /// Warmup, ηmax, ηmin and length as they were before `infinite` fixed them, given back when
  /// another schedule is chosen.
  public var beforeInfinite: SpanFixed? = nil

  /// The fields a continued infinite span fixes, as they were before it did.
  public struct SpanFixed: Sendable, Equatable {
    public var warmupPercent, lrMax, lrMin, lengthTokens: Double
  }

  /// Whether the chosen schedule continues the stage before's infinite schedule.
  public var continuesInfinite: Bool { schedule == "infinite" && infiniteSpan != nil }

  /// Why `field` cannot be changed now (nil: it can): a stage continuing an infinite schedule
  /// keeps its warmup (none), ηmax, ηmin and length.
  public func lockReason(_ field: StageField) -> String? {
    guard continuesInfinite, let span = infiniteSpan else { return nil }
    switch field {
    case .warmup, .lrMax, .lrMin, .length:
      return "fixed: this stage continues stage \(span.firstStage)'s infinite schedule"
    case .dataset, .schedule, .replay, .replayOrder: return nil
    }
  }

  /// Why the draft cannot start (nil: it can): continuing an infinite schedule the plan did not
  /// extend to this stage would change the learning rate of the steps already trained.
  public var startRefusal: String? {
    guard continuesInfinite, let span = infiniteSpan, span.plannedLengthTokens == nil else {
      return nil
    }
    let stages =
      span.firstStage == span.lastStage
      ? "stage \(span.firstStage)" : "stages \(span.firstStage)–\(span.lastStage)"
    return "infinite would re-plan \(stages): pick another schedule"
  }

  /// Applies the span's values when `infinite` is chosen, and gives the earlier ones back when
  /// another schedule is.
  public mutating func followInfiniteSpan() {
    if continuesInfinite, let span = infiniteSpan {
      if beforeInfinite == nil {
        beforeInfinite = SpanFixed(
          warmupPercent: warmupPercent, lrMax: lrMax, lrMin: lrMin, lengthTokens: lengthTokens)
      }
      warmupPercent = 0
      lrMax = span.lrMax
      lrMin = span.lrMin
      if let planned = span.plannedLengthTokens { lengthTokens = planned }
    } else if let before = beforeInfinite {
      (warmupPercent, lrMax, lrMin, lengthTokens) =
        (before.warmupPercent, before.lrMax, before.lrMin, before.lengthTokens)
      beforeInfinite = nil
    }
  }

  /// What replay draws on for the chosen dataset ("" when not known).
  public var replaySource: String {
    replaySources.indices.contains(datasetIndex) ? replaySources[datasetIndex] : ""
  }

  public init(
    datasets: [String] = ["D1"], datasetIndex: Int = 0, warmupPercent: Double = 1,
    lrMax: Double = 3e-4, lrMin: Double = 3e-5,
    schedules: [String] = ["cosine", "constant", "wsd", "infinite"], scheduleIndex: Int = 0,
    replayPercent: Double = 0, lengthTokens: Double = 1_000_000
  ) {
    self.datasets = datasets
    self.datasetIndex = datasetIndex
    self.warmupPercent = warmupPercent
    self.lrMax = lrMax
    self.lrMin = lrMin
    self.schedules = schedules
    self.scheduleIndex = scheduleIndex
    self.replayPercent = replayPercent
    self.lengthTokens = lengthTokens
  }

  public var dataset: String {
    datasets.indices.contains(datasetIndex) ? datasets[datasetIndex] : ""
  }
  public var schedule: String {
    schedules.indices.contains(scheduleIndex) ? schedules[scheduleIndex] : ""
  }
}

/// One cell of the comparison table: text shown, and the number used for sorting and "best".
public struct ComparisonCell: Sendable, Equatable {
  public var text: String
  public var value: Double?

  public init(_ text: String, value: Double? = nil) {
    self.text = text
    self.value = value
  }
}

/// The comparison view's table (final losses, forgetting, adaptation, average, vs union). Every
/// measure is a loss or a loss difference: lower is better in every column.
public struct ComparisonTable: Sendable, Equatable {
  public var columns: [String]
  public var rows: [[ComparisonCell]]
  /// Per row: a baseline (a union run), shown but never marked best.
  public var baselineRows: [Bool]
  /// Per row: measures that are not final (a run stopped, failed or still training in its last
  /// stage), shown but never marked best. Empty: every row's are final.
  public var unfinishedRows: [Bool] = []
  /// Lines under the table: why a Δunion is empty, a dataset that means other data in some runs.
  public var notes: [String] = []

  public init(
    columns: [String], rows: [[ComparisonCell]], baselineRows: [Bool] = []
  ) {
    self.columns = columns
    self.rows = rows
    self.baselineRows = baselineRows
  }

  /// Whether row `index` is a baseline.
  /// Whether row `index` may be marked best: not a baseline, and its measures final.
  public func isCandidate(_ index: Int) -> Bool {
    !isBaseline(index) && !(unfinishedRows.indices.contains(index) && unfinishedRows[index])
  }

  public func isBaseline(_ index: Int) -> Bool {
    baselineRows.indices.contains(index) && baselineRows[index]
  }
}

/// Everything the screen shows.
public struct ScreenModel: Sendable, Equatable {
  public var status: RunStatus
  /// One run live; up to 8 in an overlay. Each run gets a stable colour by its index.
  public var runs: [RunSeries]
  /// "tokens" or "steps": what the x values of every series are.
  public var xUnit: XUnit
  public var measures: Measures
  public var nextStage: StageSettings
  public var comparison: ComparisonTable?
  /// Messages such as "skipped 3 corrupt lines: 12, 40, 41".
  public var notices: [String]

  /// On the main screen, why the last key changed nothing (W/E on a fixed field, a ladder's end):
  /// shown in place of the key hints until the next key (the notice line would come and go and
  /// move the charts).
  public var keyMessage: String? { view.overlay == .none ? view.entryError : nil }
  public var view: ViewState

  public init(
    status: RunStatus = RunStatus(), runs: [RunSeries] = [], xUnit: XUnit = .tokens,
    measures: Measures = Measures(), nextStage: StageSettings = StageSettings(),
    comparison: ComparisonTable? = nil, notices: [String] = [], view: ViewState = ViewState()
  ) {
    self.status = status
    self.runs = runs
    self.xUnit = xUnit
    self.measures = measures
    self.nextStage = nextStage
    self.comparison = comparison
    self.notices = notices
    self.view = view
  }

  /// The run whose status, measures and stage markers are shown (the pinned one), 0-based.
  public var pinnedRun: Int { runs.isEmpty ? 0 : min(max(view.pinnedRun, 0), runs.count - 1) }

  /// The status line to show: the pinned run's own in an overlay (with the model's mode).
  public var shownStatus: RunStatus {
    guard runs.count > 1, var s = runs[pinnedRun].status else { return status }
    s.mode = status.mode
    s.replaySpeed = status.replaySpeed
    return s
  }

  /// The measures to show: the pinned run's own in an overlay.
  public var shownMeasures: Measures {
    runs.count > 1 ? (runs[pinnedRun].measures ?? measures) : measures
  }

  /// The smallest and largest x over all runs' measured series (not the planned learning rate).
  public var xExtent: ClosedRange<Double>? {
    var lo = Double.infinity
    var hi = -Double.infinity
    for run in runs {
      for s in run.validation + [run.trainLoss, run.lrPast] {
        if let f = s.xs.first, let l = s.xs.last {
          lo = min(lo, f)
          hi = max(hi, l)
        }
      }
    }
    return lo <= hi ? lo...hi : nil
  }
}

/// The unit of the x axis.
public enum XUnit: String, Sendable, Equatable {
  case tokens
  case steps
}
