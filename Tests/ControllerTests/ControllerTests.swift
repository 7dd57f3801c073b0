// Controller tests: scripted event sequences and key sequences, no terminal and no BLAS.

import Controller
import Experiment
import Foundation
import RunLog
import Screens
import Terminal
import Testing

enum Script {
  static let tokensPerStep = 128

  static func config(interactiveStages: Int = 2) -> ExperimentConfig {
    let stages = [
      StageConfig(
        name: "english", dataset: "D0", length: .steps(100), steps: 100, lrMax: 1e-2, lrMin: 1e-3),
      StageConfig(
        name: "german", dataset: "D1", length: .tokens(12_800), steps: 100, lrMax: 1e-2,
        lrMin: 1e-3, replayPercent: 5, replayFrom: ["D0"]),
    ]
    return ExperimentConfig(
      name: "script", seed: 1,
      model: .init(layers: 2, heads: 2, width: 32, context: 32, vocab: 256),
      tokenizer: TokenizerConfig(kind: .bytes, vocab: 256, trainedOn: nil),
      datasets: [
        NamedDataset(name: "D0", spec: .builtin("synthetic")),
        NamedDataset(name: "D1", spec: .builtin("synthetic-de")),
      ],
      batchSize: 4, evaluation: EvaluationConfig(every: 10, windows: 4, datasets: ["D0", "D1"]),
      stages: stages)
  }

  static func stageStart(_ config: ExperimentConfig, _ index: Int) -> RunEvent {
    .stageStart(config.stageStartEvent(index: index))
  }

  static func eval(stage: Int, step: Int, d0: Double, d1: Double) -> RunEvent {
    .eval(
      EvalEvent(
        stage: stage, step: step, tokens: step * tokensPerStep,
        losses: [DatasetLoss("D0", d0), DatasetLoss("D1", d1)]))
  }

  static func steps(stage: Int, from: Int, to: Int, loss: Double = 2) -> [RunEvent] {
    (from...to).map {
      .step(
        StepEvent(
          stage: stage, step: $0, tokens: $0 * tokensPerStep, lr: 1e-3, loss: loss,
          tokensPerSecond: 1280))
    }
  }

  /// Stage 1 complete (D0 falls to 2.0), as an interactive trainer reports it.
  static func stageOne(_ config: ExperimentConfig) -> [RunEvent] {
    [
      .header(RunHeader(runName: "script", startTime: "x", datasets: ["D0", "D1"])),
      eval(stage: 1, step: 0, d0: 5, d1: 5.5), stageStart(config, 0),
    ] + steps(stage: 1, from: 1, to: 50) + [eval(stage: 1, step: 50, d0: 3, d1: 4.5)]
      + steps(stage: 1, from: 51, to: 100) + [
        eval(stage: 1, step: 100, d0: 2, d1: 4),
        .stageEnd(StageEndEvent(stage: 1, step: 100, tokens: 100 * tokensPerStep)),
      ]
  }

  static func fold(_ events: [RunEvent], into state: RunState) -> RunState {
    events.reduce(state, RunState.fold)
  }
}

/// A run resumed on the screen folds its logged past first: only the resume itself can ask for
/// the stage panel (a resume between stages), not the stage ends of the past.
@Suite struct ResumeHistoryTests {
  @Test func onlyAResumeBetweenStagesOpensThePanel() {
    let config = Script.config()
    let stopped = RunEvent.runEnd(RunEndEvent(status: .stopped, step: 100, tokens: 12_800))
    var between = RunState(config: config, interactive: true)
    between.applyHistory(
      Script.stageOne(config) + [
        stopped, .resume(ResumeEvent(step: 100, tokens: 12_800, stageEnded: true)),
      ])
    #expect(between.awaitingChoice && between.panelRequest == 1 && between.isRunning)
    #expect(between.screenModel().status.mode == .waiting)

    var midStage = RunState(config: config, interactive: true)
    midStage.applyHistory(
      Script.stageOne(config) + [Script.stageStart(config, 1)]
        + Script.steps(stage: 2, from: 101, to: 130) + [
          .resume(ResumeEvent(step: 130, tokens: 130 * Script.tokensPerStep, stageEnded: false))
        ])
    #expect(!midStage.awaitingChoice && midStage.panelRequest == 0)
    #expect(midStage.screenModel().status.mode == .live)
    #expect(midStage.currentStage == 2 && midStage.step == 130)
  }
}

