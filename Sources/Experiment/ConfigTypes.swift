import Corpus
import Foundation
import Model
import RunLog

/// A continual pre-training experiment, fully resolved: every default filled in, every stage's
/// length in steps. Read one with `ConfigLoader`; docs/config.md describes every key.
public struct ExperimentConfig: Sendable, Hashable {
  /// Run name (used for log file names and the screen's title).
  public var name: String
  /// Free text about the experiment.
  public var about: String?
  public var seed: Int
  public var model: ModelConfig
  public var tokenizer: TokenizerConfig
  /// The datasets in declaration order (the first one is D0 for forgetting measures).
  public var datasets: [NamedDataset]
  /// Sequences of `model.context` tokens per step (B).
  public var batchSize: Int
  public var optimizer: OptimizerConfig
  public var evaluation: EvaluationConfig
  public var checkpoints: CheckpointPolicy
  /// The stages in order (at least one).
  public var stages: [StageConfig]

  public init(
    name: String, about: String? = nil, seed: Int, model: ModelConfig,
    tokenizer: TokenizerConfig, datasets: [NamedDataset], batchSize: Int,
    optimizer: OptimizerConfig = OptimizerConfig(), evaluation: EvaluationConfig,
    checkpoints: CheckpointPolicy = CheckpointPolicy(), stages: [StageConfig]
  ) {
    self.name = name
    self.about = about
    self.seed = seed
    self.model = model
    self.tokenizer = tokenizer
    self.datasets = datasets
    self.batchSize = batchSize
    self.optimizer = optimizer
    self.evaluation = evaluation
    self.checkpoints = checkpoints
    self.stages = stages
  }

  /// Training tokens per optimizer step: B·T.
  public var tokensPerStep: Int { batchSize * model.context }

  /// Steps of all stages.
  public var totalSteps: Int { stages.reduce(0) { $0 + $1.steps } }

  /// Training tokens of all stages.
  public var totalTokens: Int { totalSteps * tokensPerStep }

  /// The spec of a dataset by name.
  public func dataset(named name: String) -> DatasetSpec? {
    datasets.first(where: { $0.name == name })?.spec
  }

  /// Global step index at which each stage starts.
  public var stageStartSteps: [Int] {
    var starts: [Int] = []
    var total = 0
    for stage in stages {
      starts.append(total)
      total += stage.steps
    }
    return starts
  }

  /// Gives each stage that continues an infinite span its span's rates (`StageConfig.alignInfiniteSpans`).
  public mutating func alignInfiniteSpans() { StageConfig.alignInfiniteSpans(&stages) }

  /// The planned learning rate of the whole run.
  public var schedulePlan: SchedulePlan {
    SchedulePlan(stages: stages.map(\.stageSchedule))
  }

  /// The run-log event that starts stage `index` (from 0), with every setting of the stage.
  public func stageStartEvent(index: Int, time: Double? = nil) -> StageStartEvent {
    let stage = stages[index]
    let startStep = stageStartSteps[index]
    var event = StageStartEvent(
      stage: index + 1, name: stage.name, dataset: stage.dataset, steps: stage.steps,
      tokens: stage.steps * tokensPerStep, startStep: startStep,
      startTokens: startStep * tokensPerStep, schedule: stage.schedule.kind.rawValue,
      scheduleParameters: stage.schedule.parameters, warmupFraction: stage.warmupFraction,
      lrMax: stage.lrMax, lrMin: stage.lrMin, replayPercent: stage.replayPercent,
      replayFrom: stage.replayFrom, optimizerState: stage.optimizerState, time: time)
    if stage.replayOrder != .sequential { event.replayOrder = stage.replayOrder.rawValue }
    return event
  }
}

/// A dataset with the name stages refer to it by.
public struct NamedDataset: Sendable, Hashable {
  public var name: String
  public var spec: DatasetSpec
  public init(name: String, spec: DatasetSpec) {
    self.name = name
    self.spec = spec
  }
}

/// Which tokenizer the run uses.
public struct TokenizerConfig: Sendable, Hashable {
  public enum Kind: String, Sendable, Hashable, CaseIterable {
    /// Raw bytes, 256 tokens, nothing to train.
    case bytes
    /// Byte-level BPE trained on `trainedOn` (the paper trains it on D0 and reuses it).
    case bpe
  }
  public var kind: Kind
  /// Vocabulary size V (256 for bytes).
  public var vocab: Int
  /// The dataset the BPE merges are learned from (nil for bytes).
  public var trainedOn: String?

