// The key table: dispatch, the pure key handler, the stage panel, help generated from the table.

import Testing

@testable import Screens
@testable import Terminal

struct KeyTableTests {
  @Test func everyMainKeyDispatches() {
    let ctx: [KeyContext] = [.main]
    #expect(KeyTable.action(for: .char("n"), in: ctx) == .openStagePanel)
    #expect(KeyTable.action(for: .char(" "), in: ctx) == .pause)
    #expect(KeyTable.action(for: .char("3"), in: ctx) == .toggleSeries(3))
    #expect(KeyTable.action(for: .char("0"), in: ctx) == nil)
    #expect(KeyTable.action(for: .left, in: ctx) == .panLeft)
    #expect(KeyTable.action(for: .left, in: [.stagePanel]) == .valueDecrease)
    #expect(KeyTable.action(for: .char("x"), in: ctx) == nil)
  }

  @Test func noKeyIsBoundTwiceInOneContext() {
    for ctx in KeyContext.allCases {
      var seen = Set<KeyMatch>()
      for b in KeyTable.bindings where b.context == ctx {
        for k in b.keys {
          #expect(!seen.contains(k), "\(k) bound twice in \(ctx)")
          seen.insert(k)
        }
      }
    }
  }

  @Test func helpIsGeneratedFromTheTable() {
    let lines = KeyTable.helpLines(for: .main)
    #expect(lines.contains { $0.keys == "w W" && $0.text.contains("warmup") })
    #expect(lines.contains { $0.keys == "? h" })
    // Without a trainer (replay, follow), help and the overlay hints say what q does there.
    #expect(KeyTable.helpLines(for: .main, trainer: false).contains { $0 == ("q", "quit") })
    #expect(KeyTable.overlayHints(.stagePanel, trainer: false).contains { $0 == ("[q]", "quit") })
    var m = Fixtures.stageTwo()
    m.view.overlay = .help
    let text = ScreenRenderer.renderText(model: m, width: 120, height: 60)
    // Every main-screen key, except the comparison view's in a live run without a comparison.
    for b in KeyTable.bindings where b.context == .main && b.action != .comparison {
      #expect(text.contains(b.help), "help lacks \(b.help)")
    }
    #expect(!text.contains("comparison table of the runs"), "no comparison in a live run")
    m.comparison = ComparisonTable(columns: ["run"], rows: [])
    let withComparison = ScreenRenderer.renderText(model: m, width: 120, height: 60)
    #expect(withComparison.contains("comparison table of the runs"))
  }

  @Test func viewKeys() {
    var m = Fixtures.stageTwo()
    #expect(m.handleKey(.char("s")).isEmpty)
    #expect(m.view.smoothing)
    _ = m.handleKey(.char("l"))
    #expect(m.view.logY)
    _ = m.handleKey(.char("+"))
    #expect(m.view.xWindow == .follow(width: 810_000))
    _ = m.handleKey(.left)
    guard case .fixed(let lo, let hi) = m.view.xWindow else {
      Issue.record("panning should fix the window")
      return
    }
    #expect(hi - lo == 810_000)
    _ = m.handleKey(.char("f"))
    #expect(m.view.xWindow == .follow(width: 810_000))
    _ = m.handleKey(.char("-"))
    #expect(m.view.xWindow == .all)
    _ = m.handleKey(.char("2"))
    #expect(m.view.hiddenSeries == [2])
    _ = m.handleKey(.char("9"))  // no 9th series
    #expect(m.view.hiddenSeries == [2])
    #expect(m.handleKey(.char("t")) == [.themeChanged("light")])
    #expect(m.view.themeName == "light")
  }

