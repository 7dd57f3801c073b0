// Replay of logged runs as they happened: a play clock in seconds of recorded training time, one
// `RunState` per run folded up to the clock, checkpoints of those states so that scrubbing back
// is a restore plus a short fold, and the overlay of every run into one screen model. Pure and
// single-threaded; `ReplayDriver` moves the clock with the wall clock and the user's keys.

import Experiment
import Foundation
import RunLog
import Screens

/// One logged run, ready to be replayed.
public struct ReplayRun: Sendable {
  /// The log file it came from.
  public var path: String
  /// What the legend calls it: the run's name, or what sets it apart from the others.
  public var label: String
  public var config: ExperimentConfig?
  /// The run's events (superseded attempts of resumed runs already dropped).
  public var events: [RunEvent]
  /// Play time of each event in seconds, nondecreasing (see `playTimes`).
  public var times: [Double]
  /// "skipped 3 lines (line 6: …)" when the log had lines that could not be read.
  public var skippedSummary: String?
  /// A union baseline (its average is shown next to the pinned run's).
  public var isUnion: Bool
  /// The run (index) that is this run's union baseline, as `Comparison` pairs them (same
  /// datasets, same seed when there is one); nil when it has none.
  public var unionIndex: Int? = nil

  /// Re-times runs so that they advance together in training tokens instead of recorded time
  /// (runs made at other speeds, thread counts or machines stay side by side on the x axis): an
  /// event's play time is the tokens trained by then at one shared rate, the one at which the
  /// run with the most tokens plays as long as it does by its own times (60 s when no run has
  /// times). Waits between stages take no time.
  public static func syncedByTokens(_ runs: [ReplayRun]) -> [ReplayRun] {
    let totals = runs.map { run in run.events.compactMap(\.tokens).max() ?? 0 }
    guard let longest = totals.indices.max(by: { totals[$0] < totals[$1] }), totals[longest] > 0
    else { return runs }
    let duration = runs[longest].times.last ?? 0
    let secondsPerToken = (duration > 0 ? duration : 60) / Double(totals[longest])
    return runs.map { run in
      var out = run
      var tokens = 0
      out.times = run.events.map { event in
        tokens = max(tokens, event.tokens ?? 0)
        return Double(tokens) * secondsPerToken
      }
      return out
    }
  }

  public init(
    path: String, label: String, config: ExperimentConfig?, events: [RunEvent],
    skippedSummary: String? = nil, isUnion: Bool = false
  ) {
    self.path = path
    self.label = label
    self.config = config
    self.events = events
    self.times = Self.playTimes(events)
    self.skippedSummary = skippedSummary
    self.isUnion = isUnion
  }

  /// Longest pause kept in play time (s): a run that waited 20 minutes for the user's next stage
  /// replays the wait in this long.
  public static let longestGap = 5.0
  /// Play time of a step event in a log without times (s).
  public static let stepWithoutTime = 0.1

  /// Play times from the events' recorded `time`: only forward differences count (a resumed
  /// process starts its clock again), gaps are cut to `longestGap`, and events without a time
  /// take `stepWithoutTime` per step.
  public static func playTimes(_ events: [RunEvent]) -> [Double] {
    var out: [Double] = []
    out.reserveCapacity(events.count)
    var clock = 0.0
    var lastRaw: Double?
    for event in events {
      if let t = event.time, t.isFinite {
        if let last = lastRaw, t > last { clock += min(t - last, longestGap) }
        lastRaw = t
      } else if case .step = event {
        clock += stepWithoutTime
      }
      out.append(clock)
    }
    return out
  }
}

/// The speeds `<` and `>` step through; nil is "as fast as possible".
public enum ReplaySpeed {
  public static let ladder: [Double?] = [1, 10, 100, 1000, nil]

  /// "10×", or "max".
  public static func text(_ speed: Double?) -> String {
    guard let speed else { return "max" }
    // Below 0.01× two decimals would read "0×": the significant digits instead.
    return (speed < 0.01 ? String(format: "%.2g", speed) : Format.trimmed(speed)) + "×"
  }

