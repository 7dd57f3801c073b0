import Corpus
import Foundation
import Model
import RunLog
import Tensor

/// How a trainer runs (not part of the experiment config: these do not change results, except
/// `threads`, which changes the last bits).
public struct TrainerOptions: Sendable {
  /// Engine threads (the model's own loops and data-parallel replicas; the caller sets
  /// OpenBLAS's, `BLAS.threads`).
  public var threads: Int
  /// Folder for checkpoints (created when needed).
  public var checkpointDirectory: String
  /// Interactive runs wait for a `startStage` (or `stop`) command after every stage, so the user can
  /// choose the next stage's settings; headless runs go through the configured stages.
  public var waitBetweenStages: Bool
  /// Whether every event so far reached the run log. While it is false (a full disk) the trainer
  /// keeps superseded periodic checkpoints, since the log may still point at them.
  public var logIsComplete: @Sendable () -> Bool
  /// A checkpoint that cannot be written (a full disk) pauses the run until a resume command
  /// retries it (interactive runs); otherwise it ends the run as failed.
  public var pauseOnCheckpointFailure: Bool

  public init(
    threads: Int, checkpointDirectory: String, waitBetweenStages: Bool = false,
    pauseOnCheckpointFailure: Bool = false, logIsComplete: @escaping @Sendable () -> Bool = { true }
  ) {
    self.threads = threads
    self.checkpointDirectory = checkpointDirectory
    self.waitBetweenStages = waitBetweenStages
    self.pauseOnCheckpointFailure = pauseOnCheckpointFailure
    self.logIsComplete = logIsComplete
  }
}

/// What a checkpoint must hold besides the model and optimizer to continue a run bit-identically.
struct TrainerState: Codable {
  /// The config as it stands (stages may have been added or changed from the keyboard), as the
  /// resolved JSON text `ConfigLoader` reads.
  var config: String
  /// The stage running (from 0) and the updates done in it; `stageStep == steps` means it ended.
  var stageIndex: Int
  var stageStep: Int
  var globalStep: Int
  /// The batch sampler of the running stage.
  var mixer: MixerState?
  /// True when the stage had ended (and logged its end) when the checkpoint was written.
  var stageEnded: Bool
  /// Seconds since the run started when the checkpoint was written (absent in checkpoints from
  /// before 27 Nov), so that a resumed run's event times go on from there.
  var elapsed: Double? = nil
}

/// Trains an experiment's stages on the calling thread: a synchronous loop around the engine that
/// takes commands between steps and reports everything as run-log events through `emit`.
///
/// Between steps it drains the `CommandInbox` (pause, end the stage, start a stage with new
/// settings, checkpoint, stop). It evaluates every dataset's validation windows at step 0, every
/// `evaluation.every` steps and at every stage end, checkpoints at stage ends (and every
/// `checkpoints.every` steps), and stops a stage whose loss is NaN or infinite.
public final class Trainer: @unchecked Sendable {
  public private(set) var config: ExperimentConfig
  public let data: ExperimentData
  public let options: TrainerOptions
  public let model: GPTNeoX
  public let optimizer: AdamW
  private let inbox: CommandInbox
  private let emit: (RunEvent) -> Void
  private let loader: ConfigLoader

  private var plan: SchedulePlan
  private var stageIndex = 0
  private var stageStep = 0
  private var globalStep = 0
  private var stageEnded = false
  private var mixer: BatchMixer?
  private var batch: [Int32]
  private let started = Date()
  /// The run's time at the checkpoint it resumed from (0 for a fresh run).
  private var elapsedBeforeResume = 0.0
  private var tokensPerSecond: Double?
  private var lastEvalStep = -1
  private var lastPeriodicCheckpoint: String?
  /// A periodic checkpoint fell on the stage's last step: the stage end's is written in its place.
  private var periodicDueAtStageEnd = false
  /// The global step of the last checkpoint written.
  private var lastCheckpointStep: Int?
  private var resumed = false

