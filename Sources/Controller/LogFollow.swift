// `cptui follow`: a log that another process is still writing, drawn live. `FollowSource` reads the
// file or pipe (and notices a file that was truncated or replaced); `LogFollow` folds what it read
// and says, given the clock, whether the run looks live, stalled or finished; `FollowScreen` polls
// on a background thread and runs the screen. Following never owns the run: q quits at once.

import Experiment
import Foundation
import RunLog
import Screens
import Synchronization
import Terminal

/// What `cptui follow` knows about the log it follows, and what the screen should say about it.
/// Pure apart from the times it is given, so tests can drive it with an invented clock.
public struct LogFollow: Sendable {
  /// What one poll of the source found.
  public struct Poll: Sendable, Equatable {
    public var events: [RunEvent]
    /// Bytes arrived since the last poll (lines that were skipped count too: the writer is alive).
    public var newBytes: Bool
    /// The file was truncated or replaced: `events` are from the start of the new file.
    public var restarted: Bool
    /// A pipe was closed by its writer: nothing more will come.
    public var endOfStream: Bool
    /// The decoder's summary of skipped lines (`RunLogDecoder.skippedSummary`).
    public var skippedSummary: String?
    /// The decoder's warnings (no header, newer schema).
    public var warnings: [String]
    /// The followed file does not exist (not created yet, or removed since).
    public var fileMissing: Bool

    public init(
      events: [RunEvent] = [], newBytes: Bool? = nil, restarted: Bool = false,
      endOfStream: Bool = false, skippedSummary: String? = nil, warnings: [String] = [],
      fileMissing: Bool = false
    ) {
      self.fileMissing = fileMissing
      self.events = events
      self.newBytes = newBytes ?? !events.isEmpty
      self.restarted = restarted
      self.endOfStream = endOfStream
      self.skippedSummary = skippedSummary
      self.warnings = warnings
    }
  }

  /// Seconds without a new line (and no run end) before the run is shown as stalled.
  public var stallAfter: Double
  /// How long the "log restarted" notice stays.
  public var restartNoticeSeconds = 10.0
  /// The run folded from the events read so far (resumed attempts dropped, as in replay).
  public private(set) var state: RunState
  /// Every event read since the start (or the last restart), in file order.
  public private(set) var events: [RunEvent] = []
  /// When bytes last arrived (or following started).
  public private(set) var lastArrival: Double
  /// The pipe was closed before a run end arrived.
  public private(set) var inputEnded = false
  /// How many times the log started over (file truncated or replaced, or a new header).
  public private(set) var restarts = 0
  /// A read error that stopped the follower, for the notice line.
  public var readError: String?
  private var lastRestart: Double?
  private var skippedSummary: String?
  private var warnings: [String] = []
  private var fileMissing = false
  private var config: ExperimentConfig?
  private var sawHeader = false
  private var order = EventOrder()
  private let configFromHeader: @Sendable (RunHeader) -> ExperimentConfig?

  /// Starts following at time `now`. `config` turns a header into the run's config (its planned
  /// stages and tokens per step); without it the fold learns what it can from the events.
  public init(
    startedAt now: Double, stallAfter: Double = 10,
    config: @escaping @Sendable (RunHeader) -> ExperimentConfig? = { _ in nil }
  ) {
    self.stallAfter = stallAfter
    lastArrival = now
    configFromHeader = config
    state = RunState(config: nil, interactive: false)
  }

  /// Folds what a poll found at time `now`.
  public mutating func take(_ poll: Poll, at now: Double) {
    if poll.restarted { startOver(at: now) }
    if poll.newBytes || poll.restarted || !poll.events.isEmpty { lastArrival = now }
    var refold = false
    for event in poll.events {
      switch event {
      case .header(let header):
        // A header after other events: a new run writes to the same file or stream (the only
        // sign of a restart a pipe can give, e.g. `tail -F` after the file was replaced).
        if sawHeader || !events.isEmpty {
          startOver(at: now)
          refold = false
        }
        sawHeader = true
        config = configFromHeader(header)
        if config != nil { refold = true }
      case .resume:
        // The live fold cannot take back the abandoned attempt's points: fold again from the
        // start with the superseded events dropped (resumes are rare).
        refold = true
      default: break
      }
      events.append(event)
      if !refold && order.admit(event) { state.apply(event) }
    }
    if refold {
      state = RunState(config: config, interactive: false)
      order = EventOrder()
      for event in RunLogReader.applyingResumes(events) where order.admit(event) {
        state.apply(event)
      }
    }
    if poll.endOfStream && state.ended == nil { inputEnded = true }
    skippedSummary = poll.skippedSummary
    warnings = poll.warnings
    fileMissing = poll.fileMissing
  }