@Suite struct FoldTests {
  /// Past 2048 steps the drawn points are means of several steps; the panel titles still give the
  /// last step's learning rate and train loss (a mean lagged the warmup by half a bucket).
  @Test func smallPanelTitlesGiveTheLastStep() {
    let config = Script.config()
    var state = Script.fold(
      Array(Script.stageOne(config).prefix(3)), into: RunState(config: config, interactive: true))
    // 5004 steps close buckets of 4; the last one jumps (as a re-warmed rate does).
    for n in 1...5004 {
      state = RunState.fold(
        state,
        .step(
          StepEvent(
            stage: 1, step: n, tokens: n * Script.tokensPerStep, lr: n < 5004 ? 1e-3 : 9e-3,
            loss: n < 5004 ? 2 : 7.5)))
    }
    let model = state.screenModel()
    #expect(abs((model.runs[0].lrPast.ys.last ?? 0) - 3e-3) < 1e-12)  // the last bucket's mean
    #expect(model.runs[0].latestLearningRate == 9e-3)
    #expect(model.runs[0].latestTrainLoss == 7.5)
    let screen = ScreenRenderer.renderText(model: model, width: 120, height: 40)
    #expect(screen.contains("learning rate  9e-3"), "\(screen)")
    #expect(screen.contains("train loss  7.50"), "\(screen)")
  }

  /// A stage-end checkpoint that could not be written holds the trainer between stages: the
  /// screen still waits for the next stage, and knows that space retries the checkpoint.
  @Test func aHeldTrainerBetweenStagesIsShownHeld() {
    let config = Script.config()
    var state = Script.fold(
      Script.stageOne(config), into: RunState(config: config, interactive: true))
    #expect(state.screenModel().status.mode == .waiting && !state.screenModel().status.held)
    state.apply(.error(ErrorEvent(kind: .io, message: "checkpoint not written (paused: …)")))
    state.note(.paused(true))
    let model = state.screenModel()
    #expect(model.status.mode == .waiting && model.status.held)
  }

  @Test func stageOneDrawsCurvesStatusAndPlan() {
    let config = Script.config()
    var events = Script.stageOne(config)
    events.removeLast()  // still running at step 100
    let model = Script.fold(events, into: RunState(config: config, interactive: true))
      .screenModel()
    #expect(model.status.runName == "script")
    #expect(model.status.stage == 1 && model.status.stageCount == 2)
    #expect(model.status.dataset == "D0 english")
    #expect(model.status.step == 100 && model.status.totalSteps == 200)
    #expect(model.status.tokensPerSecond == 1280)
    #expect(model.status.etaSeconds == 10)  // 100 steps · 128 tokens at 1280 tokens/s
    #expect(model.status.mode == .live)
    let run = model.runs[0]
    #expect(run.validation.map(\.name) == ["D0 english", "D1 german"])
    #expect(run.validation[0].ys == [5, 3, 2])
    #expect(run.validation[0].xs == [0, 6400, 12800])
    #expect(run.trainLoss.count == 100)
    #expect(run.lrPast.count == 100)
    // Planned: stage 2 still to come, ending at 200 steps.
    #expect(run.lrPlanned.xs.last == Double(200 * Script.tokensPerStep))
    #expect((run.lrPlanned.ys.max() ?? 0) > 9e-3)
    #expect(run.stageMarkers.isEmpty)
    #expect(model.measures.forgetting == nil && model.measures.adaptation == nil)
    // The draft is the planned stage 2.
    #expect(model.nextStage.dataset == "D1 german")
    #expect(model.nextStage.replayPercent == 5)
    #expect(model.nextStage.lengthTokens == 12_800)
  }