  public init(
    config: ExperimentConfig, data: ExperimentData, options: TrainerOptions,
    inbox: CommandInbox = CommandInbox(), loader: ConfigLoader = ConfigLoader(),
    emit: @escaping (RunEvent) -> Void
  ) throws {
    self.config = config
    self.data = data
    self.options = options
    self.inbox = inbox
    self.loader = loader
    self.emit = emit
    model = try GPTNeoX(config: config.model, seed: UInt64(truncatingIfNeeded: config.seed))
    model.threads = options.threads
    var hyper = AdamW.Hyperparameters()
    hyper.beta1 = Float(config.optimizer.beta1)
    hyper.beta2 = Float(config.optimizer.beta2)
    hyper.epsilon = Float(config.optimizer.epsilon)
    hyper.weightDecay = Float(config.optimizer.weightDecay)
    hyper.clipNorm = Float(config.optimizer.gradClip)
    optimizer = AdamW(layout: model.layout, hyper: hyper)
    plan = config.schedulePlan
    batch = [Int32](repeating: 0, count: config.batchSize * (config.model.context + 1))
  }

  /// Wall seconds since the run started, pauses and waits between stages included (after
  /// `restore`, going on from the checkpoint's; the time between a stop and its resume is not).
  public var elapsedSeconds: Double { elapsed }

  /// Optimizer steps taken so far in the run (after `restore`, the checkpoint's).
  public var globalStepForResume: Int { globalStep }

  /// After `restore`: whether a stage ended at the checkpoint's step before it was written (its
  /// end and evaluation are part of the run): a checkpoint written at a stage's end, or a stop's
  /// at the next stage's step 0. False: the checkpoint is inside a stage, which the resumed run
  /// ends itself.
  public private(set) var restoredStageEnded = false

  /// Tokens trained per step (B·T).
  public var tokensPerStep: Int { config.tokensPerStep }

  /// The step the run will end at as planned from here: the current stage's start plus its and
  /// the later stages' planned steps (after `restore`, stages that ended early or were added in
  /// the live screen count as they ran or as the checkpoint plans them).
  public var plannedEndStep: Int {
    let from = stageEnded ? stageIndex + 1 : stageIndex
    let start = stageEnded ? globalStep : globalStep - stageStep
    return start + config.stages.dropFirst(from).reduce(0) { $0 + $1.steps }
  }

  // MARK: - Resume