  @Test func commandsForTheTrainer() {
    var m = Fixtures.stageTwo()
    #expect(m.handleKey(.char(" ")) == [.togglePause])
    #expect(m.handleKey(.char("c")) == [.checkpoint])
    // Quit asks first while training.
    #expect(m.handleKey(.char("q")).isEmpty)
    #expect(m.view.overlay == .quitConfirm)
    #expect(m.handleKey(.char("n")).isEmpty)
    #expect(m.view.overlay == .none)
    _ = m.handleKey(.char("q"))
    #expect(m.handleKey(.char("y")) == [.quit])
    // In replay, quit is immediate; replay keys work.
    var r = Fixtures.overlay3()
    #expect(r.handleKey(.char(">")) == [.replaySpeed(1)])
    #expect(r.handleKey(.end) == [.seekEnd])
    #expect(r.handleKey(.char("c")).isEmpty)  // nothing to checkpoint in a replay
    #expect(r.handleKey(.char("n")).isEmpty)
    #expect(r.view.overlay == .none)
    #expect(r.handleKey(.char("q")) == [.quit])
    #expect(r.handleKey(.interrupted(2)) == [.quit])
  }

  @Test func mainViewAdjustsNextStage() {
    var m = Fixtures.stageTwo()
    _ = m.handleKey(.char("W"))
    #expect(m.nextStage.warmupPercent == 2)
    _ = m.handleKey(.char("w"))
    _ = m.handleKey(.char("w"))
    #expect(m.nextStage.warmupPercent == 0.5)
    _ = m.handleKey(.char("R"))
    #expect(m.nextStage.replayPercent == 50)
    _ = m.handleKey(.char("R"))
    #expect(m.nextStage.replayPercent == 50)
    _ = m.handleKey(.char("e"))
    #expect(m.nextStage.lrMax == 2e-4)
  }

  /// ηmin never ends above ηmax (a config with it is refused, so a log with it could not be
  /// resumed): lowering ηmax stops at ηmin (leaving ηmin as it was), raising ηmin stops at ηmax,
  /// typed values that would cross are refused with a message.
  @Test func etaMinNeverExceedsEtaMax() {
    var m = Fixtures.stageTwo()
    let lrMin = m.nextStage.lrMin
    #expect(lrMin < m.nextStage.lrMax)
    for _ in 0..<20 { _ = m.handleKey(.char("e")) }
    #expect(m.nextStage.lrMax == lrMin && m.nextStage.lrMin == lrMin)
    for _ in 0..<5 { _ = m.handleKey(.char("E")) }
    let lrMax = m.nextStage.lrMax
    m.view.overlay = .stagePanel
    m.view.stageField = .lrMin
    for _ in 0..<30 { _ = m.handleKey(.right) }
    #expect(m.nextStage.lrMin == lrMax)
    for c in "5e-2" { _ = m.handleKey(.char(c)) }
    _ = m.handleKey(.enter)
    #expect(m.view.entryError?.contains("η max") == true)
    #expect(m.nextStage.lrMin == lrMax)
    m.view.entryText = ""
    m.view.entryError = nil
    m.view.stageField = .lrMax
    for c in "1e-5" { _ = m.handleKey(.char(c)) }
    _ = m.handleKey(.enter)
    #expect(m.view.entryError?.contains("η min") == true)
    #expect(m.nextStage.lrMax == lrMax)
  }

  /// A typed ηmax above the ladder is taken, with a warning on the panel for as long as the value
  /// stays, whatever else is edited; one on the ladder says nothing.
  @Test func aTypedEtaMaxAboveTheLadderIsTakenWithAWarning() {
    var m = Fixtures.stageBoundary()
    m.view.stageField = .lrMax
    for c in "1e1" { _ = m.handleKey(.char(c)) }
    _ = m.handleKey(.enter)
    #expect(m.nextStage.lrMax == 10)
    #expect(m.view.entryError?.contains("likely to diverge") == true, "\(m.view)")
    // Whole on the 80-column panel's message line.
    let screen = ScreenRenderer.renderText(model: m, width: 80, height: 24)
    #expect(screen.contains("η max 1e1 is above 5e-2: likely to diverge"), "\(screen)")
    _ = m.handleKey(.down)
    #expect(m.view.entryError?.contains("likely to diverge") == true)
    // Another field changed (the length, typed): its edit clears the note, not the warning.
    m.view.stageField = .length
    for c in "2000" { _ = m.handleKey(.char(c)) }
    _ = m.handleKey(.enter)
    #expect(m.nextStage.lengthTokens == 2000)
    let afterEdit = ScreenRenderer.renderText(model: m, width: 80, height: 24)
    #expect(afterEdit.contains("η max 1e1 is above 5e-2: likely to diverge"), "\(afterEdit)")
    m.view.stageField = .lrMax
    for c in "3e-3" { _ = m.handleKey(.char(c)) }
    _ = m.handleKey(.enter)
    #expect(m.nextStage.lrMax == 3e-3)
    #expect(m.view.entryError == nil)
    let onTheLadder = ScreenRenderer.renderText(model: m, width: 80, height: 24)
    #expect(!onTheLadder.contains("likely to diverge"), "\(onTheLadder)")
  }