  @Test func stageEndOpensThePanelInInteractiveRunsOnly() {
    let config = Script.config()
    let live = Script.fold(
      Script.stageOne(config), into: RunState(config: config, interactive: true))
    #expect(live.panelRequest == 1)
    #expect(live.awaitingChoice)
    let model = live.screenModel()
    #expect(model.status.mode == .waiting, "between stages: waiting, not paused")
    #expect(model.status.etaSeconds == nil)
    #expect(model.notices.first?.contains("set up stage 2 in the panel (n)") == true)
    // After the last planned stage the panel opens as well: the notice says both ways on.
    var one = config
    one.stages.removeLast()
    let complete = Script.fold(
      Script.stageOne(one), into: RunState(config: one, interactive: true)
    ).screenModel()
    #expect(
      complete.notices.first
        == "stage 1 done, the run is complete: q ends it, or the panel (n) adds stage 2")
    let headless = Script.fold(
      Script.stageOne(config), into: RunState(config: config, interactive: false))
    #expect(headless.panelRequest == 0)
  }

  /// A paused run shows "paused" (its hint offers resume); the checkpoint the user asked for is
  /// confirmed, and the confirmation outlives evaluations logged within a few seconds of it.
  @Test func userPauseAndCheckpointNotice() {
    let config = Script.config()
    let events: [RunEvent] =
      [Script.stageStart(config, 0)] + Script.steps(stage: 1, from: 1, to: 20)
    var state = Script.fold(events, into: RunState(config: config, interactive: true))
    state.note(.paused(true))
    #expect(state.screenModel().status.mode == .paused)
    state.note(.checkpointRequested)
    #expect(state.screenModel().notices == ["saving a checkpoint…"])
    func eval(step: Int, time: Double) -> RunEvent {
      .eval(
        EvalEvent(
          stage: 1, step: step, tokens: step * Script.tokensPerStep,
          losses: [DatasetLoss("D0", 3), DatasetLoss("D1", 4)], time: time))
    }
    state = Script.fold(
      [
        .checkpoint(CheckpointEvent(path: "run/step-20.safetensors", step: 20, time: 10)),
        eval(step: 30, time: 12),
      ], into: state)
    #expect(state.screenModel().notices == ["checkpoint saved: step-20.safetensors"])
    state = Script.fold([eval(step: 40, time: 15.5)], into: state)
    #expect(state.screenModel().notices.isEmpty)
  }

  /// Between stages the stage-end checkpoint already holds the state: `c` confirms it at once
  /// (the trainer writes nothing), before the line asking for the next stage (after it, the long
  /// stage notice cut it off at 100 columns).
  @Test func checkpointBetweenStagesConfirmsTheStageEndOne() {
    let config = Script.config()
    var state = Script.fold(
      Script.stageOne(config) + [
        .checkpoint(CheckpointEvent(path: "run/step-100.safetensors", step: 100))
      ],
      into: RunState(config: config, interactive: true))
    #expect(state.awaitingChoice)
    state.note(.checkpointRequested)
    #expect(!state.checkpointRequested)
    let notices = state.screenModel().notices
    #expect(
      notices.count == 2 && notices[0] == "checkpoint saved: step-100.safetensors", "\(notices)")
  }

  @Test func stageTwoGivesMarkersAndMeasures() {
    let config = Script.config()
    var state = Script.fold(
      Script.stageOne(config), into: RunState(config: config, interactive: true))
    state.note(.choseNextStage)
    let events: [RunEvent] =
      [Script.stageStart(config, 1)] + Script.steps(stage: 2, from: 101, to: 150, loss: 3)
      + [Script.eval(stage: 2, step: 150, d0: 2.5, d1: 3)]
    state = Script.fold(events, into: state)
    let model = state.screenModel()
    #expect(model.status.stage == 2 && model.status.dataset == "D1 german")
    #expect(model.runs[0].stageMarkers.count == 1)
    #expect(model.runs[0].stageMarkers[0].x == 12_800)
    #expect(model.runs[0].stageMarkers[0].label == "stage 2: warmup 1% · ηmax 1e-2 · r5%")
    // RunSummary semantics, averaging the last 3 evaluations.
    let summary = RunSummary(
      events: state.summaryEvents, averaging: ConfigDefaults.evaluationAverage)
    #expect(model.measures.forgetting == summary.forgetting)
    #expect(model.measures.adaptation == summary.adaptation)
    #expect(model.measures.average == summary.average)
    #expect(summary.forgetting != nil)
    #expect(model.status.mode == .live)
    #expect(state.draftSerial == 2)  // stage 1 and stage 2 started
  }

  @Test func aChoiceMadeDuringAStageOpensNoPanel() {
    let config = Script.config()
    var events = Script.stageOne(config)
    events.removeLast()
    var state = Script.fold(events, into: RunState(config: config, interactive: true))
    state.note(.choseNextStage)
    state.apply(
      .stageEnd(StageEndEvent(stage: 1, step: 100, tokens: 12_800, reason: .endedEarly)))
    #expect(state.panelRequest == 0)
    #expect(!state.awaitingChoice)
  }

  @Test func runEndFinishesAndStopsPlanning() {
    let config = Script.config()
    var state = Script.fold(
      Script.stageOne(config), into: RunState(config: config, interactive: true))
    state.apply(.runEnd(RunEndEvent(status: .stopped, step: 100, tokens: 12_800)))
    let model = state.screenModel()
    #expect(model.status.mode == .finished)
    #expect(model.runs[0].lrPlanned.isEmpty)
    #expect(model.notices.first?.contains("run stopped") == true)
  }

  @Test func aLogWithoutConfigStillFolds() {
    let config = Script.config()
    let state = Script.fold(
      Script.stageOne(config), into: RunState(config: nil, interactive: false))
    let model = state.screenModel()
    #expect(model.status.runName == "script")
    #expect(model.runs[0].validation.count == 2)
    #expect(state.tokensPerStep == Script.tokensPerStep)
  }

  @Test func longRunsStayBounded() {
    var series = BucketedSeries(capacity: 64)
    for i in 1...100_000 { series.append(x: Double(i), y: 1) }
    let s = series.series(name: "train")
    #expect(s.count <= 65)
    #expect(s.ys.allSatisfy { $0 == 1 })
    #expect(s.xs.last == 100_000)
    #expect(series.sampleCount == 100_000)
  }
}

