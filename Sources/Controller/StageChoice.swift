// The stage panel's settings and the trainer's stage configs, both ways: a draft of the next stage
// made from a planned (or earlier) stage, and the `StageConfig` the trainer runs from a draft.

import Experiment
import RunLog
import Screens

/// Converts between `StageSettings` (what the screen edits) and `StageConfig` (what trains).
public enum StageChoice {
  /// Schedule kinds offered by the stage panel, in the config's spelling.
  public static let scheduleNames: [String] = ScheduleKind.allCases.map(\.rawValue)

  /// A draft for the screen from a stage: `datasetLabels` are shown in config order ("D0 english").
  public static func settings(
    from stage: StageConfig, datasets: [String], datasetLabels: [String], tokensPerStep: Int
  ) -> StageSettings {
    let lengthTokens: Double
    switch stage.length {
    case .tokens(let n): lengthTokens = Double(n)
    case .steps(let n): lengthTokens = Double(n * tokensPerStep)
    }
    var settings = StageSettings(
      datasets: datasetLabels, datasetIndex: datasets.firstIndex(of: stage.dataset) ?? 0,
      warmupPercent: stage.warmupFraction * 100, lrMax: stage.lrMax, lrMin: stage.lrMin,
      schedules: scheduleNames,
      scheduleIndex: scheduleNames.firstIndex(of: stage.schedule.kind.rawValue) ?? 0,
      replayPercent: stage.replayPercent, lengthTokens: lengthTokens)
    settings.replaySpread = stage.replayOrder == .spread
    settings.tokensPerStep = tokensPerStep
    return settings
  }

  /// The stage the trainer runs for a confirmed draft.
  ///
  /// - `datasets`: the config's dataset names, in the order of `settings.datasets`.
  /// - `base`: the stage the draft was made from (the next planned stage, else the last one); its
  ///   name, schedule parameters, replay sources and optimizer action carry over where they still
  ///   apply.
  /// - `trainedDatasets`: the datasets earlier stages trained on, in order. Replay draws from
  ///   them, the new stage's own dataset left out (as a config's default `replayFrom` does); the
  ///   base stage's sources are kept when it trains the same dataset, as far as they were trained.
  ///   Without that history (nil), the base's sources, else D0.
  /// - `stageName`: the name to give the stage when its dataset differs from the base's (the
  ///   name of the first stage that trained or plans that dataset), so legends keep "D2 german".
  /// - The length in tokens becomes whole steps (rounded up, at least 1).
  public static func stageConfig(
    from settings: StageSettings, datasets: [String], base: StageConfig?, tokensPerStep: Int,
    trainedDatasets: [String]? = nil, stageName: String? = nil
  ) -> StageConfig {
    let dataset =
      datasets.indices.contains(settings.datasetIndex)
      ? datasets[settings.datasetIndex] : (base?.dataset ?? datasets.first ?? "")
    let tokens = max(1, Int(settings.lengthTokens.rounded()))
    let perStep = max(1, tokensPerStep)
    let steps = max(1, (tokens + perStep - 1) / perStep)
    let kind = ScheduleKind(rawValue: settings.schedule) ?? base?.schedule.kind ?? .cosine
    let schedule: Schedule
    if let base, base.schedule.kind == kind {
      schedule = base.schedule
    } else {
      schedule = Schedule.withDefaults(kind)
    }
    var replayFrom: [String] = []
    if settings.replayPercent > 0 {
      let inherited = base?.replayFrom ?? []
      if let trained = trainedDatasets {
        let earlier = trained.filter { $0 != dataset }
        let kept =
          base?.dataset == dataset ? inherited.filter { earlier.contains($0) } : []
        replayFrom = kept.isEmpty ? earlier : kept
        // Nothing else trained yet (a second stage on D0): replay D0, i.e. the stage's own data.
        if replayFrom.isEmpty { replayFrom = Array(trained.prefix(1)) }
      } else {
        replayFrom = inherited.isEmpty ? Array(datasets.prefix(1)) : inherited
      }
    }
    // A stage continuing an infinite schedule has none of its own warmup, ηmax or ηmin (as the
    // config loader makes it; a resume reads the stage back through the loader).
    let span = settings.continuesInfinite ? settings.infiniteSpan : nil
    var stage = StageConfig(
      name: base?.dataset == dataset ? base?.name : stageName, dataset: dataset,
      length: .tokens(tokens), steps: steps, schedule: schedule,
      warmupFraction: span == nil ? settings.warmupPercent / 100 : 0,
      lrMax: span?.lrMax ?? settings.lrMax, lrMin: span?.lrMin ?? settings.lrMin,
      replayPercent: settings.replayPercent, replayFrom: replayFrom,
      optimizerState: base?.optimizerState ?? .reset)
    stage.replayOrder = settings.replaySpread ? .spread : .sequential
    return stage
  }

  /// A logged stage as a config (for planning its learning rate and as the base of a draft).
  public static func stageConfig(from event: StageStartEvent) -> StageConfig {
    var stage = StageConfig(
      name: event.name, dataset: event.dataset, length: .steps(event.steps), steps: event.steps,
      schedule: Schedule(logged: event.schedule, parameters: event.scheduleParameters) ?? .cosine,
      warmupFraction: event.warmupFraction, lrMax: event.lrMax, lrMin: event.lrMin,
      replayPercent: event.replayPercent, replayFrom: event.replayFrom,
      optimizerState: event.optimizerState)
    stage.replayOrder = event.replayOrder.flatMap(ReplayOrder.init(rawValue:)) ?? .sequential
    return stage
  }
}