  /// Loads model, optimizer and position from a checkpoint this trainer's run wrote. The log's
  /// config (this trainer's) and the step the log names the checkpoint for (`loggedStep`) must
  /// agree with what the checkpoint holds: a checkpoint of another run (another seed, dataset or
  /// optimizer, or a file copied over this one) is refused.
  public func restore(checkpoint path: String, loggedStep: Int? = nil) throws {
    let loaded = try Checkpoint.load(from: path)
    guard loaded.model.config == model.config else {
      throw CheckpointError(path: path, reason: "its model differs from the run's config")
    }
    guard let stateText = loaded.metadata["cptui.trainer"],
      let state = try? JSONDecoder().decode(TrainerState.self, from: Data(stateText.utf8))
    else { throw CheckpointError(path: path, reason: "no trainer state (cptui.trainer metadata)") }
    // Read back as it was accepted: stages chosen on the panel may do what a config may not
    // (replay a second stage's own dataset, the only one trained before it).
    let saved = try loader.parse(yaml: state.config, source: path, logged: true)
    // The position must be one the saved plan has: the stage, its step, and the run's step as the
    // stages before it add up (a damaged one ended, cut short or crashed the resumed run).
    let stagesBefore = saved.stages.prefix(max(0, state.stageIndex)).reduce(0) { $0 + $1.steps }
    guard saved.stages.indices.contains(state.stageIndex),
      (0...saved.stages[state.stageIndex].steps).contains(state.stageStep),
      state.globalStep == stagesBefore + state.stageStep
    else {
      throw CheckpointError(
        path: path,
        reason:
          "its trainer state is damaged (stage index \(state.stageIndex), stage step "
          + "\(state.stageStep), step \(state.globalStep) do not fit its \(saved.stages.count)-stage "
          + "plan)")
    }
    if let loggedStep, loggedStep != state.globalStep {
      throw CheckpointError(
        path: path,
        reason:
          "it holds step \(state.globalStep), but the run log names it for step \(loggedStep): "
          + "it is not this run's checkpoint")
    }
    let differences: [(String, Bool)] = [
      ("seed", saved.seed == config.seed), ("tokenizer", saved.tokenizer == config.tokenizer),
      ("datasets", saved.datasets == config.datasets),
      ("batchSize", saved.batchSize == config.batchSize),
      ("optimizer", saved.optimizer == config.optimizer),
    ]
    if let differing = differences.first(where: { !$0.1 })?.0 {
      throw CheckpointError(
        path: path,
        reason: "its \(differing) differs from the run log's config: it is another run's checkpoint"
      )
    }
    config = saved
    plan = config.schedulePlan
    model.parameters.update(from: loaded.model.parameters, count: model.layout.count)
    if let saved = loaded.optimizer {
      optimizer.m.update(from: saved.m, count: model.layout.count)
      optimizer.v.update(from: saved.v, count: model.layout.count)
      optimizer.step = saved.step
    }
    stageIndex = state.stageIndex
    stageStep = state.stageStep
    globalStep = state.globalStep
    stageEnded = state.stageEnded
    elapsedBeforeResume = state.elapsed ?? 0
    lastCheckpointStep = globalStep  // the checkpoint resumed from: kept, should the run diverge
    // Evaluated at this step only when a schedule or the stage's end made it evaluate: a periodic
    // checkpoint at a stage's last step comes before the stage-end evaluation, and a stop's own
    // evaluation is not part of the run (readers drop it).
    restoredStageEnded = stageEnded || (stageStep == 0 && stageIndex > 0)
    let every = config.evaluation.every
    lastEvalStep =
      restoredStageEnded || (every > 0 && globalStep % every == 0) ? globalStep : -1
    // A periodic checkpoint resumed from is replaced by the next periodic one, as it would have
    // been had the run not stopped (a stop that fell on a periodic step is taken for one).
    let periodEvery = config.checkpoints.every
    if !restoredStageEnded, periodEvery > 0, globalStep % periodEvery == 0,
      URL(fileURLWithPath: path).lastPathComponent
        == URL(fileURLWithPath: checkpointPath).lastPathComponent
    {
      lastPeriodicCheckpoint = checkpointPath
    }
    if !stageEnded, stageStep > 0, stageIndex < config.stages.count {
      // Mid-stage, the batches go on from the saved sampler; without it the next step had none.
      guard let saved = state.mixer else {
        throw CheckpointError(
          path: path, reason: "it holds no sampler state (cptui.trainer mixer) in mid-stage")
      }
      let m = try makeMixer(stage: stageIndex)
      do { try m.restore(saved) } catch let error as CorpusError {
        throw CheckpointError(path: path, reason: "\(error)")
      }
      mixer = m
    }
    resumed = true
  }

  // MARK: - The loop

  /// Trains until the stages are done (or, when waiting between stages, until `stop`); returns how
  /// the run ended. Errors writing checkpoints are reported as events and end the run as `failed`.
  public func run() -> RunEndStatus {
    let status = runStages()
    emit(.runEnd(RunEndEvent(status: status, step: globalStep, tokens: tokens, time: elapsed)))
    return status
  }

  private func runStages() -> RunEndStatus {
    do {
      if !resumed { evaluate() }
      if stageEnded {
        // Resumed from a stage-end checkpoint: the next stage is due.
        stageIndex += 1
        stageStep = 0
        stageEnded = false
      }
      // Resumed between stages (from a stage-end checkpoint, or from one written at the next
      // stage's step 0 while the run waited): the choice of that stage is still due.
      if restoredStageEnded { awaitingChoice = options.waitBetweenStages }
      while true {
        if awaitingChoice || stageIndex >= config.stages.count {
          // Interactive runs wait for the stage panel's choice; headless runs are done.
          guard options.waitBetweenStages else { return .completed }
          // Quitting once every planned stage has run ends a complete run, not a stopped one.
          guard let next = try waitForNextStage() else {
            return stageIndex >= config.stages.count ? .completed : .stopped
          }
          try setStage(next, at: stageIndex)
          awaitingChoice = false
        }
        if stageStep == 0 { try beginStage() }
        switch try trainStage() {
        case .completed, .endedEarly: break
        case .stop: return .stopped
        case .diverged: return .diverged
        }
        stageIndex += 1
        stageStep = 0
        awaitingChoice = options.waitBetweenStages && !chosenDuringStage
        chosenDuringStage = false
      }
    } catch {
      emit(
        .error(
          ErrorEvent(
            kind: .io, message: "\(error)", stage: stageIndex + 1, step: globalStep, time: elapsed))
      )
      return .failed
    }
  }

