// The run as the screen knows it, built by folding events: `RunState.fold(state, event)` is pure,
// and `state.screenModel()` says what to draw. Events may come from a trainer (live) or from a log
// (replay, follow); the fold cannot tell them apart.

import Experiment
import Foundation
import RunLog
import Screens

/// Everything the screen needs to know about one run, updated event by event.
public struct RunState: Sendable, Equatable {
  // MARK: What the run is

  public var runName: String
  /// Dataset names in config order (D0 first).
  public var datasets: [String]
  /// The stages planned by the config (index 0 is stage 1); started stages replace their entry.
  public var plannedStages: [StageConfig]
  /// Training tokens per optimizer step (from the config, else learned from step events).
  public var tokensPerStep: Int?
  /// Interactive runs wait after every stage; the fold then opens the stage panel.
  public var interactive: Bool
  /// Final losses average this many evaluations (`RunSummary`).
  public var averaging: Int

  // MARK: Where the run is

  /// Every stage that started, in order.
  public private(set) var stages: [StageStartEvent] = []
  /// Global step at which each started stage ended (nil while it runs).
  public private(set) var stageEnds: [Int?] = []
  public private(set) var step = 0
  public private(set) var tokens = 0
  public private(set) var tokensPerSecond: Double?
  public private(set) var ended: RunEndEvent?
  public private(set) var validation: [String: Series] = [:]
  public private(set) var trainLoss = BucketedSeries()
  public private(set) var learningRate = BucketedSeries()
  /// The events `RunSummary` reads (header, stage starts and ends, evaluations, run end): few, so the
  /// measures can be recomputed from them at every frame.
  public private(set) var summaryEvents: [RunEvent] = []
  /// The last few error messages (sanitized when drawn).
  public private(set) var errors: [String] = []
  public private(set) var lastCheckpoint: String?
  /// The step of `lastCheckpoint`.
  public private(set) var lastCheckpointStep: Int?
  /// "checkpoint saved: …" after a checkpoint the user asked for, until the first evaluation
  /// logged `checkpointNoticeSeconds` or more after it (an evaluation every few steps would
  /// otherwise wipe it before it can be read).
  public private(set) var checkpointNotice: String?
  /// Run time (s) of the checkpoint `checkpointNotice` names.
  private var checkpointNoticeTime: Double?
  /// How long (run time, s) the checkpoint notice stays at least.
  static let checkpointNoticeSeconds = 5.0

  // MARK: What the user asked for (set through `note(_:)`)

  public private(set) var paused = false
  /// A stage ended and the trainer waits for the next one (interactive runs).
  public private(set) var awaitingChoice = false
  /// The user chose the next stage; the trainer has not started it yet.
  public private(set) var choicePending = false
  public private(set) var stopping = false
  public private(set) var checkpointRequested = false
  /// A message from outside the fold (for example a run-log write error).
  public var externalNotice: String?

  // MARK: What the controller proposes to the screen

  /// The view a fresh screen starts with (the screen keeps the user's own).
  public var view: ViewState
  /// The proposed settings of the next stage; `draftSerial` grows when the proposal changes.
  public private(set) var draft: StageSettings
  public private(set) var draftSerial = 0
  /// Grows each time a stage ended and the stage panel should open.
  public private(set) var panelRequest = 0

  /// A run about to start. `config` gives the plan (stages, datasets, tokens per step); a replayed
  /// log without a config can pass nil and the fold learns what it can from the events.
  public init(config: ExperimentConfig?, interactive: Bool, view: ViewState = ViewState()) {
    runName = config?.name ?? ""
    datasets = config?.datasets.map(\.name) ?? []
    plannedStages = config?.stages ?? []
    tokensPerStep = config?.tokensPerStep
    averaging = config?.evaluation.average ?? ConfigDefaults.evaluationAverage
    self.interactive = interactive
    self.view = view
    draft = StageSettings()
    draft = proposal(forStage: 2)
  }

  // MARK: - The fold