@Suite struct KeyTests {
  /// The screen after stage 1 of the script (or of `config`), as the TUI would merge it.
  static func screen(_ config: ExperimentConfig = Script.config()) -> (
    ScreenSession, ScreenModel, RunState
  ) {
    var events = Script.stageOne(config)
    events.removeLast()
    let state = Script.fold(events, into: RunState(config: config, interactive: true))
    var session = ScreenSession()
    let model = session.merge(LiveController.snapshot(of: state, finished: false))
    return (session, model, state)
  }

  /// The learning-rate chart plans the user's draft: E (higher ηmax) and W (more warmup) move the
  /// next stage's planned curve at once, the trainer then runs exactly that plan, and Esc in the
  /// panel gives the controller's plan back.
  @Test func theLearningRateChartPlansTheDraft() throws {
    var (session, model, state) = Self.screen()
    let planned = model.runs[0].lrPlanned
    #expect(planned == state.screenModel().runs[0].lrPlanned)
    let stageTwoStart = Double(101 * Script.tokensPerStep)
    func peak(_ series: Series) -> Double {
      zip(series.xs, series.ys).filter { $0.0 >= stageTwoStart }.map(\.1).max() ?? 0
    }
    for key: Key in [.char("E"), .char("E"), .char("W")] { _ = session.handleKey(key, in: &model) }
    let draft = model.runs[0].lrPlanned
    #expect(model.nextStage.lrMax > state.screenModel().nextStage.lrMax)
    #expect(abs(peak(draft) - model.nextStage.lrMax) < 1e-12, "\(peak(draft))")
    #expect(abs(peak(planned) - state.screenModel().nextStage.lrMax) < 1e-12)
    // A new snapshot (the next step's) keeps planning the draft.
    let again = session.merge(LiveController.snapshot(of: state, finished: false))
    #expect(again.runs[0].lrPlanned == draft)
    // What the trainer would run from the draft has this very learning rate.
    var stages = state.plannedStages
    stages[1] = state.stageConfig(for: model.nextStage)
    let plan = SchedulePlan(stages: stages.map(\.stageSchedule))
    for (x, y) in zip(draft.xs, draft.ys) {
      let n = Int(x) / Script.tokensPerStep - 1
      #expect(abs(plan.lr(globalStep: n) - y) < 1e-15, "step \(n)")
    }
    // Esc in the panel gives back the draft it opened with (here the proposal), so the plan.
    (session, model, state) = Self.screen()
    _ = session.handleKey(.char("n"), in: &model)
    for key: Key in [.down, .down, .right] { _ = session.handleKey(key, in: &model) }
    #expect(model.runs[0].lrPlanned != planned)
    _ = session.handleKey(.escape, in: &model)
    #expect(model.runs[0].lrPlanned == planned)
  }

  @Test func replayKeysThenNextStageGiveTheStageConfig() {
    var (session, model, state) = Self.screen()
    var commands: [Command] = []
    for key: Key in [.char("R"), .char("R"), .char("W"), .char("n"), .enter] {
      commands += session.handleKey(key, in: &model)
    }
    guard case .startNextStage(let settings) = commands.last, commands.count == 1 else {
      Issue.record("expected one startNextStage, got \(commands)")
      return
    }
    #expect(settings.replayPercent == 25)  // 5 → 10 → 25
    #expect(settings.warmupPercent == 2)
    let stage = StageChoice.stageConfig(
      from: settings, datasets: state.datasets, base: state.nextStageBase,
      tokensPerStep: Script.tokensPerStep)
    #expect(stage.dataset == "D1")
    #expect(stage.name == "german")
    #expect(stage.replayPercent == 25)
    #expect(stage.replayFrom == ["D0"])
    #expect(stage.warmupFraction == 0.02)
    #expect(stage.steps == 100)
    #expect(stage.schedule == .cosine)
  }