  public init(kind: Kind, vocab: Int, trainedOn: String?) {
    self.kind = kind
    self.vocab = vocab
    self.trainedOn = trainedOn
  }
}

/// AdamW and clipping (paper defaults).
public struct OptimizerConfig: Sendable, Hashable {
  public var beta1: Double
  public var beta2: Double
  public var epsilon: Double
  public var weightDecay: Double
  /// Global gradient-norm clip (0 turns clipping off).
  public var gradClip: Double

  public init(
    beta1: Double = 0.9, beta2: Double = 0.95, epsilon: Double = 1e-8, weightDecay: Double = 0.1,
    gradClip: Double = 1.0
  ) {
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    self.weightDecay = weightDecay
    self.gradClip = gradClip
  }
}

/// When and on what the validation loss is measured.
public struct EvaluationConfig: Sendable, Hashable {
  /// Evaluate every N steps (and always at the start of the run and at every stage's end).
  public var every: Int
  /// Validation windows of T tokens per dataset (the same windows at every evaluation).
  public var windows: Int
  /// Datasets evaluated, by name (default: all of them).
  public var datasets: [String]
  /// Final losses are averaged over this many last evaluations (for sweeps and comparisons).
  public var average: Int
  /// Where the windows come from in each validation split.
  public var sample: ValidationSample

  public init(
    every: Int, windows: Int, datasets: [String], average: Int = 3,
    sample: ValidationSample = .first
  ) {
    self.every = every
    self.windows = windows
    self.datasets = datasets
    self.average = average
    self.sample = sample
  }
}

/// How replay goes through earlier data (`Corpus.ReplayOrder`, named here for the config's users).
public typealias ReplayOrder = Corpus.ReplayOrder

/// Where a dataset's validation windows come from. Its validation split keeps the sources' order,
/// so the first windows are the first held-out documents only.
public enum ValidationSample: String, Sendable, Hashable, CaseIterable {
  /// Back to back from the start of the split (the shipped runs').
  case first
  /// Evenly spaced over the whole split.
  case spread
}

/// When checkpoints are written.
public struct CheckpointPolicy: Sendable, Hashable {
  /// Write one at the end of every stage.
  public var atStageEnd: Bool
  /// Also write one every N steps (0: never).
  public var every: Int

  public init(atStageEnd: Bool = true, every: Int = 0) {
    self.atStageEnd = atStageEnd
    self.every = every
  }
}

/// How a stage's length was given.
public enum StageLength: Sendable, Hashable {
  case tokens(Int)
  case steps(Int)
}

/// One stage of the run: a dataset, a length and a learning-rate schedule.
public struct StageConfig: Sendable, Hashable {
  /// Gives each stage that continues an infinite span (an infinite stage right after another) its
  /// span's first stage's schedule, ηmax and ηmin, and no warmup: what the config loader makes of
  /// such a stage, so a plan changed while training still reads back the same.
  public static func alignInfiniteSpans(_ stages: inout [StageConfig]) {
    var first = 0
    for index in stages.indices {
      let continues =
        index > 0 && stages[index].schedule.kind == .infinite
        && stages[index - 1].schedule.kind == .infinite
      guard continues else {
        first = index
        continue
      }
      stages[index].schedule = stages[first].schedule
      stages[index].lrMax = stages[first].lrMax
      stages[index].lrMin = stages[first].lrMin
      stages[index].warmupFraction = 0
    }
  }

  public var name: String?
  /// The dataset trained on (a name from `ExperimentConfig.datasets`).
  public var dataset: String
  /// The length as written in the config.
  public var length: StageLength
  /// The length in optimizer steps (tokens rounded up to whole steps).
  public var steps: Int
  public var schedule: Schedule
  /// Warmup as a fraction of the stage (W = warmupFraction·T); 0 to 1.
  public var warmupFraction: Double
  public var lrMax: Double
  public var lrMin: Double
  /// Share of every batch replayed from `replayFrom`, in percent (0 to 100).
  public var replayPercent: Double
  /// Earlier datasets the replayed share is drawn from (equally).
  public var replayFrom: [String]
  public var optimizerState: OptimizerStateAction
  /// How replayed windows go through the replayed training splits.
  public var replayOrder: ReplayOrder = .sequential

