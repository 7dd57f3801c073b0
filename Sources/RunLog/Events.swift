import Foundation

/// The run-log format version this code writes. Readers accept logs of any version and load them
/// as far as they are valid (a newer version is reported as a warning, not an error).
public enum RunLogSchema {
  public static let version = 1
  /// Lines longer than this are skipped with a notice (a run-log line is normally under 1 KiB).
  public static let maxLineBytes = 1 << 20
}

/// One line of a run log. Stages count from 1; `step` is the run's global optimizer step (the number
/// of updates done so far, counted across all stages) and `tokens` the run's training tokens so far.
/// Every event may carry `time`: seconds since the run started (the header's `startTime`).
///
/// Rare, large events are stored out of line (`indirect`) so an array of a million step events
/// stays compact.
public enum RunEvent: Sendable, Hashable {
  indirect case header(RunHeader)
  case step(StepEvent)
  case eval(EvalEvent)
  indirect case stageStart(StageStartEvent)
  indirect case stageEnd(StageEndEvent)
  indirect case checkpoint(CheckpointEvent)
  indirect case note(NoteEvent)
  indirect case error(ErrorEvent)
  indirect case resume(ResumeEvent)
  indirect case runEnd(RunEndEvent)

  /// The `type` field that names this event in the log.
  public var typeName: String {
    switch self {
    case .header: return "header"
    case .step: return "step"
    case .eval: return "eval"
    case .stageStart: return "stageStart"
    case .stageEnd: return "stageEnd"
    case .checkpoint: return "checkpoint"
    case .note: return "note"
    case .error: return "error"
    case .resume: return "resume"
    case .runEnd: return "runEnd"
    }
  }

  /// Every event type this version understands.
  public static let knownTypeNames: [String] = [
    "header", "step", "eval", "stageStart", "stageEnd", "checkpoint", "note", "error", "resume",
    "runEnd",
  ]

  /// The global step the event belongs to, when it has one.
  public var step: Int? {
    switch self {
    case .header: return nil
    case .step(let event): return event.step
    case .eval(let event): return event.step
    case .stageStart(let event): return event.startStep
    case .stageEnd(let event): return event.step
    case .checkpoint(let event): return event.step
    case .note(let event): return event.step
    case .error(let event): return event.step
    case .resume(let event): return event.step
    case .runEnd(let event): return event.step
    }
  }
}

// MARK: - Open sets of names (unknown values survive a round trip)

/// How a run ended. Unknown values read from a log are kept as they are.
public struct RunEndStatus: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
  public var rawValue: String
  public init(rawValue: String) { self.rawValue = rawValue }
  public init(_ rawValue: String) { self.rawValue = rawValue }
  public var description: String { rawValue }
  /// Every stage ran to its end.
  public static let completed = RunEndStatus("completed")
  /// The user stopped the run (quit, Ctrl-C).
  public static let stopped = RunEndStatus("stopped")
  /// A NaN or infinite loss stopped the run.
  public static let diverged = RunEndStatus("diverged")
  /// An error stopped the run.
  public static let failed = RunEndStatus("failed")
}

/// Why a stage ended.
public struct StageEndReason: RawRepresentable, Sendable, Hashable, Codable,
  CustomStringConvertible
{
  public var rawValue: String
  public init(rawValue: String) { self.rawValue = rawValue }
  public init(_ rawValue: String) { self.rawValue = rawValue }
  public var description: String { rawValue }
  /// The stage ran for its planned length.
  public static let completed = StageEndReason("completed")
  /// The user ended it early (the next stage starts now).
  public static let endedEarly = StageEndReason("endedEarly")
  /// A NaN or infinite loss stopped it.
  public static let diverged = StageEndReason("diverged")
  /// The run was stopped during the stage.
  public static let stopped = StageEndReason("stopped")
}

/// What happens to the AdamW moments when a stage starts.
public struct OptimizerStateAction: RawRepresentable, Sendable, Hashable, Codable,
  CustomStringConvertible
{
  public var rawValue: String
  public init(rawValue: String) { self.rawValue = rawValue }
  public init(_ rawValue: String) { self.rawValue = rawValue }
  public var description: String { rawValue }
  /// Zero the moments and the step counter (the paper's choice between datasets; the default).
  public static let reset = OptimizerStateAction("reset")
  /// Carry the moments over from the previous stage.
  public static let keep = OptimizerStateAction("keep")
}

/// Kinds of error events.
public struct ErrorKind: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
  public var rawValue: String
  public init(rawValue: String) { self.rawValue = rawValue }
  public init(_ rawValue: String) { self.rawValue = rawValue }
  public var description: String { rawValue }
  /// The training loss (or gradient norm) became NaN.
  public static let nanLoss = ErrorKind("nanLoss")
  /// The training loss became infinite.
  public static let infiniteLoss = ErrorKind("infiniteLoss")
  /// Reading data, writing a checkpoint or the log failed.
  public static let io = ErrorKind("io")
  /// Anything else.
  public static let other = ErrorKind("other")
}

