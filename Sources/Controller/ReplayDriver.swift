// Drives a `ReplayPlayback` on its own thread: every frame it takes the keys' commands, moves the
// play clock by the wall time that passed, and puts a new snapshot into the mailbox when the
// picture changed. The TUI thread never waits for it (a frame of a million events at the fastest
// speed takes a while), and it never waits for the TUI thread.

import Foundation
import Screens
import Synchronization

/// The thread that plays logged runs back.
public final class ReplayDriver: Sendable {
  /// Where the TUI thread picks up the newest picture (always marked finished: nothing to save).
  public let mailbox: Mailbox<ScreenSnapshot>
  private let commands = Mutex<[Command]>([])
  private let stopped = Mutex(false)
  private let done = Mutex(false)
  private let frame: Duration
  private let playback: Mutex<ReplayPlayback>

  /// Publishes the first picture of `playback` at once.
  public init(playback: ReplayPlayback, frame: Duration = .milliseconds(40)) {
    self.frame = frame
    mailbox = Mailbox(ScreenSnapshot(model: playback.screenModel(), finished: true))
    self.playback = Mutex(playback)
  }

  /// Hands over a command from the screen (speed, pause, seek, step, scrub; others are ignored).
  public func send(_ command: Command) {
    commands.withLock { $0.append(command) }
  }

  /// Starts the playing thread.
  public func start() {
    let thread = Thread { [self] in loop() }
    thread.name = "cptui replay"
    thread.start()
  }

  /// Stops the playing thread and waits until it has left its loop.
  public func stop() {
    stopped.withLock { $0 = true }
    while !done.withLock({ $0 }) { usleep(2_000) }
  }

  private func loop() {
    let clock = ContinuousClock()
    var last = clock.now
    while !stopped.withLock({ $0 }) {
      let now = clock.now
      let elapsed = now - last
      last = now
      let pending = commands.withLock { c -> [Command] in
        defer { c.removeAll() }
        return c
      }
      let seconds = Self.seconds(elapsed)
      let model = playback.withLock { p -> ScreenModel? in
        var changed = false
        for command in pending { changed = Self.apply(command, to: &p) || changed }
        changed = p.advance(wallSeconds: seconds) || changed
        return changed ? p.screenModel() : nil
      }
      if let model { mailbox.put(ScreenSnapshot(model: model, finished: true)) }
      let spent = clock.now - now
      if spent < frame { Thread.sleep(forTimeInterval: Self.seconds(frame - spent)) }
    }
    done.withLock { $0 = true }
  }

  /// Applies a screen command to the playback; returns true (the picture may have changed).
  static func apply(_ command: Command, to p: inout ReplayPlayback) -> Bool {
    switch command {
    case .togglePause: p.togglePause()
    case .replaySpeed(let steps): p.changeSpeed(by: steps)
    case .seekStart: p.seekStart()
    case .seekEnd: p.seekEnd()
    case .step(let n, let run):
      for _ in 0..<abs(n) { p.stepEvaluation(forward: n > 0, of: run) }
    case .scrub(let fraction): p.scrub(by: fraction)
    case .toggleSync(let run): p.setSyncByTokens(!p.syncByTokens, pinned: run)
    case .startNextStage, .checkpoint, .quit, .themeChanged: return false
    }
    return true
  }

  static func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
  }
}