  /// The state after `event`. Pure: the same state and event always give the same result.
  public static func fold(_ state: RunState, _ event: RunEvent) -> RunState {
    var next = state
    next.apply(event)
    return next
  }

  /// Folds `event` in place (what `fold` does, without copying the series).
  public mutating func apply(_ event: RunEvent) {
    switch event {
    case .header(let h):
      if runName.isEmpty { runName = h.runName }
      for name in h.datasets where !datasets.contains(name) { datasets.append(name) }
      summaryEvents.append(event)
    case .step(let s):
      if tokensPerStep == nil, s.step > 0, s.tokens > 0 { tokensPerStep = s.tokens / s.step }
      step = s.step
      tokens = s.tokens
      if let t = s.tokensPerSecond { tokensPerSecond = t }
      trainLoss.append(x: Double(s.tokens), y: s.loss)
      learningRate.append(x: Double(s.tokens), y: s.lr)
    case .eval(let e):
      step = max(step, e.step)
      tokens = max(tokens, e.tokens)
      for loss in e.losses {
        if !datasets.contains(loss.dataset) { datasets.append(loss.dataset) }
        validation[loss.dataset, default: Series(name: loss.dataset)].append(
          x: Double(e.tokens), y: loss.loss)
      }
      summaryEvents.append(event)
      if let shown = checkpointNoticeTime, let now = e.time,
        now - shown < Self.checkpointNoticeSeconds
      {
        break
      }
      checkpointNotice = nil
    case .stageStart(let s):
      trainLoss.flush()
      learningRate.flush()
      if !datasets.contains(s.dataset) { datasets.append(s.dataset) }
      let config = StageChoice.stageConfig(from: s)
      let index = s.stage - 1
      if index >= 0 {
        if index < plannedStages.count {
          // Keep the config's own length spelling and name when the stage runs as planned.
          var planned = config
          if plannedStages[index].steps == s.steps { planned.length = plannedStages[index].length }
          plannedStages[index] = planned
        } else {
          while plannedStages.count < index { plannedStages.append(config) }
          plannedStages.append(config)
        }
      }
      stages.append(s)
      stageEnds.append(nil)
      step = max(step, s.startStep)
      tokens = max(tokens, s.startTokens)
      awaitingChoice = false
      choicePending = false
      paused = false
      draft = proposal(forStage: s.stage + 1)
      draftSerial += 1
      summaryEvents.append(event)
    case .stageEnd(let e):
      summaryEvents.append(event)
      if let i = stages.lastIndex(where: { $0.stage == e.stage }) {
        stageEnds[i] = e.step
        // A stage that ended early plans no more steps (those an infinite span's next stage
        // takes on, as the trainer plans it).
        let index = e.stage - 1
        if plannedStages.indices.contains(index) {
          let ran = max(0, e.step - stages[i].startStep)
          StageConfig.endEarly(&plannedStages, index: index, ran: ran)
          plannedStages[index].steps = ran
        }
      }
      if interactive && ended == nil && !stopping && !choicePending
        && (e.reason == .completed || e.reason == .endedEarly)
      {
        awaitingChoice = true
        panelRequest += 1
      }
    case .checkpoint(let c):
      lastCheckpoint = c.path
      lastCheckpointStep = c.step
      if checkpointRequested {
        checkpointRequested = false
        checkpointNotice = Self.savedNotice(c.path)
        checkpointNoticeTime = c.time
      }
    case .note:
      break
    case .error(let e):
      errors.append(e.message)
      if errors.count > 3 { errors.removeFirst(errors.count - 3) }
    case .resume(let r):
      ended = nil  // a stopped run that goes on
      step = r.step
      if let t = r.tokens { tokens = t }
      // An interactive run resumed between stages waits for the stage panel's choice again.
      if interactive && r.stageEnded == true {
        awaitingChoice = true
        choicePending = false
        panelRequest += 1
      }
    case .runEnd(let end):
      ended = end
      if let s = end.step { step = max(step, s) }
      if let t = end.tokens { tokens = max(tokens, t) }
      awaitingChoice = false
      summaryEvents.append(event)
    }
  }