// MARK: - Events

/// Facts about the machine a run trained on.
public struct MachineFacts: Sendable, Hashable {
  /// The OpenBLAS kernel in use (`openblas_get_corename()`), e.g. `SkylakeX`.
  public var blasKernel: String?
  /// `openblas_get_config()`.
  public var blasConfig: String?
  /// Threads the trainer used.
  public var threads: Int?
  /// CPU model name.
  public var cpu: String?
  /// Logical cores of the machine.
  public var cores: Int?
  /// Operating system and release.
  public var os: String?
  public var hostname: String?

  public init(
    blasKernel: String? = nil, blasConfig: String? = nil, threads: Int? = nil, cpu: String? = nil,
    cores: Int? = nil, os: String? = nil, hostname: String? = nil
  ) {
    self.blasKernel = blasKernel
    self.blasConfig = blasConfig
    self.threads = threads
    self.cpu = cpu
    self.cores = cores
    self.os = os
    self.hostname = hostname
  }
}

/// The first line of every run log.
public struct RunHeader: Sendable, Hashable {
  /// The format version the writer used (`RunLogSchema.version`).
  public var schemaVersion: Int
  /// A short name for the run, e.g. `strong-shift` or `replay-25-warmup-0.01`.
  public var runName: String
  /// Wall-clock start, ISO 8601 in UTC, e.g. `2026-11-26T16:45:42Z`.
  public var startTime: String
  public var seed: Int?
  /// The version of cptui that wrote the log (nil for other writers).
  public var cptuiVersion: String?
  /// Free text naming the program that wrote the log, e.g. `cptui 0.1.0` or `torch 2.5 train.py`.
  public var producer: String?
  /// The command line that started the run.
  public var command: [String]?
  public var machine: MachineFacts?
  /// Dataset names in their order (D0 first), so readers need not understand the config.
  public var datasets: [String]
  /// The full resolved config (every default filled in), as cptui's config keys.
  public var config: JSONValue?
  /// Per dataset name, what its tokens were made from (`"D1": "4.1M train + 41k validation
  /// tokens · 3f2a…"`): a resume checks it, so a run never goes on over other data.
  public var data: JSONValue? = nil

  public init(
    schemaVersion: Int = RunLogSchema.version, runName: String, startTime: String,
    seed: Int? = nil, cptuiVersion: String? = nil, producer: String? = nil,
    command: [String]? = nil, machine: MachineFacts? = nil, datasets: [String] = [],
    config: JSONValue? = nil, data: JSONValue? = nil
  ) {
    self.schemaVersion = schemaVersion
    self.runName = runName
    self.startTime = startTime
    self.seed = seed
    self.cptuiVersion = cptuiVersion
    self.producer = producer
    self.command = command
    self.machine = machine
    self.datasets = datasets
    self.config = config
    self.data = data
  }

  /// An ISO 8601 UTC timestamp for `startTime`.
  public static func timestamp(_ date: Date) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let parts = calendar.dateComponents(
      [.year, .month, .day, .hour, .minute, .second], from: date)
    func pad(_ value: Int?, _ width: Int) -> String {
      let text = String(value ?? 0)
      return String(repeating: "0", count: max(0, width - text.count)) + text
    }
    return "\(pad(parts.year, 4))-\(pad(parts.month, 2))-\(pad(parts.day, 2))T"
      + "\(pad(parts.hour, 2)):\(pad(parts.minute, 2)):\(pad(parts.second, 2))Z"
  }
}

/// One optimizer step.
public struct StepEvent: Sendable, Hashable {
  public var stage: Int
  /// Global step after this update (1 for the run's first update).
  public var step: Int
  /// Steps done in this stage after this update (1 for the stage's first update).
  public var stageStep: Int?
  /// Training tokens of the run so far, including this step's batch.
  public var tokens: Int
  /// The learning rate this step used.
  public var lr: Double
  /// Mean training loss of this step's batch (nats per token).
  public var loss: Double
  /// Global gradient norm before clipping.
  public var gradNorm: Double?
  /// Training throughput measured around this step.
  public var tokensPerSecond: Double?
  public var time: Double?

  public init(
    stage: Int, step: Int, stageStep: Int? = nil, tokens: Int, lr: Double, loss: Double,
    gradNorm: Double? = nil, tokensPerSecond: Double? = nil, time: Double? = nil
  ) {
    self.stage = stage
    self.step = step
    self.stageStep = stageStep
    self.tokens = tokens
    self.lr = lr
    self.loss = loss
    self.gradNorm = gradNorm
    self.tokensPerSecond = tokensPerSecond
    self.time = time
  }
}

