// Replay playback: the play clock, seeking both ways (restored states equal a fold from the
// start), stepping by evaluations, speeds, and the overlay's screen model.

import Controller
import Experiment
import Foundation
import RunLog
import Screens
import Testing

enum LongRun {
  /// A one-stage run of `steps` steps, 0.1 s apart, an evaluation every 10 steps; `d0` shifts
  /// the D0 curve so that runs differ.
  static func events(steps: Int, name: String = "long", d0: Double = 0) -> [RunEvent] {
    var out: [RunEvent] = [
      .header(RunHeader(runName: name, startTime: "x", datasets: ["D0", "D1"])),
      .stageStart(
        StageStartEvent(
          stage: 1, name: "english", dataset: "D0", steps: steps, tokens: steps * 128,
          startStep: 0, startTokens: 0, schedule: "cosine", warmupFraction: 0.01, lrMax: 1e-3,
          lrMin: 1e-4, time: 0)),
    ]
    for s in 1...steps {
      let t = Double(s) * 0.1
      out.append(
        .step(
          StepEvent(
            stage: 1, step: s, tokens: s * 128, lr: 1e-3, loss: 5 - Double(s) / Double(steps),
            tokensPerSecond: 1280, time: t)))
      if s % 10 == 0 {
        out.append(
          .eval(
            EvalEvent(
              stage: 1, step: s, tokens: s * 128,
              losses: [
                DatasetLoss("D0", d0 + 4 - Double(s) / Double(steps)), DatasetLoss("D1", 4.5),
              ], time: t)))
      }
    }
    out.append(.runEnd(RunEndEvent(status: .completed, step: steps, time: Double(steps) * 0.1)))
    return out
  }

  static func run(steps: Int, name: String = "long", d0: Double = 0, union: Bool = false)
    -> ReplayRun
  {
    ReplayRun(
      path: "/tmp/\(name).jsonl", label: name, config: nil,
      events: events(steps: steps, name: name, d0: d0), isUnion: union)
  }

  static func folded(_ events: [RunEvent], count: Int) -> RunState {
    var state = RunState(config: nil, interactive: false)
    for e in events.prefix(count) { state.apply(e) }
    return state
  }

  static func evaluations(_ state: RunState) -> Int {
    state.summaryEvents.filter { if case .eval = $0 { return true } else { return false } }.count
  }
}

@Suite struct ReplayPlaybackTests {
  @Test func playTimesCountOnlyForwardTimeAndCutLongGaps() {
    let events: [RunEvent] = [
      .step(StepEvent(stage: 1, step: 1, tokens: 1, lr: 0, loss: 1, time: 10)),
      .step(StepEvent(stage: 1, step: 2, tokens: 2, lr: 0, loss: 1, time: 11)),
      // The user took ten minutes to choose the next stage.
      .step(StepEvent(stage: 1, step: 3, tokens: 3, lr: 0, loss: 1, time: 611)),
      // A resumed process starts its clock again.
      .step(StepEvent(stage: 1, step: 4, tokens: 4, lr: 0, loss: 1, time: 2)),
      .step(StepEvent(stage: 1, step: 5, tokens: 5, lr: 0, loss: 1, time: 3)),
      // No time recorded.
      .step(StepEvent(stage: 1, step: 6, tokens: 6, lr: 0, loss: 1)),
    ]
    let t = ReplayRun.playTimes(events)
    #expect(t == [0, 1, 1 + ReplayRun.longestGap, 1 + ReplayRun.longestGap, 2 + 5, 7.1])
  }

  /// By recorded time a run trained twice as slowly lags behind; synced by tokens both stand at
  /// the same tokens, and the replay lasts as long as the run with the most tokens took.
  /// A run of 100 steps at 0.1 s each, and one of 120 steps trained twice as slowly, shown at
  /// play time 5 s by recorded time (steps 50 and 25).
  static func fastAndSlow() -> (runs: [ReplayRun], playback: ReplayPlayback) {
    let fast = LongRun.run(steps: 100, name: "fast")
    var slow = LongRun.run(steps: 120, name: "slow")
    slow.times = slow.times.map { $0 * 2 }
    var playback = ReplayPlayback(runs: [fast, slow])
    playback.seek(to: 5)
    #expect(playback.state(ofRun: 0).step == 50 && playback.state(ofRun: 1).step == 25)
    return ([fast, slow], playback)
  }

  @Test func syncByTokensKeepsRunsSideBySide() {
    let (runs, _) = Self.fastAndSlow()
    var byTokens = ReplayPlayback(runs: ReplayRun.syncedByTokens(runs))
    #expect(abs(byTokens.duration - 24) < 1e-9)
    byTokens.seek(to: 12)
    #expect(byTokens.state(ofRun: 0).step == 60 && byTokens.state(ofRun: 1).step == 60)
    byTokens.seekEnd()
    #expect(byTokens.state(ofRun: 0).step == 100 && byTokens.state(ofRun: 1).step == 120)
  }