  /// Parses "10", "10x", "10×" or "max".
  public static func parse(_ text: String) -> Double?? {
    var t = text.lowercased()
    if t == "max" || t == "fastest" { return .some(nil) }
    if t.hasSuffix("x") || t.hasSuffix("×") { t.removeLast() }
    guard let v = Double(t), v > 0, v.isFinite else { return nil }
    return .some(v)
  }
}

/// Several runs replayed together on one clock.
public struct ReplayPlayback: Sendable {
  public private(set) var runs: [ReplayRun]
  /// The runs' play times by recorded time (kept to switch back from tokens).
  private let timesByRecordedTime: [[Double]]
  /// Whether the runs move together by training tokens (`ReplayRun.syncedByTokens`).
  public private(set) var syncByTokens = false
  /// The screen table of the runs' final numbers (what `cptui compare` prints).
  public var comparison: ComparisonTable?
  /// The play clock (s), 0…`duration`.
  public private(set) var clock = 0.0
  /// The longest run's play time (s).
  public private(set) var duration: Double
  /// nil: as fast as possible (`eventsPerFrameAtMax` events per `advance`).
  public private(set) var speed: Double?
  public private(set) var paused = false
  public var eventsPerFrameAtMax = 100_000

  private var states: [RunState]
  /// Events folded so far, per run.
  private var positions: [Int]
  /// Saved states per run: (events folded, state), ascending.
  private var saved: [[(position: Int, state: RunState)]]
  private let saveEvery: [Int]

  /// Runs start at play time 0, before their first event.
  public init(runs: [ReplayRun], speed: Double? = 10, comparison: ComparisonTable? = nil) {
    self.runs = runs
    timesByRecordedTime = runs.map(\.times)
    self.comparison = comparison
    self.speed = speed
    duration = runs.map { $0.times.last ?? 0 }.max() ?? 0
    let fresh = runs.map { RunState(config: $0.config, interactive: false) }
    states = fresh
    positions = Array(repeating: 0, count: runs.count)
    saved = fresh.map { [(0, $0)] }
    // About 32 saved states per run: scrubbing back folds at most 1/32 of a run.
    saveEvery = runs.map { max(2_000, $0.events.count / 32) }
  }

  // MARK: - Where it is

  /// Whether every run has been played to its end.
  public var atEnd: Bool {
    zip(positions, runs).allSatisfy { $0 == $1.events.count }
  }

  /// Events folded so far, over all runs.
  public var eventsShown: Int { positions.reduce(0, +) }

  /// The folded state of run `index`.
  public func state(ofRun index: Int) -> RunState { states[index] }

  // MARK: - Moving

  /// Moves the clock by `seconds` of wall time at the current speed (nothing while paused); at
  /// the fastest speed, plays the next `eventsPerFrameAtMax` events instead. Returns whether
  /// anything new is shown.
  @discardableResult
  public mutating func advance(wallSeconds seconds: Double) -> Bool {
    guard !paused, !atEnd else { return false }
    guard let speed else {
      // The clock jumps to where the busiest run has played `eventsPerFrameAtMax` more events.
      var target = clock
      for r in runs.indices where positions[r] < runs[r].events.count {
        let ahead = min(positions[r] + eventsPerFrameAtMax, runs[r].events.count) - 1
        target = max(target, runs[r].times[ahead])
      }
      return seek(to: target)
    }
    return seek(to: clock + seconds * speed)
  }

  /// Puts the clock at `time` (clamped to 0…duration), folding forward or restoring a saved
  /// state and folding from there. Returns whether what is shown changed.
  @discardableResult
  public mutating func seek(to time: Double) -> Bool {
    let target = min(max(time, 0), duration)
    let before = positions
    for r in runs.indices {
      let wanted = eventCount(ofRun: r, upTo: target)
      if wanted < positions[r] { restore(run: r, atMost: wanted) }
      foldRun(r, to: wanted)
    }
    clock = target
    return positions != before
  }

