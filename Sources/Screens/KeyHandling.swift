// The pure key handler: (model, key) → (model with new view state and next-stage settings, commands).

import Terminal

extension ScreenModel {
  /// Applies a key: changes `view` and `nextStage` as the key table says and returns the commands
  /// for the controller. A key that means nothing here returns no commands and changes nothing.
  public mutating func handleKey(_ key: Key) -> [Command] {
    if case .interrupted = key { return [.quit] }
    if key == .resize { return [] }
    // A message from the last key on the main screen (a fixed field's reason) lasts one key.
    if view.overlay == .none { view.entryError = nil }
    // Typed text the panel refused holds the next Enter: the user meant a value, not "start"
    // (each letter of "nan" refused, Enter started the stage with the old η max).
    let typingWasRefused = view.typingRefused
    view.typingRefused = false
    guard let action = KeyTable.action(for: key, in: KeyTable.contexts(for: self)) else {
      // In the stage panel a character that is no key is never dropped in silence: within a
      // typed value it is kept, so that a slip ("2B") is refused at Enter (dropped, "2" became a
      // 2-token stage); on its own it says so.
      if view.overlay == .stagePanel, case .char(let c) = key, !c.isWhitespace {
        if !view.entryText.isEmpty || !view.stageField.isNumeric {
          return apply(.typeText, key: key)
        }
        view.entryError = "\(c) is no key here: type a value (3e-4, 25, 2M)"
        view.typingRefused = true
        return []
      }
      // A letter that does nothing here says where the keys are (once, on the key hint line).
      if view.overlay == .none, case .char(let c) = key, c.isLetter {
        view.entryError = "\(c) does nothing here · ? lists the keys"
      }
      return []
    }
    // Without a trainer (replay, a followed log) the keys that steer one mean nothing; a followed
    // log has no play clock to pause either.
    if !status.hasTrainer && view.overlay == .none
      && (Self.trainingOnly.contains(action) || (action == .pause && status.mode != .replay))
    {
      return []
    }
    if action == .confirm, typingWasRefused, view.overlay == .stagePanel, view.entryText.isEmpty {
      view.entryError =
        "nothing typed was taken · Enter again starts stage \(status.stage + 1)"
      return []
    }
    return apply(action, key: key)
  }

