// The controller: an actor that owns the run state. The trainer (on its own thread) and the TUI
// thread both put their input into one ordered stream; the actor takes each input in turn, writes
// events to the run log, folds them, passes the user's commands to the trainer, and publishes the
// newest screen snapshot into a mailbox the TUI thread reads without waiting.

import Experiment
import Foundation
import RunLog
import Screens

/// What reaches the controller: an event from the trainer (or a log), or a command from the screen.
public enum ControllerInput: Sendable, Equatable {
  case event(RunEvent)
  case command(Command)
}

/// The actor between trainer and screen.
public actor LiveController {
  private var state: RunState
  private let record: @Sendable (RunEvent) -> Void
  private let sendToTrainer: @Sendable (TrainerCommand) -> Void
  private let recorderFailure: @Sendable () -> String?
  /// Where the TUI thread picks up the newest snapshot.
  public nonisolated let mailbox: Mailbox<ScreenSnapshot>
  private let inputs: AsyncStream<ControllerInput>
  private let continuation: AsyncStream<ControllerInput>.Continuation
  /// Step events are published at most this often (anything else at once).
  private let publishInterval: Duration
  private var lastPublish: ContinuousClock.Instant?
  private var dirty = false
  private var flushScheduled = false

  /// - `state`: the run about to start (its config and whether it is interactive).
  /// - `record`: writes one event to the run log (called on the actor, in event order).
  /// - `sendToTrainer`: hands a command to the trainer's inbox (must not block).
  /// - `recorderFailure`: the log writer's first error, if any (shown on the screen).
  public init(
    state: RunState, publishInterval: Duration = .milliseconds(100),
    record: @escaping @Sendable (RunEvent) -> Void = { _ in },
    recorderFailure: @escaping @Sendable () -> String? = { nil },
    sendToTrainer: @escaping @Sendable (TrainerCommand) -> Void = { _ in }
  ) {
    self.state = state
    self.record = record
    self.recorderFailure = recorderFailure
    self.sendToTrainer = sendToTrainer
    self.publishInterval = publishInterval
    (inputs, continuation) = AsyncStream.makeStream(of: ControllerInput.self)
    mailbox = Mailbox(Self.snapshot(of: state, finished: false))
  }

  // MARK: - Feeding it (from any thread, never blocks)

  /// An event from the trainer (call it from the trainer's `emit`).
  public nonisolated func emit(_ event: RunEvent) {
    continuation.yield(.event(event))
  }

  /// A command from the screen.
  public nonisolated func send(_ command: Command) {
    continuation.yield(.command(command))
  }

  /// No more input will come (the trainer returned); `run()` finishes after what is queued.
  public nonisolated func finishInput() {
    continuation.finish()
  }

  // MARK: - The loop

  /// Takes inputs until `finishInput()`, then publishes a final snapshot marked finished.
  public func run() async {
    for await input in inputs {
      handle(input)
    }
    publish(finished: true)
  }

  func handle(_ input: ControllerInput) {
    switch input {
    case .event(let event):
      record(event)
      state.apply(event)
      if case .error(let e) = event, e.message.hasPrefix(CheckpointWriteError.prefix),
        !state.paused
      {
        // The trainer waits for p to retry a checkpoint it could not write: show it paused.
        state.note(.paused(true))
      }
      if let failure = recorderFailure() {
        // A full disk: pause (the writer keeps the lines and retries them after space).
        if state.stageRunning, !state.paused, !state.stopping {
          state.note(.paused(true))
          sendToTrainer(.pause)
        }
        state.externalNotice =
          "run log: \(failure) — training paused; free some space, then press space to continue"
        publish(finished: false)
      } else if case .step = event {
        if state.externalNotice?.hasPrefix("run log: ") == true { state.externalNotice = nil }
        schedulePublish()
      } else {
        publish(finished: false)
      }
    case .command(let command):
      apply(command)
      publish(finished: false)
    }
  }

  /// Passes a screen command on to the trainer and notes it in the state.
  func apply(_ command: Command) {
    guard state.isRunning, !state.stopping else { return }
    switch command {
    case .startNextStage(let settings):
      let stage = state.stageConfig(for: settings)
      state.note(.choseNextStage)
      sendToTrainer(.startStage(stage))
    case .togglePause:
      // A trainer waiting for the next stage ignores pauses, and every stage starts unpaused
      // (but space retries a stage-end checkpoint that could not be written).
      guard state.stageRunning || state.paused else { return }
      let paused = !state.paused
      state.note(.paused(paused))
      sendToTrainer(paused ? .pause : .resume)
    case .checkpoint:
      state.note(.checkpointRequested)
      sendToTrainer(.checkpoint)
    case .quit:
      state.note(.stopping)
      sendToTrainer(.stop)
    case .themeChanged, .replaySpeed, .seekStart, .seekEnd, .step, .scrub, .toggleSync:
      break
    }
  }

  // MARK: - Publishing

  private func schedulePublish() {
    let now = ContinuousClock.now
    if let last = lastPublish, now - last < publishInterval {
      dirty = true
      if !flushScheduled {
        flushScheduled = true
        let delay = publishInterval - (now - last)
        Task { [weak self] in
          try? await Task.sleep(for: delay)
          await self?.flush()
        }
      }
      return
    }
    publish(finished: false)
  }

  private func flush() {
    flushScheduled = false
    if dirty { publish(finished: false) }
  }

  private func publish(finished: Bool) {
    dirty = false
    lastPublish = ContinuousClock.now
    mailbox.put(Self.snapshot(of: state, finished: finished))
  }

  /// What the screen is sent for `state`: its model, serials and learning-rate plan.
  public static func snapshot(of state: RunState, finished: Bool) -> ScreenSnapshot {
    ScreenSnapshot(
      model: state.screenModel(), draftSerial: state.draftSerial,
      panelRequest: state.panelRequest, finished: finished,
      learningRatePreview: state.learningRatePreview)
  }
}