  /// True while an interactive run waits for the user to choose the next stage.
  private var awaitingChoice = false
  /// Set when the user chose the next stage while the previous one was still running.
  private var chosenDuringStage = false

  private enum StageOutcome { case completed, endedEarly, stop, diverged }

  /// Waits for `startStage` (returns it) or `stop` (returns nil); pause commands are ignored here.
  private func waitForNextStage() throws -> StageConfig? {
    while true {
      for command in inbox.waitAndDrain() {
        switch command {
        case .startStage(let stage): return stage
        case .stop:
          // The stage-end checkpoint, when there is one, already holds this state.
          if lastCheckpointStep != globalStep { try writeCheckpoint(periodic: false) }
          return nil
        case .checkpoint: try writeRequestedCheckpoint()
        case .pause, .resume, .endStage: continue
        }
      }
    }
  }

  /// Puts `stage` at `index` (replacing a planned stage or adding one) and re-plans the schedule.
  /// A stage that starts an infinite span gives its rates to the planned stages continuing it.
  private func setStage(_ stage: StageConfig, at index: Int) throws {
    StageConfig.place(stage, at: index, in: &config.stages)
    plan = config.schedulePlan
  }

  private func beginStage() throws {
    let stage = config.stages[stageIndex]
    if stageIndex > 0 && stage.optimizerState == .reset { optimizer.reset() }
    mixer = try makeMixer(stage: stageIndex)
    emit(.stageStart(config.stageStartEvent(index: stageIndex, time: elapsed)))
  }

  private func makeMixer(stage index: Int) throws -> BatchMixer {
    let stage = config.stages[index]
    guard let current = data.datasets[stage.dataset] else {
      throw CorpusError.invalidArgument(
        "stage \(index + 1) trains on unknown dataset \(stage.dataset)")
    }
    var replay: [(TokenDataset, Double)] = []
    if stage.replayPercent > 0 {
      for name in Self.replaySources(of: stage, in: config) {
        guard let d = data.datasets[name] else {
          throw CorpusError.invalidArgument("stage \(index + 1) replays unknown dataset \(name)")
        }
        replay.append((d, 1))
      }
    }
    let seed = UInt64(truncatingIfNeeded: config.seed) &* 1_000_003 &+ UInt64(index)
    // Spread replay goes on where earlier stages' replay of the same data stopped (in order, a
    // later stage would read the very windows an earlier one did); in-order replay starts over,
    // as the shipped runs did.
    var cursors: [[Int]]?
    if stage.replayOrder == .spread {
      cursors = zip(Self.replaySources(of: stage, in: config), replay).map { name, source in
        let read = Self.replayRowsBefore(stage: index, of: name, in: config)
        return source.0.weights.map { Int((read * $0).rounded()) }
      }
    }
    return try BatchMixer(
      current: current, replay: replay, replayShare: stage.replayPercent / 100,
      batchSize: config.batchSize, context: config.model.context, seed: seed,
      replayOrder: stage.replayOrder, replayCursors: cursors)
  }

  /// What a stage replays from: its `replayFrom`, else the config's first dataset.
  static func replaySources(of stage: StageConfig, in config: ExperimentConfig) -> [String] {
    stage.replayFrom.isEmpty ? [config.datasets[0].name] : stage.replayFrom
  }

