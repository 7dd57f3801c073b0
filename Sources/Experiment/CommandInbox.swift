import Foundation

/// What the user (or a script) asks the trainer to do. Applied between steps.
public enum TrainerCommand: Sendable, Equatable {
  case pause
  case resume
  /// End the running stage now (it ends as `endedEarly`, with its evaluation and checkpoint).
  case endStage
  /// Start this stage next: replaces the next planned stage, or adds one after the last.
  case startStage(StageConfig)
  /// Write a checkpoint at the next step boundary.
  case checkpoint
  /// Save and stop (the run ends as `stopped`).
  case stop
}

/// A thread-safe queue of commands from the controller to the trainer thread. The trainer polls it
/// between steps and can block on it while paused or waiting for the next stage.
public final class CommandInbox: @unchecked Sendable {
  private let condition = NSCondition()
  private var queue: [TrainerCommand] = []

  public init() {}

  public func send(_ command: TrainerCommand) {
    condition.lock()
    queue.append(command)
    condition.signal()
    condition.unlock()
  }

  /// Every queued command, oldest first, without waiting.
  public func drain() -> [TrainerCommand] {
    condition.lock()
    defer { condition.unlock() }
    let out = queue
    queue.removeAll()
    return out
  }

  /// Waits until at least one command is queued, then returns all of them.
  public func waitAndDrain() -> [TrainerCommand] {
    condition.lock()
    defer { condition.unlock() }
    while queue.isEmpty { condition.wait() }
    let out = queue
    queue.removeAll()
    return out
  }
}