  /// The stage lines the fold draws from logged stage starts: a stage continuing an infinite span
  /// says so (it has no warmup or ηmax of its own), a stage starting one, or any other schedule,
  /// names its warmup and ηmax, and a constant-min stage the rate it trains at.
  @Test(arguments: [
    (["infinite", "infinite"], "stage 2: infinite continues · r5%"),
    (["cosine", "infinite"], "stage 2: warmup 1% · ηmax 1e-2 · r5%"),
    (["infinite", "cosine"], "stage 2: warmup 1% · ηmax 1e-2 · r5%"),
    (["cosine", "constant-min"], "stage 2: ηmin 1e-3 · r5%"),
  ])
  func stageMarkersAreLabelledFromTheLoggedStarts(schedules: [String], label: String) {
    var config = Script.config()
    for (i, name) in schedules.enumerated() {
      let kind = ScheduleKind(rawValue: name)!
      config.stages[i].schedule = Schedule.withDefaults(kind)
      let continues = i > 0 && name == "infinite" && schedules[i - 1] == "infinite"
      config.stages[i].warmupFraction = continues || kind == .constantMin ? 0 : 0.01
    }
    let events =
      Script.stageOne(config) + [Script.stageStart(config, 1)]
      + Script.steps(stage: 2, from: 101, to: 110)
    let state = Script.fold(events, into: RunState(config: config, interactive: true))
    let markers = state.screenModel().runs[0].stageMarkers
    #expect(markers.map(\.label) == [label])
    #expect(markers.first?.x == Double(100 * Script.tokensPerStep))
  }

  /// A stage continuing an infinite schedule keeps the span's warmup (none), ηmax, ηmin and
  /// planned length: the panel refuses changes to them (a changed length re-planned the steps
  /// already trained, so the learning rate jumped; a changed ηmax was logged but not trained, and
  /// the run could not be resumed), and the stage it starts reads back through the config loader.
  @Test func aStageContinuingAnInfiniteScheduleKeepsItsSpan() throws {
    var config = Script.config()
    for i in config.stages.indices {
      config.stages[i].schedule = Schedule.withDefaults(.infinite)
      config.stages[i].warmupFraction = i == 0 ? 0.01 : 0
    }
    var (session, model, state) = Self.screen(config)
    #expect(model.nextStage.infiniteSpan?.firstStage == 1)
    #expect(model.nextStage.infiniteSpan?.plannedLengthTokens == 12_800)
    var commands: [Command] = []
    for key: Key in [.char("n"), .down, .right, .down] {
      commands += session.handleKey(key, in: &model)
    }
    #expect(model.nextStage.warmupPercent == 0, "warmup is fixed")
    for key in "3e-3".map({ Key.char($0) }) { commands += session.handleKey(key, in: &model) }
    #expect(model.nextStage.lrMax == 1e-2 && model.view.entryText.isEmpty, "ηmax is fixed")
    #expect(model.view.entryError?.contains("continues stage 1's infinite schedule") == true)
    // Another schedule frees the fields; infinite again fixes them.
    for key: Key in [.down, .down, .right] { commands += session.handleKey(key, in: &model) }
    #expect(model.nextStage.lockReason(.lrMax) == nil)
    commands += session.handleKey(.left, in: &model)
    #expect(model.nextStage.lockReason(.length) != nil)
    commands += session.handleKey(.enter, in: &model)
    guard case .startNextStage(let settings) = commands.last, commands.count == 1 else {
      Issue.record("expected one startNextStage, got \(commands)")
      return
    }
    let stage = StageChoice.stageConfig(
      from: settings, datasets: state.datasets, base: state.nextStageBase,
      tokensPerStep: Script.tokensPerStep)
    #expect(stage.warmupFraction == 0 && stage.lrMax == 1e-2 && stage.lrMin == 1e-3)
    #expect(stage.steps == 100 && stage.schedule.kind == .infinite)
    var resumed = config
    resumed.stages[1] = stage
    _ = try ConfigLoader().parse(logged: resumed.resolvedJSON, source: "resume")
  }