  private mutating func startOver(at now: Double) {
    events = []
    config = nil
    sawHeader = false
    inputEnded = false
    state = RunState(config: nil, interactive: false)
    order = EventOrder()
    restarts += 1
    lastRestart = now
  }

  /// Waiting until the first line arrives, live while lines keep arriving, stalled after
  /// `stallAfter` quiet seconds or when the input ended early, finished once the run end arrived.
  public func mode(at now: Double) -> RunMode {
    if state.ended != nil { return .finished }
    if inputEnded || readError != nil { return .stalled }
    // A file not created yet: waiting for it, however long that takes.
    if fileMissing && events.isEmpty { return .waiting }
    if now - lastArrival >= stallAfter { return .stalled }
    // Nothing has arrived yet: waiting for the log's first line, not a live run.
    return events.isEmpty ? .waiting : .live
  }

  /// The notice line: why the run looks stalled, the fold's own notices (run end, errors), a
  /// restart, skipped lines and decoder warnings.
  public func notices(at now: Double) -> [String] {
    var out: [String] = []
    if let readError {
      out.append("read error: \(readError) · q quits")
    } else if state.ended == nil {
      if inputEnded {
        out.append("input ended before the run did · q quits")
      } else if fileMissing && events.isEmpty {
        out.append("waiting for the log file to be created")
      } else if mode(at: now) == .stalled {
        out.append("no new lines for " + Self.duration(now - lastArrival))
      } else if events.isEmpty {
        // Lines came but none was a run log's: say so rather than wait for a "first" line.
        out.append(
          skippedSummary == nil
            ? "waiting for the log's first line"
            : "no run-log line yet: is this a cptui run log?")
      }
    }
    if fileMissing && !events.isEmpty {
      out.append("the log file was removed: showing what was read")
    }
    out += state.notices
    if let lastRestart, now - lastRestart < restartNoticeSeconds {
      out.append("the log started over: showing the new run")
    }
    if let dropped = order.notice { out.append(dropped) }
    if let skippedSummary { out.append(skippedSummary) }
    out += warnings
    return out
  }

  /// What to draw at time `now`.
  public func screenModel(at now: Double) -> ScreenModel {
    var model = state.screenModel()
    model.status.mode = mode(at: now)
    model.status.followed = true
    if model.status.mode != .live { model.status.etaSeconds = nil }
    model.notices = notices(at: now)
    return model
  }

  /// "42 s", "5 min", "2 h 05 min".
  static func duration(_ seconds: Double) -> String {
    let s = max(0, Int(seconds))
    if s < 120 { return "\(s) s" }
    if s < 7200 { return "\(s / 60) min" }
    let minutes = s % 3600 / 60
    return "\(s / 3600) h \(minutes < 10 ? "0" : "")\(minutes) min"
  }
}

/// The log `cptui follow` reads: a file that may grow, be truncated or be replaced (both read from
/// the start again), or an open pipe. Use it from one thread at a time.
public final class FollowSource: @unchecked Sendable {
  /// The path, or the name given to a descriptor ("-").
  public let name: String
  private let path: String?
  /// nil while the file does not exist yet.
  private var follower: RunLogFollower?
  private var identity: (device: UInt64, inode: UInt64)?
  private var lastBytes = 0