  public init(
    name: String? = nil, dataset: String, length: StageLength, steps: Int,
    schedule: Schedule = .cosine, warmupFraction: Double = 0.01, lrMax: Double = 4e-3,
    lrMin: Double = 4e-4, replayPercent: Double = 0, replayFrom: [String] = [],
    optimizerState: OptimizerStateAction = .reset
  ) {
    self.name = name
    self.dataset = dataset
    self.length = length
    self.steps = steps
    self.schedule = schedule
    self.warmupFraction = warmupFraction
    self.lrMax = lrMax
    self.lrMin = lrMin
    self.replayPercent = replayPercent
    self.replayFrom = replayFrom
    self.optimizerState = optimizerState
  }

  /// What the learning rate of this stage depends on.
  public var stageSchedule: StageSchedule {
    StageSchedule(
      schedule: schedule, steps: steps, warmupFraction: warmupFraction, lrMax: lrMax, lrMin: lrMin)
  }

  /// Whether stage `index` of `stages` continues the infinite span of the stage before it.
  static func continuesInfinite(_ stages: [StageConfig], _ index: Int) -> Bool {
    index > 0 && stages.indices.contains(index) && stages[index].schedule.kind == .infinite
      && stages[index - 1].schedule.kind == .infinite
  }

  /// Stage `index` of `stages` made as long as the `ran` steps it trained (it ended early; later
  /// stages start where it ended), as the trainer, the live screen and the chart's preview all plan
  /// it. When the next stage continues the same infinite span, the steps left unrun go to that stage
  /// and the span's warmup keeps its length in steps: the span, and so the learning rate at every
  /// one of its steps, stays as planned (ending stage 1 of a 1500 + 1500-step span at step 592 had
  /// moved the cooldown's end from step 1800 to 1255, a 6.5 % drop of the rate at the switch).
  public static func endEarly(_ stages: inout [StageConfig], index: Int, ran: Int) {
    guard stages.indices.contains(index), ran > 0, ran < stages[index].steps else { return }
    if continuesInfinite(stages, index + 1) {
      let unrun = stages[index].steps - ran
      if stages[index].warmupFraction > 0 {
        stages[index].warmupFraction = min(
          1, stages[index].warmupFraction * Double(stages[index].steps) / Double(ran))
      }
      stages[index + 1].steps += unrun
      stages[index + 1].length = .steps(stages[index + 1].steps)
    }
    stages[index].steps = ran
    stages[index].length = .steps(ran)
  }

  /// `stage` put at `index` of `stages` (in place of the planned stage there, or added), as the
  /// trainer puts a stage chosen on the live screen: a stage continuing an infinite span in place of
  /// a planned one keeps the planned length (the stage panel fixes it; it holds what an early end
  /// of the stage before left unrun), and the span's rates are handed on.
  public static func place(_ stage: StageConfig, at index: Int, in stages: inout [StageConfig]) {
    var stage = stage
    if index < stages.count {
      if stage.schedule.kind == .infinite && continuesInfinite(stages, index) {
        stage.steps = stages[index].steps
        stage.length = stages[index].length
      }
      stages[index] = stage
    } else {
      stages.append(stage)
    }
    alignInfiniteSpans(&stages)
  }
}

/// Built-in defaults (paper values, with ηmax sized for the tiny models here).
public enum ConfigDefaults {
  public static let seed = 1
  public static let batchSize = 16
  public static let layers = 4
  public static let heads = 4
  public static let width = 128
  public static let context = 128
  public static let bpeVocab = 512
  public static let warmupFraction = 0.01
  public static let lrMax = 4e-3
  /// ηmin = ηmax / 10 unless given.
  public static let lrMinRatio = 0.1
  public static let evaluationEvery = 25
  public static let evaluationWindows = 32
  public static let evaluationAverage = 3
  public static let repeatedCosinePeriods = 2
  /// The fewest steps a repeated-cosine period may have (fewer are no cosine: one-step periods
  /// stayed at ηmin).
  public static let minimumStepsPerPeriod = 4
  public static let rewarmFraction = 0.01
  public static let decayFraction = 0.2
  public static let decayShape = DecayShape.oneMinusSqrt
}