  /// A slip while typing is kept and refused at Enter: "2B" does not become a 2-token stage; a
  /// letter on its own says it does nothing (it was dropped in silence).
  @Test func aTypedSlipIsRefusedNotDropped() {
    var m = Fixtures.stageBoundary()
    m.view.stageField = .length
    let length = m.nextStage.lengthTokens
    for c in "2B" { _ = m.handleKey(.char(c)) }
    #expect(m.view.entryText == "2B")
    #expect(m.handleKey(.enter).isEmpty)
    #expect(m.nextStage.lengthTokens == length)
    #expect(m.view.entryError?.contains("not a length: 2B") == true, "\(m.view)")
    m.view.entryError = nil
    m.view.entryText = ""
    m.view.stageField = .warmup
    _ = m.handleKey(.char("z"))
    #expect(m.view.entryText.isEmpty)
    #expect(m.view.entryError?.hasPrefix("z is no key here") == true, "\(m.view)")
    // Shown whole on the 80-column panel.
    let screen = ScreenRenderer.renderText(model: m, width: 80, height: 24)
    #expect(screen.contains("z is no key here: type a value (3e-4, 25, 2M)"), "\(screen)")
    // q still quits (asks first) from the panel.
    _ = m.handleKey(.char("q"))
    #expect(m.view.overlay == .quitConfirm)
  }

  /// Typed text the panel refused ("nan" in η max: every letter is no key; "wsd" in schedule)
  /// holds the next Enter: it says nothing was taken, and only a second Enter starts the stage.
  @Test func enterAfterRefusedTypingDoesNotStartTheStage() {
    for (field, text) in [(StageField.lrMax, "nan"), (.schedule, "wsd")] {
      var m = Fixtures.stageBoundary()
      m.view.stageField = field
      let before = m.nextStage
      for c in text { #expect(m.handleKey(.char(c)).isEmpty) }
      #expect(m.handleKey(.enter).isEmpty, "\(field)")
      #expect(m.view.overlay == .stagePanel)
      #expect(
        m.view.entryError == "nothing typed was taken · Enter again starts stage 2", "\(m.view)")
      let screen = ScreenRenderer.renderText(model: m, width: 80, height: 24)
      #expect(screen.contains("nothing typed was taken · Enter again starts stage 2"), "\(screen)")
      guard case .startNextStage(let settings) = m.handleKey(.enter).first else {
        Issue.record("the second Enter starts the stage (\(field))")
        continue
      }
      #expect(settings == before)
    }
  }

  /// A proposal carrying an η max above the ladder (stage 3 copies stage 2's typed 1e-1) warns
  /// as soon as the panel opens; one on the ladder opens without a message.
  @Test func openingThePanelOnAHighEtaMaxProposalWarns() {
    var m = Fixtures.stageBoundary()
    m.view.overlay = .none
    m.nextStage.lrMax = 0.1
    _ = m.apply(.openStagePanel)
    #expect(m.view.overlay == .stagePanel)
    #expect(m.view.entryError == "η max 1e-1 is above 5e-2: likely to diverge", "\(m.view)")
    _ = m.apply(.cancel)
    m.nextStage.lrMax = 3e-4
    _ = m.apply(.openStagePanel)
    #expect(m.view.entryError == nil)
  }