  /// `a` switches the timing on the screen and keeps what the first run shows: by time the slow
  /// run lags, by tokens it stands where the first run does, and back again.
  @Test func switchingTheTimingKeepsThePicture() {
    var p = Self.fastAndSlow().playback
    p.setSyncByTokens(true)
    #expect(p.syncByTokens && abs(p.duration - 24) < 1e-9)
    #expect(p.state(ofRun: 0).step == 50 && p.state(ofRun: 1).step == 50)
    #expect(p.screenModel().status.replaySpeed?.hasSuffix("by tokens") == true)
    p.setSyncByTokens(false)
    #expect(!p.syncByTokens && abs(p.duration - 24) < 1e-9)
    #expect(p.state(ofRun: 0).step == 50 && p.state(ofRun: 1).step == 25)
    // The key: `a` in replay only.
    var replay = ScreenModel()
    replay.status.mode = .replay
    #expect(replay.handleKey(.char("a")) == [.toggleSync(run: 0)])
    var live = ScreenModel()
    #expect(live.handleKey(.char("a")).isEmpty)
  }

  @Test func startsEmptyAndEndsOnTheWholeRun() {
    let run = LongRun.run(steps: 300)
    var p = ReplayPlayback(runs: [run])
    #expect(p.eventsShown == 0)
    #expect(p.duration == 30)
    p.seekEnd()
    #expect(p.atEnd)
    #expect(p.state(ofRun: 0) == LongRun.folded(run.events, count: run.events.count))
  }

  @Test func scrubbingBackRestoresExactlyWhatAFoldFromTheStartGives() {
    // 6000 steps: saved states every 2000 events, so going back restores one and folds on.
    let run = LongRun.run(steps: 6000)
    var p = ReplayPlayback(runs: [run])
    p.seekEnd()
    for time in [450.0, 123.4, 599.9, 0.05, 300] {
      p.seek(to: time)
      let count = run.times.lastIndex(where: { $0 <= time }).map { $0 + 1 } ?? 0
      #expect(p.eventsShown == count, "at \(time)")
      #expect(p.state(ofRun: 0) == LongRun.folded(run.events, count: count), "at \(time)")
    }
    p.scrub(by: -0.05)
    #expect(abs(p.clock - 270) < 1e-9)
  }

  @Test func theClockMovesAtTheChosenSpeedAndStopsWhenPaused() {
    var p = ReplayPlayback(runs: [LongRun.run(steps: 300)], speed: 10)
    p.advance(wallSeconds: 0.5)
    #expect(abs(p.clock - 5) < 1e-9)
    #expect(LongRun.evaluations(p.state(ofRun: 0)) == 5)
    p.togglePause()
    let movedWhilePaused = p.advance(wallSeconds: 1)
    #expect(!movedWhilePaused)
    #expect(abs(p.clock - 5) < 1e-9)
    p.togglePause()
    p.changeSpeed(by: 1)
    #expect(p.speed == 100)
    p.advance(wallSeconds: 0.1)
    #expect(abs(p.clock - 15) < 1e-9)
    p.changeSpeed(by: 5)
    #expect(p.speed == nil)
    p.changeSpeed(by: -10)
    #expect(p.speed == 1)
  }

  @Test func theFastestSpeedPlaysABudgetOfEventsPerFrame() {
    let run = LongRun.run(steps: 6000)
    var p = ReplayPlayback(runs: [run], speed: nil)
    p.eventsPerFrameAtMax = 1000
    p.advance(wallSeconds: 0.04)
    #expect(p.eventsShown >= 1000 && p.eventsShown < 1010)
    var frames = 1
    while !p.atEnd && frames < 100 {
      p.advance(wallSeconds: 0.04)
      frames += 1
    }
    #expect(p.atEnd && frames == 7, "\(frames) frames for \(run.events.count) events")
  }

  /// With several runs, `,` and `.` step through the pinned run's evaluations — also when it
  /// ended before the others (the review pressed `,` eight times at the end and the pinned run
  /// never moved) — and `a` keeps what the pinned run shows, not what run 1 shows.
  @Test func stepsAndTimingFollowThePinnedRun() {
    var p = Self.fastAndSlow().playback
    p.seekEnd()  // the fast run (run 1) ended at 10, the slow one runs to 24
    let fastEvals = LongRun.evaluations(p.state(ofRun: 0))
    p.stepEvaluation(forward: false, of: 0)
    #expect(LongRun.evaluations(p.state(ofRun: 0)) == fastEvals - 1)
    p.stepEvaluation(forward: false, of: 0)
    #expect(LongRun.evaluations(p.state(ofRun: 0)) == fastEvals - 2)
    p.stepEvaluation(forward: true, of: 0)
    #expect(LongRun.evaluations(p.state(ofRun: 0)) == fastEvals - 1)
    // Pinned slow run (run 2) at 5 s: aligning by tokens keeps its step, 25.
    var q = Self.fastAndSlow().playback
    q.setSyncByTokens(true, pinned: 1)
    #expect(q.state(ofRun: 1).step == 25)
    // The keys carry the pinned run.
    var screen = ScreenModel()
    screen.status.mode = .replay
    screen.runs = [RunSeries(name: "a"), RunSeries(name: "b")]
    screen.view.pinnedRun = 1
    #expect(screen.handleKey(.char(",")) == [.step(-1, run: 1)])
  }