  /// Rows replayed from dataset `name` by the stages before `stage` (each stage's replayed rows
  /// shared equally among its replay sources), as the mixers drew them give or take a row.
  static func replayRowsBefore(stage: Int, of name: String, in config: ExperimentConfig)
    -> Double
  {
    var rows = 0.0
    for earlier in config.stages.prefix(stage) where earlier.replayPercent > 0 {
      let sources = replaySources(of: earlier, in: config)
      guard sources.contains(name) else { continue }
      let replayed =
        (earlier.replayPercent / 100 * Double(config.batchSize * earlier.steps) + 1e-9)
        .rounded(.down)
      rows += replayed / Double(sources.count)
    }
    return rows
  }

  private func trainStage() throws -> StageOutcome {
    var paused = false
    while stageStep < config.stages[stageIndex].steps {
      // Commands at the step boundary.
      var commands = inbox.drain()
      while true {
        for command in commands {
          switch command {
          case .pause: paused = true
          case .resume: paused = false
          case .checkpoint: try writeRequestedCheckpoint()
          case .stop:
            // A stopped run resumes inside this stage: checkpoint the position, end no stage.
            if lastEvalStep != globalStep, let outcome = evaluateOrDiverge() { return outcome }
            try writeCheckpoint(periodic: false)
            return .stop
          case .endStage:
            return try endStage(reason: .endedEarly) ?? .endedEarly
          case .startStage(let next):
            if let outcome = try endStage(reason: .endedEarly) { return outcome }
            try setStage(next, at: stageIndex + 1)
            chosenDuringStage = true
            return .endedEarly
          }
        }
        if !paused { break }
        commands = inbox.waitAndDrain()
      }
      if let outcome = try trainStep() { return outcome }
      if config.evaluation.every > 0 && globalStep % config.evaluation.every == 0,
        let outcome = evaluateOrDiverge()
      {
        return outcome
      }
      if config.checkpoints.every > 0 && globalStep % config.checkpoints.every == 0 {
        guard parametersAreFinite else {
          return diverge("a model parameter", value: .nan, step: globalStep)
        }
        // On the stage's last step the stage-end checkpoint (when configured) is this step's one,
        // and replaces the last periodic one as this one would have.
        if config.checkpoints.atStageEnd && stageStep == config.stages[stageIndex].steps {
          periodicDueAtStageEnd = true
        } else {
          try writeCheckpoint(periodic: true)
        }
      }
    }
    return try endStage(reason: .completed) ?? .completed
  }

  /// One optimizer step; returns `.diverged` when the loss is not finite.
  private func trainStep() throws -> StageOutcome? {
    guard let mixer else { throw CorpusError.invalidArgument("no batch sampler for the stage") }
    let t0 = DispatchTime.now().uptimeNanoseconds
    let lr = plan.lr(stageIndex: stageIndex, stageStep: stageStep)
    let b = config.batchSize
    let context = config.model.context
    let loss = batch.withUnsafeMutableBufferPointer { buffer -> Float in
      _ = mixer.nextBatch(into: buffer.baseAddress!)
      model.zeroGradients()
      return model.forward(tokens: buffer.baseAddress!, batch: b, length: context, training: true)
    }
    guard loss.isFinite else {
      return diverge("training loss", value: Double(loss), step: globalStep + 1)
    }
    model.backward()
    let norm = optimizer.update(model: model, learningRate: Float(lr))
    globalStep += 1
    stageStep += 1
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    let rate = Double(tokensPerStep) / max(seconds, 1e-9)
    tokensPerSecond = tokensPerSecond.map { 0.9 * $0 + 0.1 * rate } ?? rate
    emit(
      .step(
        StepEvent(
          stage: stageIndex + 1, step: globalStep, stageStep: stageStep, tokens: tokens, lr: lr,
          loss: Double(loss), gradNorm: norm, tokensPerSecond: tokensPerSecond, time: elapsed)))
    return nil
  }

  /// A NaN or infinite loss: the stage stops as diverged (an error event, then its end), and no
  /// checkpoint of the broken weights replaces the last good one.
  private func diverge(_ what: String, value: Double, step: Int) -> StageOutcome {
    let kind: ErrorKind = value.isNaN ? .nanLoss : .infiniteLoss
    let kept =
      lastCheckpointStep.map { "its last checkpoint (step \($0)) is kept" }
      ?? "no checkpoint was written before it"
    emit(
      .error(
        ErrorEvent(
          kind: kind,
          message:
            "\(what) is \(value.isNaN ? "NaN" : "infinite") at step \(step); stage stopped, \(kept)",
          stage: stageIndex + 1, step: step, value: value, time: elapsed)))
    emit(
      .stageEnd(
        StageEndEvent(
          stage: stageIndex + 1, step: globalStep, tokens: tokens, reason: .diverged,
          time: elapsed)))
    return .diverged
  }