  /// Folds the logged events of a run that resumes (as `RunLogReader.applyingResumes` orders
  /// them, the new resume event last): the past draws as it was, and only the resume itself asks
  /// for the stage panel (when it goes on between stages), not the past's stage ends.
  public mutating func applyHistory(_ history: [RunEvent]) {
    let wasInteractive = interactive
    interactive = false
    for event in history.dropLast() { apply(event) }
    interactive = wasInteractive
    if let last = history.last { apply(last) }
  }

  // MARK: - Commands the user gave

  /// Something the controller passed on to the trainer (or decided not to).
  public enum Note: Sendable, Equatable {
    case paused(Bool)
    case choseNextStage
    case stopping
    case checkpointRequested
  }

  /// Records what the user asked for, so the screen can show it before the trainer reacts.
  public mutating func note(_ note: Note) {
    switch note {
    case .paused(let p): paused = p
    case .choseNextStage:
      choicePending = true
      awaitingChoice = false
    case .stopping:
      stopping = true
      paused = false
    case .checkpointRequested:
      // The trainer writes nothing when a checkpoint of this step exists (the stage end's, say):
      // confirm that one at once.
      if let path = lastCheckpoint, lastCheckpointStep == step {
        checkpointNotice = Self.savedNotice(path)
        checkpointNoticeTime = nil
      } else {
        checkpointRequested = true
      }
    }
  }

  /// "checkpoint saved: step-20.safetensors".
  static func savedNotice(_ path: String) -> String {
    "checkpoint saved: " + (path.split(separator: "/").last.map(String.init) ?? path)
  }

  // MARK: - Derived facts

  /// The stage running (or last run), from 1; 0 before the first stage starts.
  public var currentStage: Int { stages.last?.stage ?? 0 }

  /// Whether a stage is under way (started and not ended).
  public var stageRunning: Bool { stageEnds.last.map { $0 == nil } ?? false }

  /// Whether the trainer is still there to take commands.
  public var isRunning: Bool { ended == nil }

  /// The config of the stage that a confirmed draft replaces or extends: the next planned stage,
  /// else the last stage.
  public var nextStageBase: StageConfig? {
    let index = currentStage  // stage numbers start at 1, so this is the next stage's index
    if plannedStages.indices.contains(index) { return plannedStages[index] }
    return plannedStages.last
  }

  /// "D1 german": the dataset's name and the name of the first stage that trains on it.
  public func label(forDataset name: String) -> String {
    guard let stageName = stageName(forDataset: name), stageName != name else { return name }
    return name + " " + stageName
  }

  /// The name of the first stage (run, else planned) that trains on dataset `name`.
  public func stageName(forDataset name: String) -> String? {
    let found =
      stages.first(where: { $0.dataset == name })?.name
      ?? plannedStages.first(where: { $0.dataset == name })?.name
    return found?.isEmpty == false ? found : nil
  }

  /// The datasets the stages so far trained on, each once, in the order they were first trained.
  public var trainedDatasets: [String] {
    var out: [String] = []
    for s in stages where !out.contains(s.dataset) { out.append(s.dataset) }
    return out
  }