  /// A replayed run that diverged (or was stopped) says so once its end is shown.
  @Test func aRunThatDidNotCompleteSaysHowItEnded() {
    var events = LongRun.events(steps: 30)
    events[events.count - 1] = .runEnd(RunEndEvent(status: .diverged, step: 30, time: 3))
    var p = ReplayPlayback(runs: [
      ReplayRun(path: "/tmp/d.jsonl", label: "d", config: nil, events: events, isUnion: false)
    ])
    #expect(!p.screenModel().notices.contains { $0.contains("diverged") })
    p.seekEnd()
    #expect(p.screenModel().notices.contains("the run diverged at step 30"))
  }

  @Test func stepsMoveOneEvaluationAndPause() {
    var p = ReplayPlayback(runs: [LongRun.run(steps: 300)])
    p.seek(to: 5.05)
    #expect(LongRun.evaluations(p.state(ofRun: 0)) == 5)
    p.stepEvaluation(forward: true)
    #expect(p.paused)
    #expect(LongRun.evaluations(p.state(ofRun: 0)) == 6)
    let atSix = p.clock
    p.stepEvaluation(forward: true)
    // Back after forward returns to the same evaluation and the same clock: one press, one step.
    p.stepEvaluation(forward: false)
    #expect(LongRun.evaluations(p.state(ofRun: 0)) == 6)
    #expect(p.clock == atSix)
    p.stepEvaluation(forward: false)
    p.stepEvaluation(forward: false)
    #expect(LongRun.evaluations(p.state(ofRun: 0)) == 4)
    p.stepEvaluation(forward: true)
    #expect(LongRun.evaluations(p.state(ofRun: 0)) == 5)
    let movedAfterStep = p.advance(wallSeconds: 1)
    #expect(!movedAfterStep)
    p.seekEnd()
    p.stepEvaluation(forward: true)
    #expect(p.atEnd)
  }

  @Test func spaceAtTheEndPlaysAgainFromTheStart() {
    var p = ReplayPlayback(runs: [LongRun.run(steps: 100)])
    p.seekEnd()
    // One press, as the end-of-replay notice says (it took two: the first paused at the end).
    p.togglePause()
    #expect(!p.paused && p.clock == 0 && p.eventsShown == 2)
    p.togglePause()
    #expect(p.paused && p.clock == 0)
    // Paused at the end: space plays again from the start too.
    p.seekEnd()
    if !p.paused { p.togglePause() }
    #expect(p.atEnd)
    p.togglePause()
    #expect(!p.paused && p.clock == 0)
  }

  @Test func theOverlayNamesEachRunAndShowsItsOwnNumbers() {
    var a = LongRun.run(steps: 300, name: "replay 0%", d0: 1)
    a.unionIndex = 2  // as Comparison pairs them; b has no union baseline of its own
    let b = LongRun.run(steps: 200, name: "replay 25%")
    let u = LongRun.run(steps: 300, name: "union", d0: -0.5, union: true)
    var p = ReplayPlayback(runs: [a, b, u], speed: 100)
    p.seekEnd()
    let model = p.screenModel()
    #expect(model.runs.map(\.name) == ["replay 0%", "replay 25%", "union"])
    #expect(model.status.mode == .replay)
    #expect(model.status.replaySpeed == "100× 0:30/0:30")
    #expect(model.runs[1].status?.runName == "run 2/3: replay 25%")
    #expect(model.runs[1].status?.step == 200)
    // Each run's measures carry the union baseline's average (D0 3.0+(-0.5)…, D1 4.5).
    let unionAverage = u.events.isEmpty ? nil : p.state(ofRun: 2).screenModel().measures.average
    #expect(model.runs[0].measures?.unionBaseline == unionAverage)
    #expect(model.runs[1].measures?.unionBaseline == nil, "another experiment's union is not b's")
    #expect(model.runs[2].measures?.unionBaseline == nil)
    #expect(model.notices.last?.hasPrefix("end of replay") == true)
    var pinned = model
    pinned.view.pinnedRun = 1
    #expect(pinned.shownStatus.step == 200)
    #expect(pinned.shownStatus.mode == .replay)
  }

  @Test func speedsParseAndPrint() {
    #expect(ReplaySpeed.parse("10") == .some(10))
    #expect(ReplaySpeed.parse("100x") == .some(100))
    #expect(ReplaySpeed.parse("max") == .some(nil))
    #expect(ReplaySpeed.parse("fast") == nil)
    #expect(ReplaySpeed.parse("-1") == nil)
    #expect(ReplaySpeed.text(1000) == "1000×")
    #expect(ReplaySpeed.text(nil) == "max")
    #expect(ReplaySpeed.text(0.0001) == "0.0001×" && ReplaySpeed.text(0.5) == "0.5×")
  }
}