  /// The panel shows what a typed value becomes: a length as whole updates ("10 tokens" is one
  /// step of 2048), a warmup below 0.005 % not as "0".
  @Test func thePanelShowsWhatATypedValueBecomes() {
    var m = Fixtures.stageBoundary()
    m.nextStage.tokensPerStep = 2048
    m.view.stageField = .length
    for c in "10" { _ = m.handleKey(.char(c)) }
    _ = m.handleKey(.enter)
    var screen = ScreenRenderer.renderText(model: m, width: 120, height: 40)
    #expect(screen.contains("◂ 10 tokens ▸ 1 step"), "\(screen)")
    m.nextStage.lengthTokens = 1_000_000
    screen = ScreenRenderer.renderText(model: m, width: 120, height: 40)
    #expect(screen.contains("◂ 1M tokens ▸ 489 steps"), "\(screen)")
    m.view.stageField = .warmup
    for c in "3e-4" { _ = m.handleKey(.char(c)) }
    _ = m.handleKey(.enter)
    #expect(m.nextStage.warmupPercent == 3e-4)
    screen = ScreenRenderer.renderText(model: m, width: 120, height: 40)
    #expect(screen.contains("[3e-4]"), "\(screen)")
  }

  /// A letter bound to nothing on the main screen says where the keys are, for one key.
  @Test func anUnboundLetterPointsToTheHelp() {
    var m = Fixtures.live()
    _ = m.handleKey(.char("p"))
    #expect(m.keyMessage == "p does nothing here · ? lists the keys")
    _ = m.handleKey(.char("s"))
    #expect(m.keyMessage == nil)
  }

  /// Keys that mean nothing at the moment say why instead of doing nothing in silence: space
  /// between stages, and a series digit past the legend.
  @Test func keysThatDoNothingNowSayWhy() {
    var m = Fixtures.stageBoundary()
    m.view.overlay = .none
    _ = m.handleKey(.char(" "))
    #expect(m.keyMessage == "no stage is running to pause · n chooses the next one")
    // A stage-end checkpoint that could not be written holds the trainer: space retries it.
    m.status.held = true
    #expect(m.handleKey(.char(" ")) == [.togglePause])
    #expect(m.keyMessage == nil)
    var live = Fixtures.live()
    #expect(live.legendGroupCount == 2)
    _ = live.handleKey(.char(" "))
    #expect(live.keyMessage == nil)
    _ = live.handleKey(.char("3"))
    #expect(live.keyMessage == "3 does nothing: 1–2 show or hide a dataset")
    #expect(live.view.hiddenSeries.isEmpty)
    _ = live.handleKey(.char("2"))
    #expect(live.keyMessage == nil && live.view.hiddenSeries == [2])
  }

  /// While the run saves itself to stop, the hint line offers no stage, pause or checkpoint, and
  /// n says why.
  @Test func aStoppingRunOffersNoStage() {
    var m = Fixtures.live()
    m.status.stopping = true
    let hints = KeyTable.hints(stopping: true).map(\.text)
    #expect(!hints.contains("next stage") && !hints.contains("pause"), "\(hints)")
    _ = m.handleKey(.char("n"))
    #expect(m.view.overlay == .none)
    #expect(m.keyMessage == "the run is stopping: no stage can start")
  }

  /// Typing on a field of choices (dataset, schedule, reads) says how to change it instead of
  /// doing nothing (the next Enter then started the stage unawares).
  @Test func typingOnAFieldOfChoicesSaysHowToChangeIt() {
    var m = Fixtures.stageBoundary()
    for field in [StageField.dataset, .schedule, .replayOrder] {
      m.view.stageField = field
      m.view.entryError = nil
      _ = m.handleKey(.char("2"))
      #expect(m.view.entryText.isEmpty)
      #expect(m.view.entryError?.hasSuffix("is chosen with ←→, not typed") == true, "\(field)")
    }
  }

  /// A refused typed value does not trap the cursor: ↓ drops it and moves on, and typing after
  /// a refusal starts a new value instead of appending to the refused one.
  @Test func aRefusedValueDoesNotHoldTheCursor() {
    var m = Fixtures.stageBoundary()
    m.view.stageField = .lrMax
    let lrMax = m.nextStage.lrMax
    for c in "1e-9" { _ = m.handleKey(.char(c)) }
    _ = m.handleKey(.enter)
    #expect(m.view.entryError != nil)
    for c in "3" { _ = m.handleKey(.char(c)) }
    #expect(m.view.entryText == "3", "a new value, not 1e-93")
    m.view.entryText = "1e-9"
    _ = m.handleKey(.down)
    #expect(m.view.stageField != .lrMax && m.view.entryText.isEmpty)
    #expect(m.view.entryError?.hasSuffix("(not changed)") == true, "\(m.view.entryError ?? "")")
    #expect(m.nextStage.lrMax == lrMax)
  }

