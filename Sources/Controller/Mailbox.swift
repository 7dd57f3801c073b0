// The hand-over from the controller to the TUI thread: a lock-protected slot holding the newest
// snapshot. Writers replace it; the reader takes it when it is newer than what it drew. Nobody
// waits on anybody: a slow reader just skips snapshots (newest wins).

import Screens
import Synchronization
import Terminal

/// A one-slot box where the newest value wins.
public final class Mailbox<Value: Sendable>: Sendable {
  private let slot: Mutex<(value: Value, serial: Int)>

  public init(_ initial: Value) {
    slot = Mutex((initial, 0))
  }

  /// Replaces the value; returns its serial number (1 for the first `put`).
  @discardableResult
  public func put(_ value: Value) -> Int {
    slot.withLock { s in
      s = (value, s.serial + 1)
      return s.serial
    }
  }

  /// The newest value and its serial.
  public func take() -> (value: Value, serial: Int) {
    slot.withLock { $0 }
  }

  /// The newest value if its serial is above `serial` (nil: nothing new since).
  public func take(newerThan serial: Int) -> (value: Value, serial: Int)? {
    slot.withLock { $0.serial > serial ? $0 : nil }
  }

  /// Changes the value in place (under the lock) and bumps the serial.
  public func update(_ body: (inout Value) -> Void) {
    slot.withLock { s in
      body(&s.value)
      s.serial += 1
    }
  }
}

/// What the controller publishes for the screen.
public struct ScreenSnapshot: Sendable, Equatable {
  /// The model as the controller sees it (its `view` and `nextStage` are proposals; see `merge`).
  public var model: ScreenModel
  /// Grows when the controller proposes new next-stage settings (a stage started).
  public var draftSerial: Int
  /// Grows when the controller asks for the stage panel (a stage ended in an interactive run).
  public var panelRequest: Int
  /// True once the run is over and no more events will come.
  public var finished: Bool
  /// The planned learning rate for any draft of the next stage (nil: nothing more is planned).
  public var learningRatePreview: LearningRatePreview?

  public init(
    model: ScreenModel = ScreenModel(), draftSerial: Int = 0, panelRequest: Int = 0,
    finished: Bool = false, learningRatePreview: LearningRatePreview? = nil
  ) {
    self.model = model
    self.draftSerial = draftSerial
    self.panelRequest = panelRequest
    self.finished = finished
    self.learningRatePreview = learningRatePreview
  }
}

/// The TUI side's memory: the user's view and draft, and which proposals it has taken up.
public struct ScreenSession: Sendable, Equatable {
  public var view: ViewState
  public var nextStage: StageSettings
  public var draftSerial: Int
  public var panelRequest: Int
  /// The last snapshot's draft proposal and plan: the learning-rate chart plans the user's draft
  /// when it differs from the proposal.
  var proposal: StageSettings?
  var learningRatePreview: LearningRatePreview?

  public init(view: ViewState = ViewState(), nextStage: StageSettings = StageSettings()) {
    self.view = view
    self.nextStage = nextStage
    draftSerial = -1
    panelRequest = 0
  }

  /// The model to draw: the snapshot's data with the user's view and draft. A newer draft proposal
  /// replaces the user's draft; a newer panel request opens the stage panel (unless the user is
  /// answering the quit question: then it opens after a "no").
  public mutating func merge(_ snapshot: ScreenSnapshot) -> ScreenModel {
    var model = snapshot.model
    if snapshot.draftSerial > draftSerial {
      nextStage = snapshot.model.nextStage
      draftSerial = snapshot.draftSerial
    }
    model.view = view
    model.nextStage = nextStage
    proposal = snapshot.model.nextStage
    learningRatePreview = snapshot.learningRatePreview
    if snapshot.panelRequest > panelRequest && view.overlay != .quitConfirm {
      panelRequest = snapshot.panelRequest
      if view.overlay != .stagePanel {
        _ = model.apply(.openStagePanel)  // as the n key opens it
        view = model.view
      }
    }
    if plansDraft { planDraft(in: &model) }
    return model
  }

  /// Applies a key to `model` (as `ScreenModel.handleKey` does) and keeps the resulting view and
  /// draft; returns the commands for the controller.
  public mutating func handleKey(_ key: Terminal.Key, in model: inout ScreenModel) -> [Command] {
    let commands = model.handleKey(key)
    let changed = model.nextStage != nextStage || model.view.overlay != view.overlay
    view = model.view
    nextStage = model.nextStage
    if changed { planDraft(in: &model) }
    return commands
  }

  /// Whether the chart plans the session's own draft: one that differs from the proposal, or any
  /// while the stage panel is open (its Enter starts the draft at once, ending a running stage).
  private var plansDraft: Bool { nextStage != proposal || view.overlay == .stagePanel }

  /// Draws the planned learning rate with the user's draft as the next stage (w/W, e/E and the
  /// stage panel show their effect at once), or as the controller planned it for its proposal.
  private func planDraft(in model: inout ScreenModel) {
    guard let preview = learningRatePreview, !model.runs.isEmpty else { return }
    model.runs[0].lrPlanned = preview.series(
      for: plansDraft ? nextStage : nil, startingNow: view.overlay == .stagePanel)
  }
}