/// Validation losses of every dataset at one point of the run.
public struct EvalEvent: Sendable, Hashable {
  public var stage: Int
  public var step: Int
  public var tokens: Int
  /// Mean validation loss per dataset name (D0, D1, … or the config's names), in log order.
  public var losses: [DatasetLoss]
  public var time: Double?

  public init(stage: Int, step: Int, tokens: Int, losses: [DatasetLoss], time: Double? = nil) {
    self.stage = stage
    self.step = step
    self.tokens = tokens
    self.losses = losses
    self.time = time
  }

  /// The loss of one dataset, if it was evaluated.
  public func loss(_ dataset: String) -> Double? {
    losses.first(where: { $0.dataset == dataset })?.loss
  }
}

/// One dataset's validation loss.
public struct DatasetLoss: Sendable, Hashable {
  public var dataset: String
  public var loss: Double
  public init(_ dataset: String, _ loss: Double) {
    self.dataset = dataset
    self.loss = loss
  }
}

/// A stage begins, with every setting it runs with.
public struct StageStartEvent: Sendable, Hashable {
  /// Stage number, from 1.
  public var stage: Int
  /// Optional label, e.g. `german`.
  public var name: String?
  /// The dataset name this stage trains on (a key of the config's `datasets`).
  public var dataset: String
  /// Planned length in steps and tokens.
  public var steps: Int
  public var tokens: Int
  /// Global step and tokens when the stage starts (0 for the first stage).
  public var startStep: Int
  public var startTokens: Int
  /// Schedule kind (`cosine`, `constant-min`, `constant-max`, `repeated-cosine`, `infinite`, `wsd`).
  public var schedule: String
  /// The kind's own parameters (periods, cooldown shape, ηconst, decay shape, …).
  public var scheduleParameters: JSONValue?
  /// Warmup as a fraction of the stage (0 to 1).
  public var warmupFraction: Double
  public var lrMax: Double
  public var lrMin: Double
  /// Share of every batch replayed from earlier data, in percent (0 to 100).
  public var replayPercent: Double
  /// Dataset names the replayed share comes from.
  public var replayFrom: [String]
  public var optimizerState: OptimizerStateAction
  /// How replay went through the replayed data ("spread"); nil for the default, in order.
  public var replayOrder: String? = nil
  public var time: Double?

  public init(
    stage: Int, name: String? = nil, dataset: String, steps: Int, tokens: Int, startStep: Int,
    startTokens: Int, schedule: String, scheduleParameters: JSONValue? = nil,
    warmupFraction: Double, lrMax: Double, lrMin: Double, replayPercent: Double = 0,
    replayFrom: [String] = [], optimizerState: OptimizerStateAction = .reset, time: Double? = nil
  ) {
    self.stage = stage
    self.name = name
    self.dataset = dataset
    self.steps = steps
    self.tokens = tokens
    self.startStep = startStep
    self.startTokens = startTokens
    self.schedule = schedule
    self.scheduleParameters = scheduleParameters
    self.warmupFraction = warmupFraction
    self.lrMax = lrMax
    self.lrMin = lrMin
    self.replayPercent = replayPercent
    self.replayFrom = replayFrom
    self.optimizerState = optimizerState
    self.time = time
  }
}

extension Array where Element == StageStartEvent {
  /// The first stage of the `infinite` span stage number `stage` belongs to (consecutive infinite
  /// stages share one schedule: only the first warms up to its ηmax), the latest start logged per
  /// stage counting; nil when that stage is not infinite or not here. A stage continues a span
  /// when this is below its own number.
  public func infiniteSpanStart(of stage: Int) -> Int? {
    guard last(where: { $0.stage == stage })?.schedule == "infinite" else { return nil }
    var first = stage
    while last(where: { $0.stage == first - 1 })?.schedule == "infinite" { first -= 1 }
    return first
  }
}

/// A stage is over.
public struct StageEndEvent: Sendable, Hashable {
  public var stage: Int
  public var step: Int
  public var tokens: Int
  public var reason: StageEndReason
  /// Training tokens of the stage that came from replayed data (stages with replay), so the
  /// share that was replayed can be checked against the one asked for.
  public var replayedTokens: Int? = nil
  public var time: Double?

  public init(
    stage: Int, step: Int, tokens: Int, reason: StageEndReason = .completed, time: Double? = nil
  ) {
    self.stage = stage
    self.step = step
    self.tokens = tokens
    self.reason = reason
    self.time = time
  }
}

/// A checkpoint was written (and is complete on disk).
public struct CheckpointEvent: Sendable, Hashable {
  /// Path of the checkpoint, relative to the log's folder unless absolute.
  public var path: String
  public var step: Int
  public var stage: Int?
  public var tokens: Int?
  public var time: Double?