  /// An all-infinite plan, halfway through stage 1, a draft that leaves the span. In the stage
  /// panel (whose Enter ends stage 1 now) the preview starts the draft at the current step; from
  /// the main screen the running stage keeps its own plan and the draft follows its end (redrawing
  /// stage 1 as if its span were cut showed a drop that never trained). Past the plan the
  /// proposal re-warms with cosine at the span's rates (it proposed an `infinite` the panel
  /// refuses).
  @Test func infiniteSpansInThePreviewAndPastThePlan() throws {
    var config = Script.config()
    for i in config.stages.indices {
      config.stages[i].schedule = Schedule.withDefaults(.infinite)
      config.stages[i].warmupFraction = i == 0 ? 0.02 : 0
    }
    let half = Script.fold(
      Array(Script.stageOne(config).prefix(3)) + Script.steps(stage: 1, from: 1, to: 50),
      into: RunState(config: config, interactive: true))
    var session = ScreenSession()
    let snapshot = LiveController.snapshot(of: half, finished: false)
    var model = session.merge(snapshot)
    let planned = model.runs[0].lrPlanned
    _ = session.handleKey(.char("n"), in: &model)
    // Opened mid-stage, the panel's Enter would start the proposal now: so does the preview. The
    // proposal continues the infinite span, which keeps its length: stage 2 takes on the 50 steps
    // stage 1 leaves, and the rate at every step is the planned one (no jump at the switch).
    let startingNow = model.runs[0].lrPlanned
    let opened = ScreenRenderer.renderText(model: model, width: 100, height: 30)
    #expect(opened.contains("+ stage 1's rest  (infinite)"), "\(opened)")
    #expect(startingNow.xs.last == Double(200 * Script.tokensPerStep))
    let plannedAt = Dictionary(zip(planned.xs, planned.ys)) { a, _ in a }
    let shared = zip(startingNow.xs, startingNow.ys).filter { plannedAt[$0.0] != nil }
    #expect(shared.count > 10)
    for (x, y) in shared {
      #expect(
        abs(y - plannedAt[x]!) <= 1e-12 * plannedAt[x]!, "at \(x): \(y) against \(plannedAt[x]!)")
    }
    _ = session.handleKey(.escape, in: &model)
    #expect(model.runs[0].lrPlanned == planned)
    _ = session.handleKey(.char("n"), in: &model)
    for key: Key in [.down, .down, .down, .down, .right] { _ = session.handleKey(key, in: &model) }
    #expect(model.nextStage.schedule != "infinite")
    // Mid-stage, Enter would end the running stage: the panel says so, and the preview agrees.
    let panel = ScreenRenderer.renderText(model: model, width: 100, height: 30)
    #expect(panel.contains("Enter ends stage 1 now, starts stage 2"), "\(panel)")
    let now = model.runs[0].lrPlanned
    #expect(now.xs.first == Double(51 * Script.tokensPerStep))
    #expect(now.xs.last == Double((50 + 100) * Script.tokensPerStep), "stage 1 ends at step 50")
    #expect(planned.xs.last == Double(200 * Script.tokensPerStep))