  /// Choosing constant-min clears the warmup ("no re-warming"); moving on to another schedule
  /// gives it back, unless a warmup was set meanwhile.
  @Test func constantMinSetsTheWarmupAsideAndGivesItBack() {
    var settings = StageSettings(
      warmupPercent: 5, schedules: ["cosine", "constant-min", "infinite"], scheduleIndex: 0)
    var m = Fixtures.stageTwo()
    m.nextStage = settings
    m.view.overlay = .stagePanel
    m.view.stageField = .schedule
    _ = m.handleKey(.right)
    #expect(m.nextStage.schedule == "constant-min" && m.nextStage.warmupPercent == 0)
    _ = m.handleKey(.right)
    #expect(m.nextStage.schedule == "infinite" && m.nextStage.warmupPercent == 5)
    _ = m.handleKey(.left)
    m.view.stageField = .warmup
    _ = m.handleKey(.right)
    settings = m.nextStage
    #expect(settings.schedule == "constant-min" && settings.warmupPercent == 0.5)
    m.view.stageField = .schedule
    _ = m.handleKey(.left)
    #expect(m.nextStage.schedule == "cosine" && m.nextStage.warmupPercent == 0.5)
  }

  /// Stage 2's screen with a draft continuing stage 1–2's infinite schedule past the plan.
  static func infinitePastThePlan() -> ScreenModel {
    var model = Fixtures.stageTwo()
    model.nextStage = StageSettings(
      warmupPercent: 0, lrMax: 1e-2, lrMin: 1e-3, schedules: ["cosine", "infinite"],
      scheduleIndex: 1)
    model.nextStage.infiniteSpan = InfiniteSpan(
      firstStage: 1, lastStage: 2, lrMax: 1e-2, lrMin: 1e-3, plannedLengthTokens: nil)
    return model
  }

  /// Past the plan, continuing the infinite schedule would re-plan the stages already trained:
  /// the panel refuses to start it and says why.
  @Test func infiniteBeyondThePlanIsRefused() {
    var model = Self.infinitePastThePlan()
    model.view.overlay = .stagePanel
    #expect(model.handleKey(.enter).isEmpty)
    #expect(model.view.entryError == "infinite would re-plan stages 1–2: pick another schedule")
    model.view.stageField = .schedule
    _ = model.handleKey(.left)
    #expect(model.view.entryError == nil)
    #expect(model.handleKey(.enter).count == 1)
  }

  /// The panel says at once that an `infinite` proposal past the plan cannot start (it looked
  /// valid until Enter); a fixed field takes no text and says why; W and E on the main
  /// screen say why a fixed field did not change, until the next key.
  @Test func fixedFieldsSayWhyAtOnce() {
    var model = Self.infinitePastThePlan()
    model.view.overlay = .none
    _ = model.handleKey(.char("n"))
    #expect(model.view.entryError == "infinite would re-plan stages 1–2: pick another schedule")

    model.nextStage.infiniteSpan?.plannedLengthTokens = 4096
    model.view.overlay = .none
    model.view.entryError = nil
    _ = model.handleKey(.char("n"))
    #expect(model.view.entryError == nil)
    model.view.stageField = .lrMax
    for c in "3e-3" { _ = model.handleKey(.char(c)) }
    #expect(model.view.entryText.isEmpty)
    #expect(model.view.entryError == "fixed: this stage continues stage 1's infinite schedule")
    // The side panel shows no keys for what is fixed.
    var panel = CellGrid(width: 140, height: 45)
    model.view.overlay = .none
    ScreenRenderer.render(model: model, into: &panel)
    #expect(!panel.render().contains("[e/E]") && panel.render().contains("[r/R]"))
    // Every fixed row says so: warmup, η max, η min and length.
    let fixedRows = panel.render().split(separator: "\n").filter { line in
      line.contains("fixed")
        && ["warmup", "η max", "η min", "length"].contains { line.contains($0) }
    }
    #expect(fixedRows.count == 4, "\(panel.render())")
    model.view.overlay = .stagePanel
    _ = model.handleKey(.escape)
    #expect(model.view.overlay == .none && model.keyMessage == nil)

    _ = model.handleKey(.char("E"))
    #expect(model.nextStage.lrMax == 1e-2)
    #expect(model.keyMessage == "fixed: this stage continues stage 1's infinite schedule")
    var grid = CellGrid(width: 120, height: 40)
    ScreenRenderer.render(model: model, into: &grid)
    #expect(grid.render().contains("fixed: this stage continues stage 1"), "\(grid.render())")
    _ = model.handleKey(.char("s"))
    #expect(model.keyMessage == nil)
  }