  /// The proposed settings of stage `number` (from 1): as planned, else like the stage before.
  func proposal(forStage number: Int) -> StageSettings {
    let index = number - 1
    let source: StageConfig? =
      plannedStages.indices.contains(index) ? plannedStages[index] : plannedStages.last
    guard let source else { return StageSettings() }
    var settings = StageChoice.settings(
      from: source, datasets: datasets, datasetLabels: datasets.map(label(forDataset:)),
      tokensPerStep: tokensPerStep ?? 1)
    settings.infiniteSpan = infiniteSpan(continuedBy: index)
    settings.followInfiniteSpan()
    // Past the planned span `infinite` cannot go on (it would re-plan the stages already
    // trained): propose re-warming with cosine at the span's rates and first warmup instead.
    if let span = settings.infiniteSpan, settings.startRefusal != nil,
      let cosine = settings.schedules.firstIndex(of: ScheduleKind.cosine.rawValue)
    {
      settings.scheduleIndex = cosine
      settings.followInfiniteSpan()
      settings.warmupPercent = plannedStages[span.firstStage - 1].warmupFraction * 100
      settings.lrMax = span.lrMax
      settings.lrMin = span.lrMin
    }
    // What replay would draw on for each dataset choice: the rule the stage is made with.
    settings.replaySources = datasets.indices.map { index in
      var probe = settings
      probe.datasetIndex = index
      probe.replayPercent = 1
      return StageChoice.stageConfig(
        from: probe, datasets: datasets, base: source, tokensPerStep: tokensPerStep ?? 1,
        trainedDatasets: stages.isEmpty ? nil : trainedDatasets
      ).replayFrom.joined(separator: " ")
    }
    return settings
  }

  /// The infinite schedule stage `index` (from 0) would continue: the one the stage before ran,
  /// if it was infinite, with this stage's planned length when the plan has it continue there.
  func infiniteSpan(continuedBy index: Int) -> InfiniteSpan? {
    guard index > 0, plannedStages.indices.contains(index - 1),
      plannedStages[index - 1].schedule.kind == .infinite
    else { return nil }
    var first = index - 1
    while first > 0 && plannedStages[first - 1].schedule.kind == .infinite { first -= 1 }
    var planned: Double? = nil
    if plannedStages.indices.contains(index), plannedStages[index].schedule.kind == .infinite {
      planned = Double(plannedStages[index].steps * (tokensPerStep ?? 1))
    }
    return InfiniteSpan(
      firstStage: first + 1, lastStage: index, lrMax: plannedStages[first].lrMax,
      lrMin: plannedStages[first].lrMin,
      plannedLengthTokens: planned)
  }

  /// The planned steps of the whole run: stages that ended count as run, the others as planned.
  public var plannedTotalSteps: Int {
    plannedStages.reduce(0) { $0 + $1.steps }
  }

  /// The learning rate still planned after the current step, as (tokens, lr) points.
  func plannedLearningRate() -> Series {
    learningRatePreview?.series(for: nil) ?? Series(name: "lr planned")
  }

  /// What the screen needs to draw the planned learning rate with its own draft of the next
  /// stage (nil before the run's batch size is known, or once it ended).
  var learningRatePreview: LearningRatePreview? {
    guard let perStep = tokensPerStep, isRunning, !plannedStages.isEmpty else { return nil }
    // Before stage 1 started the draft is stage 2's, as it is after.
    return LearningRatePreview(
      plannedStages: plannedStages, step: step, tokensPerStep: perStep, datasets: datasets,
      nextStageIndex: max(currentStage, 1), stageRunning: stageRunning)
  }

  /// The stage the trainer runs for a confirmed draft of the next stage.
  public func stageConfig(for settings: StageSettings) -> StageConfig {
    let dataset =
      datasets.indices.contains(settings.datasetIndex) ? datasets[settings.datasetIndex] : nil
    return StageChoice.stageConfig(
      from: settings, datasets: datasets, base: nextStageBase, tokensPerStep: tokensPerStep ?? 1,
      trainedDatasets: trainedDatasets, stageName: dataset.flatMap(stageName(forDataset:)))
  }

  // MARK: - The screen