  /// Evaluates; the outcome `.diverged` when a validation loss is NaN or infinite.
  private func evaluateOrDiverge() -> StageOutcome? {
    guard let bad = evaluate().first(where: { !$0.loss.isFinite }) else { return nil }
    return diverge("validation loss of \(bad.dataset)", value: bad.loss, step: globalStep)
  }

  /// Whether every parameter is finite (a checkpoint of NaN weights would replace a good one).
  private var parametersAreFinite: Bool {
    let p = model.parameters
    var finite = true
    for i in 0..<model.layout.count where !p[i].isFinite {
      finite = false
      break
    }
    return finite
  }

  /// Ends the stage (evaluating it where it stands, checkpointing it when configured); the
  /// outcome `.diverged` instead when that evaluation is NaN or infinite.
  private func endStage(reason: StageEndReason) throws -> StageOutcome? {
    let replacingPeriodic = periodicDueAtStageEnd
    periodicDueAtStageEnd = false
    if lastEvalStep != globalStep, let outcome = evaluateOrDiverge() { return outcome }
    if reason == .endedEarly && stageStep > 0 && stageStep < config.stages[stageIndex].steps {
      // The stage is as long as it ran: later stages start (and are logged) where it ended.
      StageConfig.endEarly(&config.stages, index: stageIndex, ran: stageStep)
      plan = config.schedulePlan
    }
    stageEnded = true
    var end = StageEndEvent(
      stage: stageIndex + 1, step: globalStep, tokens: tokens, reason: reason, time: elapsed)
    if config.stages[stageIndex].replayPercent > 0, let mixer {
      end.replayedTokens = mixer.state.replayedRows * config.model.context
    }
    emit(.stageEnd(end))
    if config.checkpoints.atStageEnd {
      try writeCheckpoint(periodic: false, replacingPeriodic: replacingPeriodic)
    }
    stageEnded = false
    return nil
  }

  // MARK: - Evaluation and checkpoints

  /// Mean validation loss of every evaluated dataset, in config order.
  public func validationLosses() -> [DatasetLoss] {
    let b = config.batchSize
    let t = config.model.context
    var losses: [DatasetLoss] = []
    for named in config.datasets {
      guard let set = data.validation[named.name], set.count > 0 else { continue }
      var total: Double = 0
      var start = 0
      while start < set.count {
        let rows = min(b, set.count - start)
        let loss = batch.withUnsafeMutableBufferPointer { buffer -> Float in
          set.fill(start..<(start + rows), into: buffer.baseAddress!)
          return model.loss(tokens: buffer.baseAddress!, batch: rows, length: t)
        }
        total += Double(loss) * Double(rows)
        start += rows
      }
      losses.append(DatasetLoss(named.name, total / Double(set.count)))
    }
    return losses
  }

  /// Evaluates every dataset and logs it; returns the losses.
  @discardableResult private func evaluate() -> [DatasetLoss] {
    lastEvalStep = globalStep
    let losses = validationLosses()
    emit(
      .eval(
        EvalEvent(
          stage: min(stageIndex, max(config.stages.count - 1, 0)) + 1, step: globalStep,
          tokens: tokens, losses: losses, time: elapsed)))
    return losses
  }

  /// A checkpoint the user asked for: written unless one of this very step exists (a stage-end or
  /// periodic one, or an earlier request while paused), which then is kept for good instead of
  /// being written and logged twice.
  private func writeRequestedCheckpoint() throws {
    // Broken weights are not saved: the next step ends the stage as diverged.
    guard parametersAreFinite else { return }
    guard lastCheckpointStep != globalStep else {
      if lastPeriodicCheckpoint == checkpointPath {
        lastPeriodicCheckpoint = nil
      }
      return
    }
    try writeCheckpoint(periodic: false)
  }