  /// w/W, r/R and e/E at the end of their ladders (or ηmax down at ηmin) say so on the notice
  /// line instead of doing nothing without a word.
  @Test func keysAtTheirLimitsSaySo() {
    var model = Fixtures.stageTwo()
    model.view.overlay = .none
    model.nextStage.replayPercent = 0
    _ = model.handleKey(.char("r"))
    #expect(model.keyMessage?.hasPrefix("replay: the smallest step") == true)
    model.nextStage.lrMax = model.nextStage.lrMin
    _ = model.handleKey(.char("e"))
    #expect(model.keyMessage?.hasPrefix("η max stops at η min") == true)
    model.nextStage.lrMax = StageSteps.learningRate.last!
    _ = model.handleKey(.char("E"))
    #expect(model.keyMessage?.hasPrefix("η max: the largest step") == true)
    _ = model.handleKey(.char("e"))
    #expect(model.keyMessage == nil, "a step that moves says nothing")
    // In the panel the message says so in the panel's words, and Enter leaves it behind.
    model.nextStage.warmupPercent = 0
    _ = model.handleKey(.char("n"))
    _ = model.handleKey(.down)
    _ = model.handleKey(.left)
    #expect(model.view.entryError == "warmup: the smallest step; type another value")
    #expect(model.handleKey(.enter).count == 1)
    #expect(model.view.overlay == .none && model.keyMessage == nil)
  }

  @Test func stagePanelFlow() {
    var m = Fixtures.stageBoundary()
    m.view.overlay = .none
    _ = m.handleKey(.char("n"))
    #expect(m.view.overlay == .stagePanel)
    #expect(m.view.stageField == .dataset)
    _ = m.handleKey(.right)
    #expect(m.nextStage.dataset == "D0 english")
    _ = m.handleKey(.down)  // warmup
    _ = m.handleKey(.left)
    #expect(m.nextStage.warmupPercent == 0.5)
    _ = m.handleKey(.down)  // η max: type a value
    for c in "4e-3" { _ = m.handleKey(.char(c)) }
    #expect(m.view.entryText == "4e-3")
    _ = m.handleKey(.enter)  // applies the value, panel stays
    #expect(m.nextStage.lrMax == 4e-3)
    #expect(m.view.overlay == .stagePanel)
    _ = m.handleKey(.down)
    _ = m.handleKey(.down)
    _ = m.handleKey(.down)  // replay
    #expect(m.view.stageField == .replay)
    for c in "150" { _ = m.handleKey(.char(c)) }
    _ = m.handleKey(.enter)
    #expect(m.view.entryError != nil)
    #expect(m.nextStage.replayPercent == 25)
    _ = m.handleKey(.backspace)
    _ = m.handleKey(.backspace)
    _ = m.handleKey(.backspace)
    for c in "5%" { _ = m.handleKey(.char(c)) }
    _ = m.handleKey(.enter)
    #expect(m.nextStage.replayPercent == 5)
    _ = m.handleKey(.down)  // replay reads (in order / spread)
    #expect(m.view.stageField == .replayOrder)
    _ = m.handleKey(.right)
    #expect(m.nextStage.replaySpread)
    _ = m.handleKey(.down)  // length
    for c in "2M" { _ = m.handleKey(.char(c)) }
    _ = m.handleKey(.tab)  // moving on applies it
    #expect(m.nextStage.lengthTokens == 2_000_000)
    // The arrows reach short stages too (a tiny preset's 5.1k tokens): down to 1k.
    #expect(StageSteps.step(5_120, StageSteps.lengthTokens, up: false) == 5_000)
    #expect(StageSteps.step(50_000, StageSteps.lengthTokens, up: false) == 20_000)
    #expect(StageSteps.step(1_000, StageSteps.lengthTokens, up: false) == 1_000)
    let cmds = m.handleKey(.enter)
    #expect(m.view.overlay == .none)
    guard case .startNextStage(let s) = cmds.first else {
      Issue.record("Enter should start the next stage")
      return
    }
    #expect(s.replayPercent == 5)
    #expect(s.lrMax == 4e-3)
    #expect(s.warmupPercent == 0.5)
    #expect(s.dataset == "D0 english")
    // Esc closes without a command, and puts back what the panel changed.
    _ = m.handleKey(.char("n"))
    let before = m.nextStage
    _ = m.handleKey(.down)  // warmup
    _ = m.handleKey(.right)
    #expect(m.nextStage != before)
    #expect(m.handleKey(.escape).isEmpty)
    #expect(m.view.overlay == .none)
    #expect(m.nextStage == before)
  }