  /// The screen model for this state (view and next-stage draft as the controller proposes them).
  public func screenModel() -> ScreenModel {
    let labels = datasets.map(label(forDataset:))
    var run = RunSeries(name: runName)
    for (name, label) in zip(datasets, labels) {
      guard var s = validation[name] else { continue }
      s.name = label
      run.validation.append(s)
    }
    run.trainLoss = trainLoss.series(name: "train")
    run.lrPast = learningRate.series(name: "lr")
    run.latestTrainLoss = trainLoss.latest
    run.latestLearningRate = learningRate.latest
    run.lrPlanned = isRunning ? plannedLearningRate() : Series(name: "lr planned")
    for s in stages where s.stage > 1 {
      let settings = StageSettings(
        warmupPercent: s.warmupFraction * 100, lrMax: s.lrMax, lrMin: s.lrMin,
        schedules: [s.schedule], replayPercent: s.replayPercent)
      // A stage of an infinite span after its first: the rate carries on, no warmup or ηmax.
      let continues = stages.infiniteSpanStart(of: s.stage).map { $0 < s.stage } ?? false
      run.stageMarkers.append(
        StageMarker(
          x: Double(s.startTokens),
          label: StageMarker.label(stage: s.stage, settings: settings, continuesInfinite: continues)
        ))
    }

    let total = plannedTotalSteps
    var status = RunStatus(
      runName: runName, stage: max(currentStage, 1),
      stageCount: max(stages.count, plannedStages.count),
      dataset: stages.last.map { label(forDataset: $0.dataset) }
        ?? plannedStages.first.map { label(forDataset: $0.dataset) } ?? "",
      step: step, totalSteps: max(total, step), tokensPerSecond: tokensPerSecond)
    if let t = tokensPerSecond, t > 0, let perStep = tokensPerStep, isRunning, !awaitingChoice,
      total > step
    {
      status.etaSeconds = Double((total - step) * perStep) / t
    }
    status.stopping = stopping && ended == nil
    status.held = paused && ended == nil
    if let ended {
      status.mode = .finished
      if ended.status != .completed { status.endedAs = ended.status.rawValue }
    } else if awaitingChoice {
      status.mode = .waiting
    } else if paused {
      status.mode = .paused
    } else {
      status.mode = .live
    }

    let summary = RunSummary(events: summaryEvents, averaging: averaging)
    // Adaptation is about a later stage's dataset: none until a later stage is evaluated.
    var measures = Measures(
      forgetting: summary.forgetting, adaptation: summary.adaptation, average: summary.average,
      firstDataset: summary.firstDataset ?? "D0",
      adaptationDataset: summary.adaptationDataset ?? "D1")
    measures.laterForgetting = summary.datasets.compactMap { dataset in
      guard dataset != summary.firstDataset, let change = summary.forgettingByDataset[dataset]
      else { return nil }
      return DatasetChange(dataset: dataset, change: change)
    }

    return ScreenModel(
      status: status, runs: [run], xUnit: .tokens, measures: measures, nextStage: draft,
      notices: notices, view: view)
  }

  /// The notice line: what the run is waiting for, errors, saving.
  var notices: [String] {
    // What came from outside the fold first (a log that cannot be written, what a resume had to
    // say): the line is cut at the screen's width.
    var out: [String] = externalNotice.map { [$0] } ?? []
    if let end = ended {
      let text: String
      switch end.status {
      case .stopped: text = "run stopped at step \(end.step ?? step): log and checkpoint saved"
      case .completed: text = "run completed"
      default: text = "run ended: \(end.status)"
      }
      out.append(text + " · q quits")
    } else if stopping {
      out.append("stopping: saving a checkpoint and the log…")
    } else if awaitingChoice {
      // The checkpoint the user just asked for first: after the long stage notice it was cut off.
      if checkpointRequested {
        out.append("saving a checkpoint…")
      } else if let c = checkpointNotice {
        out.append(c)
      }
      out.append(
        currentStage >= plannedStages.count
          ? "stage \(currentStage) done, the run is complete: q ends it, or the panel (n) adds "
            + "stage \(currentStage + 1)"
          : "stage \(currentStage) done: set up stage \(currentStage + 1) in the panel (n), Enter "
            + "starts it · q quits")
    } else if choicePending {
      out.append("starting the next stage…")
    } else if checkpointRequested {
      out.append("saving a checkpoint…")
    } else if let c = checkpointNotice {
      out.append(c)
    }
    out += errors
    return out
  }
}