  /// The checkpoint file of the current step.
  private var checkpointPath: String {
    options.checkpointDirectory + "/step-\(globalStep).safetensors"
  }

  /// Writes this step's checkpoint and logs it. `periodic`: it replaces the last periodic one.
  /// `replacingPeriodic`: a kept one written in place of a periodic one due at this step, which
  /// removes the last periodic one as that would have.
  private func writeCheckpoint(periodic: Bool, replacingPeriodic: Bool = false) throws {
    let path = checkpointPath
    // The event and the saved state share one time: a resume goes on from the logged one.
    let time = elapsed
    let state = TrainerState(
      config: JSONText.encode(config.resolvedJSON), stageIndex: stageIndex, stageStep: stageStep,
      globalStep: globalStep, mixer: stageEnded || stageStep == 0 ? nil : mixer?.state,
      stageEnded: stageEnded, elapsed: time)
    let stateJSON = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
    while true {
      do {
        // The folder too may fail (a file in its place, a full disk): a failed checkpoint either
        // way, retried after a pause or ending the run as one.
        do {
          try FileManager.default.createDirectory(
            atPath: options.checkpointDirectory, withIntermediateDirectories: true)
        } catch {
          throw CheckpointFolderError(
            path: options.checkpointDirectory, reason: FileErrorText.describe(error))
        }
        try Checkpoint.save(
          model: model, optimizer: optimizer, metadata: ["cptui.trainer": stateJSON], to: path)
        break
      } catch {
        guard options.pauseOnCheckpointFailure else { throw CheckpointWriteError(reason: error) }
        try waitToRetryCheckpoint(error)
      }
    }
    lastCheckpointStep = globalStep
    // Between stages stageIndex may already point past the last planned stage: name the last one.
    let stage = min(stageIndex, max(config.stages.count - 1, 0)) + 1
    emit(
      .checkpoint(
        CheckpointEvent(path: path, step: globalStep, stage: stage, tokens: tokens, time: time)))
    if periodic || replacingPeriodic {
      if let previous = lastPeriodicCheckpoint, previous != path, options.logIsComplete() {
        try? FileManager.default.removeItem(atPath: previous)
      }
      lastPeriodicCheckpoint = periodic ? path : nil
    } else if lastPeriodicCheckpoint == path {
      // A stage-end (or stop) checkpoint at the step of a periodic one overwrites that file: it is
      // a kept checkpoint now, so the next periodic one must not remove it.
      lastPeriodicCheckpoint = nil
    }
  }

  /// A checkpoint could not be written: reports it and waits for `resume` (try again) or `stop`
  /// (give up: the error ends the run).
  private func waitToRetryCheckpoint(_ error: any Error) throws {
    emit(
      .error(
        ErrorEvent(
          kind: .io,
          message:
            CheckpointWriteError.prefix
            + " (paused: "
            + (error is CheckpointFolderError
              ? "move what is in the folder's place or free some space"
              : "free some space") + ", then press space to retry): \(error)",
          stage: stageIndex + 1, step: globalStep, time: elapsed)))
    while true {
      for command in inbox.waitAndDrain() {
        switch command {
        case .resume: return
        case .stop: throw error
        case .pause, .checkpoint, .endStage, .startStage: continue
        }
      }
    }
  }

  private var tokens: Int { globalStep * tokensPerStep }
  /// Wall seconds since the run started, pauses included, resumes going on from the checkpoint's
  /// (time between a stop and its resume is not counted).
  private var elapsed: Double { elapsedBeforeResume + Date().timeIntervalSince(started) }
}

/// The checkpoint folder could not be made: `path` and why, in words.
struct CheckpointFolderError: Error, CustomStringConvertible {
  var path: String
  var reason: String
  var description: String { "\(path): \(reason)" }
}

/// A checkpoint the trainer could not write (the run's error event starts with its text).
public struct CheckpointWriteError: Error, CustomStringConvertible {
  public var reason: any Error
  public static let prefix = "checkpoint not written"
  public var description: String { Self.prefix + ": \(reason)" }
}