  @Test(arguments: [
    ("3e-4", StageField.lrMax, 3e-4), ("25%", .replay, 25), ("0.5", .warmup, 0.5),
    ("250k", .length, 250_000), ("1.5M", .length, 1_500_000),
    // The config's own limits: anything a config may say can be typed again.
    ("100", .replay, 100), ("50%", .warmup, 50), ("2", .lrMax, 2), ("10", .lrMax, 10),
  ])
  func parsesTypedValues(entry: (String, StageField, Double)) throws {
    let v = try StageSteps.parse(entry.0, for: entry.1).get()
    #expect(abs(v - entry.2) < 1e-12 * max(1, entry.2))
  }

  @Test(arguments: [
    ("101", StageField.replay), ("80", .warmup), ("11", .lrMax), ("0", .lrMax), ("-1", .lrMin),
    // Only plain decimal numbers: no hexadecimal (read as 0.125 and 16), nan or inf.
    ("0x1p-3", .lrMax), ("0x10", .replay), ("nan", .lrMin), ("inf", .length), ("1e", .lrMax),
    ("..5", .warmup),
  ])
  func refusesValuesAConfigRefuses(entry: (String, StageField)) {
    #expect((try? StageSteps.parse(entry.0, for: entry.1).get()) == nil)
  }

  /// A value longer than the panel takes is refused whole with a message (it was cut, and the
  /// cut "0.00000000000000" was taken as 0), and the next Enter does not start the stage.
  @Test func aTooLongValueIsRefusedNotCut() {
    var m = Fixtures.stageBoundary()
    m.view.stageField = .lrMin
    let before = m.nextStage
    for c in "0.0000000000000000000015" { _ = m.handleKey(.char(c)) }
    #expect(m.handleKey(.enter).isEmpty)
    #expect(m.view.entryError?.hasPrefix("a value has at most 16 characters") == true, "\(m.view)")
    #expect(m.nextStage == before)
    #expect(m.handleKey(.escape).isEmpty && m.view.overlay == .stagePanel)
    for c in "1.5e-21" { _ = m.handleKey(.char(c)) }
    #expect(m.handleKey(.enter).isEmpty)
    #expect(m.nextStage.lrMin == 1.5e-21)
  }

  @Test func ladders() {
    #expect(StageSteps.step(1, StageSteps.warmupPercent, up: true) == 2)
    #expect(StageSteps.step(1.5, StageSteps.warmupPercent, up: false) == 1)
    #expect(StageSteps.step(0, StageSteps.replayPercent, up: false) == 0)
    #expect(StageSteps.step(3e-4, StageSteps.learningRate, up: true) == 5e-4)
  }
}

extension KeyMatch: Hashable {
  public func hash(into h: inout Hasher) { h.combine(String(describing: self)) }
}