  /// Applies an action (what `handleKey` does once the key is looked up).
  public mutating func apply(_ action: Action, key: Key? = nil) -> [Command] {
    switch action {
    case .openStagePanel:
      if status.mode == .finished {
        view.entryError = "the run has ended (\(status.endedAs ?? "completed")): no stage can start"
        return []
      }
      if status.stopping {
        view.entryError = "the run is stopping: no stage can start"
        return []
      }
      view.overlay = .stagePanel
      view.draftBeforePanel = nextStage
      view.stageField = .dataset
      view.entryText = ""
      // A proposal that cannot start as it is (infinite past the plan) says so at once, and one
      // that carries a typed η max above the ladder (stage 3 copies stage 2's) warns again.
      view.entryError =
        nextStage.startRefusal ?? Self.etaMaxWarning(nextStage.lrMax)
    case .pause:
      // Between stages nothing runs to pause: say what to do instead of doing nothing (unless
      // space retries a stage-end checkpoint that could not be written).
      if status.hasTrainer && status.mode == .waiting && !status.held && view.overlay == .none {
        view.entryError = "no stage is running to pause · n chooses the next one"
      }
      return [.togglePause]
    case .smoothing: view.smoothing.toggle()
    case .logY: view.logY.toggle()
    case .panLeft: pan(by: -0.25)
    case .panRight: pan(by: 0.25)
    case .zoomIn: zoom(by: 0.5)
    case .zoomOut: zoom(by: 2)
    case .follow:
      switch view.xWindow {
      case .fixed(let lo, let hi): view.xWindow = .follow(width: hi - lo)
      case .follow: view.xWindow = .all
      case .all: break
      }
    case .toggleSeries(let n): toggleSeries(n)
    case .togglePinnedRun: if runs.count > 1 { toggleSeries(pinnedRun + 1) }
    case .theme:
      let names = view.themeNames
      guard !names.isEmpty else { return [] }
      let i = names.firstIndex(of: view.themeName).map { ($0 + 1) % names.count } ?? 0
      view.themeName = names[i]
      return [.themeChanged(names[i])]
    case .checkpoint: return [.checkpoint]
    case .help:
      view.overlay = .help
      view.helpScroll = 0
    case .quit:
      // Only a run being trained asks first (quitting stops it); a replay or a follow just leaves.
      if status.hasTrainer && [.live, .paused, .waiting].contains(status.mode) {
        view.overlay = .quitConfirm
      } else {
        return [.quit]
      }
    case .comparison: view.overlay = .comparison
    case .warmupDown: adjust(.warmup, up: false)
    case .warmupUp: adjust(.warmup, up: true)
    case .replayDown: adjust(.replay, up: false)
    case .replayUp: adjust(.replay, up: true)
    case .lrMaxDown: adjust(.lrMax, up: false)
    case .lrMaxUp: adjust(.lrMax, up: true)
    case .replaySlower: return [.replaySpeed(-1)]
    case .replayFaster: return [.replaySpeed(1)]
    case .seekStart: return [.seekStart]
    case .toggleSync: return [.toggleSync(run: pinnedRun)]
    case .seekEnd: return [.seekEnd]
    case .stepBack: return [.step(-1, run: pinnedRun)]
    case .stepForward: return [.step(1, run: pinnedRun)]
    case .scrubBack: return [.scrub(-0.05)]
    case .scrubForward: return [.scrub(0.05)]
    case .pinRun:
      guard runs.count > 1 else {
        view.entryError = "p pins one of several runs: this replay has one"
        break
      }
      let next = (pinnedRun + 1) % runs.count
      // The pinned run is shown while pinned; one that was hidden before goes back to hidden.
      if let shown = view.shownByPin { view.hiddenSeries.insert(shown + 1) }
      view.shownByPin = view.hiddenSeries.remove(next + 1) != nil ? next : nil
      view.pinnedRun = next
    case .fieldPrevious, .fieldNext:
      // A typed value that is refused does not hold the cursor: it is dropped (the field keeps
      // its value, the message says why) and the cursor moves on.
      if !commitEntry() {
        view.entryText = ""
        view.entryError = (view.entryError ?? "invalid value") + " (not changed)"
      }
      let all = StageField.allCases
      let d = action == .fieldNext ? 1 : all.count - 1
      view.stageField = all[(view.stageField.rawValue + d) % all.count]
    case .valueDecrease, .valueIncrease:
      view.entryText = ""
      view.entryError = nil
      adjust(view.stageField, up: action == .valueIncrease)
    case .typeText:
      guard case .char(let c) = key else { break }
      // A field of choices takes no text: say so, or the next Enter starts the stage unawares.
      guard view.stageField.isNumeric else {
        view.entryError = "\(view.stageField.title.trimmingSpaces()) is chosen with ←→, not typed"
        view.typingRefused = true
        break
      }
      // Kept past the longest value taken, to be refused whole at Enter rather than cut here
      // ("0.0000000000000000000015" was cut to a 0 that was taken).
      guard view.entryText.count < 4 * Self.maximumEntryLength else { break }
      // A fixed field takes no text: it says why at the first key.
      if let reason = nextStage.lockReason(view.stageField) {
        view.entryText = ""
        view.entryError = reason
        view.typingRefused = true
        break
      }
      // Typing after a refused value starts a new one (not "1e-4" + "30" = "1e-430").
      if view.entryError != nil { view.entryText = "" }
      view.entryText.append(c)
      view.entryError = nil
    case .erase:
      if !view.entryText.isEmpty { view.entryText.removeLast() }
      view.entryError = nil
    case .confirm:
      if !view.entryText.isEmpty {
        _ = commitEntry()
      } else if let refusal = nextStage.startRefusal {
        view.entryError = refusal
      } else {
        view.overlay = .none
        view.draftBeforePanel = nil
        view.entryError = nil  // the panel's last message stays with the panel
        return [.startNextStage(nextStage)]
      }
    case .cancel:
      if view.overlay == .stagePanel && !view.entryText.isEmpty {
        view.entryText = ""
        view.entryError = nil
      } else {
        // Esc leaves the panel as a cancel: the settings go back to what they were when it opened.
        if view.overlay == .stagePanel, let before = view.draftBeforePanel { nextStage = before }
        view.draftBeforePanel = nil
        view.entryError = nil
        view.overlay = .none
      }
    case .confirmQuit:
      view.overlay = .none
      return [.quit]
    case .scrollUp: view.helpScroll = max(0, view.helpScroll - 1)
    case .scrollDown: view.helpScroll = min(view.helpScroll + 1, KeyTable.bindings.count)
    case .sortPrevious, .sortNext:
      let n = max(1, comparison?.columns.count ?? 1)
      view.sortColumn = (view.sortColumn + (action == .sortNext ? 1 : n - 1)) % n
    case .sortReverse: view.sortDescending.toggle()
    }
    return []
  }