  public init(path: String, step: Int, stage: Int? = nil, tokens: Int? = nil, time: Double? = nil) {
    self.path = path
    self.step = step
    self.stage = stage
    self.tokens = tokens
    self.time = time
  }
}

/// Free text for the record (a user's remark, a warning).
public struct NoteEvent: Sendable, Hashable {
  public var text: String
  public var step: Int?
  public var time: Double?

  public init(text: String, step: Int? = nil, time: Double? = nil) {
    self.text = text
    self.step = step
    self.time = time
  }
}

/// Something went wrong, e.g. a NaN loss that stopped a stage.
public struct ErrorEvent: Sendable, Hashable {
  public var kind: ErrorKind
  public var message: String
  public var stage: Int?
  public var step: Int?
  /// The offending value, e.g. the loss (may be NaN or infinite).
  public var value: Double?
  public var time: Double?

  public init(
    kind: ErrorKind, message: String, stage: Int? = nil, step: Int? = nil, value: Double? = nil,
    time: Double? = nil
  ) {
    self.kind = kind
    self.message = message
    self.stage = stage
    self.step = step
    self.value = value
    self.time = time
  }
}

/// The run continues from a checkpoint (after a crash or kill). Events logged before this line with
/// a `step` greater than `step` belong to the abandoned attempt: readers drop them.
public struct ResumeEvent: Sendable, Hashable {
  /// The global step of the checkpoint the run continues from.
  public var step: Int
  public var tokens: Int?
  public var checkpoint: String?
  /// Engine threads the run continues on (a later resume takes the same by default).
  public var threads: Int?
  /// Whether a stage ended at `step` before the checkpoint was written (its end and evaluation
  /// stay); false: the checkpoint is inside a stage, which the resumed run ends itself. nil in
  /// logs written before the field existed (cptui of 27 Nov and earlier).
  public var stageEnded: Bool?
  public var time: Double?

  public init(
    step: Int, tokens: Int? = nil, checkpoint: String? = nil, threads: Int? = nil,
    stageEnded: Bool? = nil, time: Double? = nil
  ) {
    self.step = step
    self.tokens = tokens
    self.checkpoint = checkpoint
    self.threads = threads
    self.stageEnded = stageEnded
    self.time = time
  }
}

/// The last line of a finished run.
public struct RunEndEvent: Sendable, Hashable {
  public var status: RunEndStatus
  public var step: Int?
  public var tokens: Int?
  public var message: String?
  public var time: Double?

  public init(
    status: RunEndStatus, step: Int? = nil, tokens: Int? = nil, message: String? = nil,
    time: Double? = nil
  ) {
    self.status = status
    self.step = step
    self.tokens = tokens
    self.message = message
    self.time = time
  }
}

extension RunEvent {
  /// The event with its time moved on by `offset` seconds (one without a time as it is).
  public func shiftingTime(by offset: Double) -> RunEvent {
    func moved(_ t: Double?) -> Double? { t.map { $0 + offset } }
    switch self {
    case .header: return self
    case .step(var e):
      e.time = moved(e.time)
      return .step(e)
    case .eval(var e):
      e.time = moved(e.time)
      return .eval(e)
    case .stageStart(var e):
      e.time = moved(e.time)
      return .stageStart(e)
    case .stageEnd(var e):
      e.time = moved(e.time)
      return .stageEnd(e)
    case .checkpoint(var e):
      e.time = moved(e.time)
      return .checkpoint(e)
    case .note(var e):
      e.time = moved(e.time)
      return .note(e)
    case .error(var e):
      e.time = moved(e.time)
      return .error(e)
    case .resume(var e):
      e.time = moved(e.time)
      return .resume(e)
    case .runEnd(var e):
      e.time = moved(e.time)
      return .runEnd(e)
    }
  }

  /// Seconds since the run started, when the event recorded it.
  public var time: Double? {
    switch self {
    case .header: return nil
    case .step(let e): return e.time
    case .eval(let e): return e.time
    case .stageStart(let e): return e.time
    case .stageEnd(let e): return e.time
    case .checkpoint(let e): return e.time
    case .note(let e): return e.time
    case .error(let e): return e.time
    case .resume(let e): return e.time
    case .runEnd(let e): return e.time
    }
  }

  /// Training tokens seen when the event happened, when it says.
  public var tokens: Int? {
    switch self {
    case .header, .note, .error: return nil
    case .step(let e): return e.tokens
    case .eval(let e): return e.tokens
    case .stageStart(let e): return e.startTokens
    case .stageEnd(let e): return e.tokens
    case .checkpoint(let e): return e.tokens
    case .resume(let e): return e.tokens
    case .runEnd(let e): return e.tokens
    }
  }
}