    let preview = try #require(snapshot.learningRatePreview)
    let later = preview.series(for: model.nextStage, startingNow: false)
    let stageOneEnd = Double(100 * Script.tokensPerStep)
    let before = zip(later.xs, later.ys).filter { $0.0 <= stageOneEnd }
    #expect(
      !before.isEmpty
        && before.elementsEqual(zip(planned.xs, planned.ys).prefix(before.count), by: ==))
    #expect(later.ys.suffix(from: before.count) != planned.ys.suffix(from: before.count))

    var events = Script.stageOne(config)
    events.append(Script.stageStart(config, 1))
    events += Script.steps(stage: 2, from: 101, to: 120)
    let state = Script.fold(events, into: RunState(config: config, interactive: true))
    let proposal = state.screenModel().nextStage
    #expect(proposal.schedule == "cosine" && proposal.startRefusal == nil)
    #expect(proposal.warmupPercent == 2 && proposal.lrMax == 1e-2 && proposal.lrMin == 1e-3)
    #expect(proposal.lockReason(.lrMax) == nil)
  }

  /// The panel says what replay draws on for the dataset chosen, by the rule the stage is made
  /// with: after stage 1 on D0, stage 2 on D1 replays D0, and so would a second stage on D0.
  @Test func thePanelShowsWhatReplayDrawsOn() {
    var (session, model, _) = Self.screen()
    #expect(model.nextStage.replaySources == ["D0", "D0"])
    _ = session.handleKey(.char("n"), in: &model)
    #expect(model.nextStage.replaySource == "D0")
    let panel = ScreenRenderer.renderText(model: model, width: 100, height: 30)
    #expect(panel.contains("of D0"), "\(panel)")
  }

  @Test func panelEditsDatasetScheduleAndLength() {
    var (session, model, state) = Self.screen()
    var commands: [Command] = []
    let keys: [Key] =
      [.char("n"), .right]  // dataset D1 → D0
      + [.down, .down, .down, .down, .right]  // schedule cosine → constant-min
      + [.down, .down, .right]  // replay reads: in order → spread
      + [.down] + "1000".map { Key.char($0) } + [.enter, .enter]
    for key in keys { commands += session.handleKey(key, in: &model) }
    guard case .startNextStage(let settings) = commands.last else {
      Issue.record("no stage started: \(commands)")
      return
    }
    let stage = StageChoice.stageConfig(
      from: settings, datasets: state.datasets, base: state.nextStageBase,
      tokensPerStep: Script.tokensPerStep)
    #expect(stage.dataset == "D0")
    #expect(stage.name == nil)
    #expect(stage.schedule == .constantMin)
    #expect(stage.warmupFraction == 0, "choosing constant-min clears the warmup")
    #expect(stage.length == .tokens(1000))
    #expect(stage.replayOrder == .spread, "the panel's replay order reaches the stage")
    #expect(stage.steps == 8)  // 1000 tokens / 128 per step, rounded up
  }

  /// Replay from the panel draws on what earlier stages trained, never on the stage's own data
  /// (the review's cases: stage 3 back on D0; stage 4 after stage 3 took D3 instead of D2).
  @Test func panelReplayDrawsOnTheDatasetsTrainedBefore() {
    let datasets = ["D0", "D1", "D2", "D3"]
    var settings = StageSettings(datasets: datasets, datasetIndex: 0, replayPercent: 25)
    let planned3 = StageConfig(
      name: "german", dataset: "D2", length: .steps(10), steps: 10, replayPercent: 5,
      replayFrom: ["D0", "D1"])
    let back = StageChoice.stageConfig(
      from: settings, datasets: datasets, base: planned3, tokensPerStep: 1,
      trainedDatasets: ["D0", "D1"], stageName: "english")
    #expect(back.dataset == "D0" && back.replayFrom == ["D1"], "\(back.replayFrom)")
    #expect(back.name == "english", "a changed dataset keeps its stage name for the legend")
    let planned4 = StageConfig(
      name: "shakespeare", dataset: "D3", length: .steps(10), steps: 10, replayPercent: 5,
      replayFrom: ["D0", "D1", "D2"])
    settings.datasetIndex = 3
    let fourth = StageChoice.stageConfig(
      from: settings, datasets: datasets, base: planned4, tokensPerStep: 1,
      trainedDatasets: ["D0", "D1", "D3"])
    #expect(fourth.replayFrom == ["D0", "D1"], "D2 never trained; D3 is the stage's own")
    #expect(fourth.name == "shakespeare")
    // The planned sources, when they were all trained, stay as planned.
    let asPlanned = StageChoice.stageConfig(
      from: settings, datasets: datasets, base: planned4, tokensPerStep: 1,
      trainedDatasets: ["D0", "D1", "D2"])
    #expect(asPlanned.replayFrom == ["D0", "D1", "D2"])
  }

  @Test func mergeKeepsTheUsersViewAndDraftUntilANewProposal() {
    var (session, model, _) = Self.screen()
    _ = session.handleKey(.char("s"), in: &model)
    _ = session.handleKey(.char("R"), in: &model)
    let edited = model.nextStage
    var fresh = model
    fresh.view = ViewState()
    fresh.nextStage = StageSettings()
    var merged = session.merge(ScreenSnapshot(model: fresh, draftSerial: 1, panelRequest: 0))
    #expect(merged.view.smoothing)
    #expect(merged.nextStage == edited)
    // A panel request opens the panel once.
    merged = session.merge(ScreenSnapshot(model: fresh, draftSerial: 1, panelRequest: 1))
    #expect(merged.view.overlay == .stagePanel)
    #expect(merged.nextStage == edited)
    _ = session.handleKey(.escape, in: &merged)
    merged = session.merge(ScreenSnapshot(model: fresh, draftSerial: 1, panelRequest: 1))
    #expect(merged.view.overlay == .none)
    // A new draft proposal (a stage started) replaces the draft.
    merged = session.merge(ScreenSnapshot(model: fresh, draftSerial: 2, panelRequest: 1))
    #expect(merged.nextStage == StageSettings())
  }
}