  /// Follows a file from its start; one that does not exist yet is waited for, when its folder
  /// exists (follow started before the run). Throws a one-line error when it cannot be opened.
  public init(path: String) throws(RunLogReadError) {
    name = path
    self.path = path
    if Self.identity(of: path) == nil {
      let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
      var isFolder: ObjCBool = false
      guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder),
        isFolder.boolValue
      else {
        throw RunLogReadError(path: path, message: "no such file, and no folder \(folder) for it")
      }
      return
    }
    follower = try RunLogFollower(path: path)
    identity = Self.identity(of: path).map { ($0.device, $0.inode) }
  }

  /// Follows an open descriptor (a pipe, e.g. standard input); it is not closed here.
  public init(fileDescriptor: Int32, name: String = "-") {
    self.name = name
    path = nil
    follower = RunLogFollower(fileDescriptor: fileDescriptor, name: name)
  }

  /// Reads what has arrived since the last poll; never blocks.
  public func poll() throws(RunLogReadError) -> LogFollow.Poll {
    var restarted = false
    let exists = path.map { Self.identity(of: $0) != nil } ?? true
    if follower == nil, let path {
      // Waiting for the file: open it once it is there.
      guard exists, let opened = try? RunLogFollower(path: path) else {
        return LogFollow.Poll(fileMissing: true)
      }
      follower = opened
      identity = Self.identity(of: path).map { ($0.device, $0.inode) }
    }
    guard var follower else { return LogFollow.Poll(fileMissing: true) }
    defer { self.follower = follower }
    if let path, let now = Self.identity(of: path) {
      let replaced = identity.map { $0 != (now.device, now.inode) } ?? true
      if replaced || now.size < follower.decoder.byteCount,
        let fresh = try? RunLogFollower(path: path)
      {
        follower = fresh
        identity = (now.device, now.inode)
        restarted = true
      }
    }
    var events = try follower.poll()
    if follower.restarted, let path {
      // Truncated between the check above and the read: the follower started over by itself.
      // Take a fresh one so that its `restarted` flag can tell the next restart.
      restarted = true
      if let fresh = try? RunLogFollower(path: path) {
        follower = fresh
        identity = Self.identity(of: path).map { ($0.device, $0.inode) }
        events = try follower.poll()
      }
    }
    let bytes = follower.decoder.byteCount
    defer { lastBytes = bytes }
    return LogFollow.Poll(
      events: events, newBytes: restarted || bytes != lastBytes, restarted: restarted,
      endOfStream: follower.endOfStream, skippedSummary: follower.decoder.skippedSummary,
      warnings: follower.decoder.warnings, fileMissing: !exists)
  }

  private static func identity(of path: String) -> (device: UInt64, inode: UInt64, size: Int)? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return (UInt64(info.st_dev), UInt64(info.st_ino), Int(info.st_size))
  }
}

/// The follow screen: a background thread polls the source and publishes snapshots; the calling
/// thread runs the screen until q. Training keys (pause, checkpoint, next stage, settings) do
/// nothing here, and quitting never asks: following does not own the run.
public enum FollowScreen {
  /// Seconds on a monotonic clock.
  public static func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
  }

  /// Polls `source` every `pollMilliseconds` on a background thread and shows the run until the
  /// user quits (or a signal asks to). The terminal is restored however this returns.
  @discardableResult
  public static func run(
    source: FollowSource, follow initial: LogFollow, themes: ThemeLoader, theme initialTheme: Theme,
    pollMilliseconds: Int = 150, frameMilliseconds: Int32 = 50
  ) throws -> ScreenLoop.Outcome {
    let mailbox = Mailbox(ScreenSnapshot(model: initial.screenModel(at: now()), finished: true))
    let stop = StopFlag()
    let poller = Thread {
      var follow = initial
      var last = mailbox.take().value.model
      var failed = false
      var ended = false
      while !stop.isSet {
        let time = now()
        // The model is rebuilt when something arrived or the notice line changed (the seconds of
        // a stall), not at every poll: a long run's series are not cheap to copy.
        var changed = false
        if !failed {
          do {
            let poll = try source.poll()
            changed = poll.newBytes || poll.restarted || poll.endOfStream != ended
            ended = poll.endOfStream
            follow.take(poll, at: time)
          } catch {
            follow.readError = "\(error)"
            failed = true
            changed = true
          }
        }
        if changed || follow.notices(at: time) != last.notices
          || follow.mode(at: time) != last.status.mode
        {
          let model = follow.screenModel(at: time)
          if model != last {
            mailbox.put(ScreenSnapshot(model: model, finished: true))
            last = model
          }
        }
        usleep(useconds_t(pollMilliseconds * 1000))
      }
    }
    poller.start()
    defer { stop.set() }

    // The live screen's own loop: the snapshots are marked finished (there is nothing to save),
    // and with no trainer q leaves at once and training keys do nothing (`handleKey`).
    return try ScreenLoop.run(
      mailbox: mailbox, themes: themes, theme: initialTheme, frameMilliseconds: frameMilliseconds
    ) { _ in }
  }
}

/// A flag one thread sets and another reads.
private final class StopFlag: Sendable {
  private let flag = Atomic<Bool>(false)
  var isSet: Bool { flag.load(ordering: .acquiring) }
  func set() { flag.store(true, ordering: .releasing) }
}