  /// Jumps to the start (nothing shown) or the end (the finished picture).
  public mutating func seekStart() { seek(to: 0) }
  public mutating func seekEnd() { seek(to: duration) }

  /// Moves by a share of the whole replay (scrubbing: −0.05 is 5 % back).
  public mutating func scrub(by fraction: Double) {
    seek(to: clock + fraction * max(duration, 0))
  }

  /// Moves to the next (or previous) evaluation and pauses there: of run `run` (the pinned one),
  /// else of any run — also when that run has none left that way (it ended before the others).
  /// Forward shows the next evaluation; back takes the latest one shown away, so the clock lands
  /// on the one before it (both directions stop on an evaluation's time, so the clock reads the
  /// same either way).
  public mutating func stepEvaluation(forward: Bool, of run: Int? = nil) {
    paused = true
    if let r = run, runs.indices.contains(r), runs.count > 1 {
      let times = runs[r].events.indices.compactMap { i -> Double? in
        if case .eval = runs[r].events[i] { return runs[r].times[i] } else { return nil }
      }
      let shown = times.filter { $0 <= clock }
      if forward, let next = times.first(where: { $0 > clock }) {
        seek(to: max(next, 0))
        return
      }
      if !forward, let latest = shown.last {
        // The pinned run's latest shown evaluation goes: the one before it, or just before it.
        seek(to: max(shown.dropLast().last ?? latest.nextDown, 0))
        return
      }
    }
    func evalTimes(_ r: Int, _ range: Range<Int>) -> [Double] {
      range.compactMap { i in
        if case .eval = runs[r].events[i] { return runs[r].times[i] } else { return nil }
      }
    }
    if forward {
      let next = runs.indices.compactMap {
        evalTimes($0, positions[$0]..<runs[$0].events.count).first
      }
      .min()
      if let next { seek(to: max(next, 0)) } else { seekEnd() }
      return
    }
    let shown = runs.indices.map { evalTimes($0, 0..<positions[$0]) }
    guard let latest = shown.compactMap(\.last).max() else { return seekStart() }
    let previous = shown.compactMap { $0.last(where: { $0 < latest }) }.max()
    // Nothing before the first evaluation: go to just before it.
    seek(to: max(previous ?? latest.nextDown, 0))
  }

  /// Stops the clock where it is.
  public mutating func pause() { paused = true }

  /// Pause / play; at the end (paused or not) it plays again from the start, as the end-of-replay
  /// notice says.
  public mutating func togglePause() {
    if atEnd {
      paused = false
      seekStart()
    } else {
      paused.toggle()
    }
  }

  /// Moves `steps` rungs along the speed ladder.
  public mutating func changeSpeed(by steps: Int) {
    let ladder = ReplaySpeed.ladder
    let current =
      ladder.firstIndex(where: { $0 == speed })
      ?? ladder.firstIndex(where: { ($0 ?? .infinity) >= (speed ?? .infinity) }) ?? 1
    speed = ladder[min(max(current + steps, 0), ladder.count - 1)]
  }

  /// Plays by training tokens (all runs together) or by recorded time. What is shown stays: the
  /// clock moves to where the pinned run's last shown event is in the new timing.
  public mutating func setSyncByTokens(_ byTokens: Bool, pinned: Int = 0) {
    guard byTokens != syncByTokens else { return }
    syncByTokens = byTokens
    var retimed = runs
    for r in retimed.indices { retimed[r].times = timesByRecordedTime[r] }
    if byTokens { retimed = ReplayRun.syncedByTokens(retimed) }
    runs = retimed
    duration = runs.map { $0.times.last ?? 0 }.max() ?? 0
    let r = runs.indices.contains(pinned) ? pinned : 0
    guard runs.indices.contains(r) else { return }
    let shown = positions[r]
    let target = shown == 0 ? 0 : runs[r].times[shown - 1]
    seek(to: target)
  }