  /// The longest value the stage panel takes as typed.
  static let maximumEntryLength = 16

  /// Actions that mean nothing without a trainer (ignored in replay).
  static let trainingOnly: [Action] = [
    .openStagePanel, .checkpoint, .warmupDown, .warmupUp, .replayDown, .replayUp, .lrMaxDown,
    .lrMaxUp,
  ]

  /// How many entries `1`–`9` toggle: datasets of the one run, or runs in an overlay.
  public var legendGroupCount: Int {
    runs.count > 1 ? runs.count : (runs.first?.validation.count ?? 0)
  }

  /// Shows or hides series `n` (1-based: a run in an overlay, else a dataset).
  mutating func toggleSeries(_ n: Int) {
    // A key for the run the pin showed is the user's own choice from now on.
    if view.shownByPin == n - 1 { view.shownByPin = nil }
    if view.hiddenSeries.contains(n) {
      view.hiddenSeries.remove(n)
    } else if n <= legendGroupCount {
      view.hiddenSeries.insert(n)
    } else if view.overlay == .none {
      let what = runs.count > 1 ? "run" : "dataset"
      switch legendGroupCount {
      case 0: view.entryError = "\(n) does nothing: no series is drawn yet"
      case 1: view.entryError = "\(n) does nothing: 1 shows or hides the one \(what)"
      default:
        view.entryError = "\(n) does nothing: 1–\(legendGroupCount) show or hide a \(what)"
      }
    }
  }

  /// Applies typed text to the focused field. Returns false (and sets an error) if it is invalid.
  mutating func commitEntry() -> Bool {
    guard !view.entryText.isEmpty else { return true }
    guard view.entryText.count <= Self.maximumEntryLength else {
      view.entryError =
        "a value has at most \(Self.maximumEntryLength) characters: write 1.5e-21, not 0.00…"
      return false
    }
    if let reason = nextStage.lockReason(view.stageField) {
      view.entryError = reason
      return false
    }
    switch StageSteps.parse(view.entryText, for: view.stageField) {
    case .success(let v):
      // A config never has ηmin above ηmax (the loader refuses it, so would a resume).
      if view.stageField == .lrMin && v > nextStage.lrMax {
        view.entryError =
          "η min must not exceed η max (\(Format.scientific(nextStage.lrMax, significant: 3)))"
        return false
      }
      if view.stageField == .lrMax && v < nextStage.lrMin {
        view.entryError =
          "η max must be at least η min (\(Format.scientific(nextStage.lrMin, significant: 3)))"
        return false
      }
      set(view.stageField, v)
      view.entryText = ""
      view.entryError = nil
      // Taken (a config may hold it too), but said: such rates make these models' loss explode.
      if view.stageField == .lrMax, let warning = Self.etaMaxWarning(v) {
        view.entryError = warning
      }
      return true
    case .failure(let e):
      view.entryError = e.message
      return false
    }
  }

  /// The panel's message for an η max above the ladder ("η max 1e-1 is above 5e-2: …"), else nil.
  static func etaMaxWarning(_ lrMax: Double) -> String? {
    StageSteps.highRateWarning(lrMax).map { "η max " + $0 }
  }

  mutating func set(_ field: StageField, _ v: Double) {
    switch field {
    case .warmup: nextStage.warmupPercent = v
    case .replay: nextStage.replayPercent = v
    case .lrMax: nextStage.lrMax = v
    case .lrMin: nextStage.lrMin = v
    case .length: nextStage.lengthTokens = v.rounded()
    case .dataset, .schedule, .replayOrder: break
    }
  }