/// Collects what the controller sends to the trainer and writes to the log.
final class Recorder: @unchecked Sendable {
  private let lock = NSLock()
  private var _commands: [TrainerCommand] = []
  private var _events: [RunEvent] = []
  var commands: [TrainerCommand] { lock.withLock { _commands } }
  var events: [RunEvent] { lock.withLock { _events } }
  func send(_ c: TrainerCommand) { lock.withLock { _commands.append(c) } }
  func record(_ e: RunEvent) { lock.withLock { _events.append(e) } }
}

@Suite struct ActorTests {
  @Test func eventsAreRecordedFoldedAndCommandsReachTheTrainer() async {
    let config = Script.config()
    let sink = Recorder()
    let controller = LiveController(
      state: RunState(config: config, interactive: true), publishInterval: .milliseconds(1),
      record: { sink.record($0) }, sendToTrainer: { sink.send($0) })
    let done = Task { await controller.run() }
    var events = Script.stageOne(config)
    events.removeLast()
    for e in events { controller.emit(e) }
    controller.send(.togglePause)
    controller.send(.togglePause)
    var settings = StageSettings()
    settings = controller.mailbox.take().value.model.nextStage
    settings.replayPercent = 25
    controller.send(.startNextStage(settings))
    controller.send(.checkpoint)
    controller.send(.quit)
    controller.send(.togglePause)  // ignored: stopping
    controller.emit(.runEnd(RunEndEvent(status: .stopped, step: 100)))
    controller.finishInput()
    await done.value
    #expect(sink.events == events + [.runEnd(RunEndEvent(status: .stopped, step: 100))])
    let commands = sink.commands
    #expect(commands.count == 5)
    #expect(commands[0] == .pause && commands[1] == .resume)
    if case .startStage(let stage) = commands[2] {
      #expect(stage.dataset == "D1" && stage.replayPercent == 25 && stage.steps == 100)
    } else {
      Issue.record("expected startStage, got \(commands[2])")
    }
    #expect(commands[3] == .checkpoint && commands[4] == .stop)
    let final = controller.mailbox.take().value
    #expect(final.finished)
    #expect(final.model.status.mode == .finished)
    #expect(final.model.status.step == 100)
  }

  @Test func pauseIsNotSentWhileWaitingForTheNextStage() async {
    let config = Script.config()
    let sink = Recorder()
    let controller = LiveController(
      state: RunState(config: config, interactive: true), sendToTrainer: { sink.send($0) })
    let done = Task { await controller.run() }
    for e in Script.stageOne(config) { controller.emit(e) }
    controller.send(.togglePause)
    controller.finishInput()
    await done.value
    #expect(sink.commands.isEmpty)
    #expect(controller.mailbox.take().value.panelRequest == 1)
  }
}

@Suite struct MailboxTests {
  @Test func newestWins() {
    let box = Mailbox(0)
    #expect(box.take().serial == 0)
    box.put(1)
    box.put(2)
    box.put(3)
    let (value, serial) = box.take()
    #expect(value == 3 && serial == 3)
    #expect(box.take(newerThan: 3) == nil)
    box.put(4)
    #expect(box.take(newerThan: 3)?.value == 4)
  }

  @Test func concurrentWritersNeverTear() async {
    let box = Mailbox([Int](repeating: 0, count: 64))
    await withTaskGroup(of: Void.self) { group in
      for w in 1...4 {
        group.addTask {
          for i in 0..<2000 { box.put([Int](repeating: w * 10_000 + i, count: 64)) }
        }
      }
      group.addTask {
        for _ in 0..<2000 {
          let v = box.take().value
          #expect(Set(v).count == 1)
        }
      }
    }
    #expect(box.take().serial == 8000)
  }
}

/// The comparison view says why a Δunion is empty, as `compare` does on standard error (the review
/// saw "–" in replay's table with no reason), naming logs by file.
@Suite struct ComparisonViewNotes {
  @Test func theViewSaysWhyADeltaIsEmpty() throws {
    let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("sample-runs")
    let paths = [
      "replay-order/first-windows/strong-shift__stage2.replay=25__stage2.replayOrder=spread.jsonl",
      "strong-shift/union-strong-shift.jsonl", "replay-order/strong-shift__stage2.replay=0.jsonl",
    ].map { samples.appendingPathComponent($0).path }
    let table = ComparisonTable(try Comparison.load(paths: paths))
    #expect(
      table.notes.contains {
        $0.contains("differs in validation sampling") && !$0.contains("/")
      }, "\(table.notes)")
    var model = ScreenModel()
    model.comparison = table
    model.view.overlay = .comparison
    let text = ScreenRenderer.renderText(model: model, width: 160, height: 40)
    #expect(text.contains("differs in validation sampling"), "\(text)")
  }
}