  // MARK: - Folding

  /// How many of run `r`'s events happened at or before `time`.
  private func eventCount(ofRun r: Int, upTo time: Double) -> Int {
    let times = runs[r].times
    var lo = 0
    var hi = times.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if times[mid] <= time { lo = mid + 1 } else { hi = mid }
    }
    return lo
  }

  private mutating func foldRun(_ r: Int, to end: Int) {
    let events = runs[r].events
    var p = positions[r]
    while p < end {
      states[r].apply(events[p])
      p += 1
      if p % saveEvery[r] == 0, let last = saved[r].last, last.position < p {
        saved[r].append((p, states[r]))
      }
    }
    positions[r] = p
  }

  private mutating func restore(run r: Int, atMost position: Int) {
    let k = saved[r].lastIndex(where: { $0.position <= position }) ?? 0
    states[r] = saved[r][k].state
    positions[r] = saved[r][k].position
  }

  // MARK: - The screen

  /// The overlay of every run: one `RunSeries` per run named by its label, each carrying its own
  /// status and measures (the screen shows the pinned run's); status and measures of the model
  /// are the first run's.
  public func screenModel() -> ScreenModel {
    var models = states.map { $0.screenModel() }
    let averages = models.map(\.measures.average)
    var out = ScreenModel()
    for (r, var model) in models.enumerated() {
      model.status.mode = .replay
      // Each run next to its own union baseline (the one compare measures Δunion against).
      model.measures.unionBaseline =
        runs[r].isUnion
        ? nil : runs[r].unionIndex.flatMap { averages.indices.contains($0) ? averages[$0] : nil }
      var series = model.runs.first ?? RunSeries(name: runs[r].label)
      series.name = runs.count > 1 ? runs[r].label : model.status.runName
      model.status.etaSeconds = nil
      if runs.count > 1 { model.status.runName = "run \(r + 1)/\(runs.count): " + runs[r].label }
      series.status = model.status
      series.measures = model.measures
      models[r] = model
      out.runs.append(series)
    }
    let first = models.first ?? ScreenModel()
    out.status = first.status
    out.status.mode = .replay
    out.status.replaySpeed =
      (paused ? "paused \(ReplaySpeed.text(speed))" : ReplaySpeed.text(speed)) + " "
      + Format.duration(clock) + "/"
      + Format.duration(duration) + (syncByTokens ? " by tokens" : "")
    out.measures = first.measures
    out.comparison = comparison
    out.notices = notices
    return out
  }

  /// Skipped lines per log, and what the keys do once the end is reached.
  var notices: [String] {
    var out: [String] = []
    // Each log by its file name, or by its path when another log has the same name.
    let fileNames = runs.map { URL(fileURLWithPath: $0.path).lastPathComponent }
    for (index, run) in runs.enumerated() {
      guard let skipped = run.skippedSummary else { continue }
      let name =
        fileNames.filter { $0 == fileNames[index] }.count > 1 ? run.path : fileNames[index]
      out.append(runs.count > 1 ? name + ": " + skipped : skipped)
    }
    // A run that did not complete says how it ended once its end is shown.
    for (r, state) in states.enumerated() {
      guard let end = state.ended, end.status != .completed else { continue }
      let who = runs.count > 1 ? "run \(r + 1)" : "the run"
      let how = end.status == .stopped ? "was stopped" : end.status.rawValue
      out.append("\(who) \(how)" + (end.step.map { " at step \($0)" } ?? ""))
    }
    if atEnd && states.contains(where: { $0.ended == nil }) {
      // A log without its end: still being written, or its run was killed.
      out.append(
        "end of the log so far (no run end: still running, or killed; `cptui follow` shows a "
          + "run live) · Home or space plays again · q quits")
    } else if atEnd {
      out.append("end of replay · Home or space plays again · q quits")
    } else if paused {
      out.append("paused · space plays · , . step one evaluation")
    }
    return out
  }
}