  mutating func adjust(_ field: StageField, up: Bool) {
    if let reason = nextStage.lockReason(field) {
      view.entryError = reason
      return
    }
    var s = nextStage
    func cycle(_ i: Int, _ n: Int) -> Int { n == 0 ? 0 : (i + (up ? 1 : n - 1)) % n }
    switch field {
    case .dataset: s.datasetIndex = cycle(s.datasetIndex, s.datasets.count)
    case .replayOrder: s.replaySpread.toggle()
    case .schedule:
      let was = s.schedule
      s.scheduleIndex = cycle(s.scheduleIndex, s.schedules.count)
      // constant-min is "no re-warming": choosing it clears the warmup (it can be set again),
      // and leaving it gives the warmup back unless one was set meanwhile.
      if s.schedule == "constant-min", was != "constant-min", s.warmupPercent > 0 {
        s.warmupBeforeConstantMin = s.warmupPercent
        s.warmupPercent = 0
      } else if was == "constant-min", s.schedule != "constant-min",
        let warmup = s.warmupBeforeConstantMin
      {
        if s.warmupPercent == 0 { s.warmupPercent = warmup }
        s.warmupBeforeConstantMin = nil
      }
      s.followInfiniteSpan()
      view.entryError = s.startRefusal
    case .warmup:
      s.warmupPercent = StageSteps.step(s.warmupPercent, StageSteps.warmupPercent, up: up)
    case .replay:
      s.replayPercent = StageSteps.step(s.replayPercent, StageSteps.replayPercent, up: up)
    case .lrMax:
      // ηmax stops at ηmin (taking ηmin down with it changed a value nobody looked at).
      s.lrMax = max(StageSteps.step(s.lrMax, StageSteps.learningRate, up: up), s.lrMin)
    case .lrMin:
      // ηmin stops at ηmax.
      s.lrMin = min(StageSteps.step(s.lrMin, StageSteps.minLearningRate, up: up), s.lrMax)
    case .length: s.lengthTokens = StageSteps.step(s.lengthTokens, StageSteps.lengthTokens, up: up)
    }
    // A number that did not move says why (the keys stopped without a word at their limits).
    if field.isNumeric && s == nextStage {
      if field == .lrMax && !up && s.lrMax <= s.lrMin {
        view.entryError = "η max stops at η min (\(Format.scientific(s.lrMin, significant: 3)))"
      } else if field == .lrMin && up && s.lrMin >= s.lrMax {
        view.entryError = "η min stops at η max (\(Format.scientific(s.lrMax, significant: 3)))"
      } else {
        view.entryError =
          "\(field.title): the \(up ? "largest" : "smallest") step; "
          + (view.overlay == .stagePanel
            ? "type another value" : "the stage panel (n) takes any value typed")
      }
    }
    nextStage = s
  }

  mutating func pan(by fraction: Double) {
    guard let e = xExtent else { return }
    let r = view.visibleRange(extent: e)
    let w = r.upperBound - r.lowerBound
    var lo = r.lowerBound + fraction * w
    lo = max(e.lowerBound, min(lo, e.upperBound - w))
    if fraction > 0 && lo + w >= e.upperBound {
      view.xWindow = w >= e.upperBound - e.lowerBound ? .all : .follow(width: w)
    } else {
      view.xWindow = .fixed(lo: lo, hi: lo + w)
    }
  }

  mutating func zoom(by factor: Double) {
    guard let e = xExtent, e.upperBound > e.lowerBound else { return }
    let full = e.upperBound - e.lowerBound
    let r = view.visibleRange(extent: e)
    let w = min(full, max((r.upperBound - r.lowerBound) * factor, full / 4096))
    switch view.xWindow {
    case .all, .follow:
      view.xWindow = w >= full ? .all : .follow(width: w)
    case .fixed:
      if w >= full {
        view.xWindow = .all
        return
      }
      let mid = (r.lowerBound + r.upperBound) / 2
      let lo = max(e.lowerBound, min(mid - w / 2, e.upperBound - w))
      view.xWindow = .fixed(lo: lo, hi: lo + w)
    }
  }
}
