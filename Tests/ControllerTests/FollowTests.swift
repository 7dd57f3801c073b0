// `cptui follow`'s own logic: LogFollow with an invented clock, FollowSource on real temp files.

import Controller
import Experiment
import Foundation
import RunLog
import Screens
import Terminal
import Testing

struct FollowTests {
  static let header = RunEvent.header(
    RunHeader(runName: "script", startTime: "x", datasets: ["D0", "D1"]))

  @Test func liveWhileLinesArriveThenStalledAfterTheQuietSeconds() {
    var follow = LogFollow(startedAt: 100, stallAfter: 10)
    follow.take(.init(events: [Self.header] + Script.steps(stage: 1, from: 1, to: 5)), at: 100)
    #expect(follow.mode(at: 100) == .live)
    #expect(follow.mode(at: 109.9) == .live)
    #expect(follow.screenModel(at: 105).status.step == 5)
    // Polls that find nothing do not keep the run live.
    follow.take(.init(), at: 105)
    #expect(follow.mode(at: 110) == .stalled)
    #expect(follow.notices(at: 142).first == "no new lines for 42 s")
    #expect(follow.screenModel(at: 142).status.mode == .stalled)
    #expect(follow.screenModel(at: 142).status.etaSeconds == nil)
    // A new line makes it live again, and the stall notice goes.
    follow.take(.init(events: Script.steps(stage: 1, from: 6, to: 6)), at: 150)
    #expect(follow.mode(at: 150) == .live)
    #expect(follow.screenModel(at: 151).status.step == 6)
    #expect(!follow.notices(at: 151).contains { $0.hasPrefix("no new lines") })
  }

  @Test func skippedLinesKeepTheRunLiveAndAreCounted() {
    var follow = LogFollow(startedAt: 0, stallAfter: 2)
    follow.take(.init(events: [Self.header]), at: 0)
    // Only a corrupt line arrived: bytes, no events. The writer is alive.
    let summary = "skipped 1 line (line 2: not JSON)"
    follow.take(.init(newBytes: true, skippedSummary: summary), at: 1.5)
    #expect(follow.mode(at: 3) == .live)
    #expect(follow.notices(at: 3).contains(summary))
    #expect(follow.mode(at: 3.5) == .stalled)
  }

  /// A run that was stopped reads [stopped] on the status line, not [finished].
  @Test func aStoppedRunSaysSo() {
    var follow = LogFollow(startedAt: 0, stallAfter: 10)
    follow.take(
      .init(
        events: [Self.header] + Script.steps(stage: 1, from: 1, to: 3)
          + [.runEnd(RunEndEvent(status: .stopped, step: 3))]), at: 1)
    let status = ScreenRenderer.renderText(model: follow.screenModel(at: 2), width: 100, height: 24)
      .split(separator: "\n")[0]
    #expect(status.contains("[stopped]") && !status.contains("[finished]"), "\(status)")
  }

  @Test func anEmptyFileWaitsThenStalls() {
    let follow = LogFollow(startedAt: 0, stallAfter: 10)
    #expect(follow.mode(at: 9) == .waiting, "nothing arrived: not live")
    #expect(follow.notices(at: 9) == ["waiting for the log's first line"])
    let status = ScreenRenderer.renderText(model: follow.screenModel(at: 9), width: 80, height: 24)
      .split(separator: "\n")[0]
    #expect(!status.contains("stage") && !status.contains("step"), "nothing known yet: \(status)")
    #expect(follow.mode(at: 10) == .stalled)
    #expect(follow.notices(at: 10) == ["no new lines for 10 s"])
    #expect(follow.notices(at: 300) == ["no new lines for 5 min"])
    #expect(follow.notices(at: 7500) == ["no new lines for 2 h 05 min"])
    // Lines that are no run log's (a binary file): not "waiting for the first line".
    var binary = LogFollow(startedAt: 0, stallAfter: 10)
    binary.take(.init(newBytes: true, skippedSummary: "skipped 15 lines (line 1: not JSON)"), at: 1)
    #expect(binary.notices(at: 2).first == "no run-log line yet: is this a cptui run log?")
  }

  @Test func aRunEndFinishesAndNeverStalls() {
    var follow = LogFollow(startedAt: 0, stallAfter: 1)
    follow.take(
      .init(
        events: [Self.header] + Script.steps(stage: 1, from: 1, to: 3) + [
          .runEnd(RunEndEvent(status: .completed, step: 3))
        ]), at: 0)
    #expect(follow.mode(at: 500) == .finished)
    #expect(follow.notices(at: 500) == ["run completed · q quits"])
  }

  @Test func inputEndedWithoutARunEndIsStalledUntilQuit() {
    var follow = LogFollow(startedAt: 0, stallAfter: 10)
    follow.take(.init(events: [Self.header] + Script.steps(stage: 1, from: 1, to: 3)), at: 0)
    follow.take(.init(endOfStream: true), at: 1)
    #expect(follow.inputEnded)
    #expect(follow.mode(at: 1) == .stalled)
    #expect(follow.notices(at: 1).first == "input ended before the run did · q quits")
    // A pipe that ends right after the run end is simply finished.
    var ended = LogFollow(startedAt: 0)
    ended.take(
      .init(events: [Self.header, .runEnd(RunEndEvent(status: .completed))], endOfStream: true),
      at: 0)
    #expect(!ended.inputEnded)
    #expect(ended.mode(at: 0) == .finished)
  }

  @Test func aRestartForgetsTheOldRunAndSaysSo() {
    var follow = LogFollow(startedAt: 0, stallAfter: 10)
    follow.take(.init(events: [Self.header] + Script.steps(stage: 1, from: 1, to: 40)), at: 0)
    #expect(follow.state.step == 40)
    follow.take(
      .init(events: [Self.header] + Script.steps(stage: 1, from: 1, to: 3), restarted: true), at: 5)
    #expect(follow.state.step == 3)
    #expect(follow.state.trainLoss.series(name: "t").xs.count == 3)
    #expect(follow.restarts == 1)
    #expect(follow.notices(at: 6).contains { $0.contains("the log started over") })
    #expect(!follow.notices(at: 20).contains { $0.contains("the log started over") })
  }

  @Test func aSecondHeaderInAStreamIsANewRun() {
    var follow = LogFollow(startedAt: 0)
    let other = RunEvent.header(RunHeader(runName: "other", startTime: "y", datasets: ["E0"]))
    follow.take(.init(events: [Self.header] + Script.steps(stage: 1, from: 1, to: 40)), at: 0)
    follow.take(.init(events: [other] + Script.steps(stage: 1, from: 1, to: 2)), at: 1)
    #expect(follow.restarts == 1)
    #expect(follow.state.runName == "other" && follow.state.datasets == ["E0"])
    #expect(follow.state.step == 2 && follow.events.count == 3)
    #expect(follow.notices(at: 2).contains { $0.contains("the log started over") })
    // A stream joined mid-run (no header) that then sees a header: the new run too.
    var joined = LogFollow(startedAt: 0)
    joined.take(.init(events: Script.steps(stage: 1, from: 30, to: 40)), at: 0)
    joined.take(.init(events: [other] + Script.steps(stage: 1, from: 1, to: 2)), at: 1)
    #expect(joined.restarts == 1 && joined.state.step == 2 && joined.state.runName == "other")
  }

  @Test func aConfiguredHeaderAndAResumeInOnePollFoldAsReplayDoes() {
    let config = Script.config()
    let events =
      [Self.header, Script.stageStart(config, 0)] + Script.steps(stage: 1, from: 1, to: 10)
      + [.resume(ResumeEvent(step: 4))] + Script.steps(stage: 1, from: 5, to: 6)
    var follow = LogFollow(startedAt: 0) { _ in config }
    follow.take(.init(events: events), at: 0)
    var replayed = RunState(config: config, interactive: false)
    for e in RunLogReader.applyingResumes(events) { replayed.apply(e) }
    #expect(follow.state == replayed)
    #expect(follow.state.trainLoss.series(name: "t").xs.count == 6)
  }

  @Test func aResumeDropsTheAbandonedTailAsReplayDoes() {
    let events =
      [Self.header] + Script.steps(stage: 1, from: 1, to: 10)
      + [.resume(ResumeEvent(step: 6))] + Script.steps(stage: 1, from: 7, to: 8)
    var follow = LogFollow(startedAt: 0)
    follow.take(.init(events: Array(events.prefix(8))), at: 0)
    follow.take(.init(events: Array(events.dropFirst(8))), at: 1)
    var replayed = RunState(config: nil, interactive: false)
    for e in RunLogReader.applyingResumes(events) { replayed.apply(e) }
    #expect(follow.state == replayed)
    #expect(follow.state.step == 8)
    #expect(follow.state.trainLoss.series(name: "t").xs.count == 8)
  }

  @Test func eventsGoingBackInTimeAreDroppedWithANotice() {
    var follow = LogFollow(startedAt: 0)
    let eval10 = Script.eval(stage: 1, step: 10, d0: 3, d1: 4)
    follow.take(.init(events: [Self.header] + Script.steps(stage: 1, from: 1, to: 10)), at: 0)
    // A second writer repeats steps 5–10 and an evaluation line appears twice.
    follow.take(
      .init(events: [eval10, eval10] + Script.steps(stage: 1, from: 5, to: 12)), at: 1)
    #expect(follow.state.step == 12)
    #expect(follow.state.trainLoss.series(name: "t").xs.count == 12)
    #expect(follow.state.validation["D0"]?.xs.count == 1)
    #expect(
      follow.notices(at: 1).contains(
        "ignored 7 events out of order or repeated (eval 10, step 5, step 6, …)"))
    // The evaluation again after other lines (a concatenated tail) is a repeat as well.
    follow.take(.init(events: [eval10]), at: 2)
    #expect(follow.state.validation["D0"]?.xs.count == 1)
    #expect(follow.notices(at: 2).contains { $0.hasPrefix("ignored 8 events") })
  }

  @Test func theHeaderConfigPlansTheStages() {
    let config = Script.config()
    var follow = LogFollow(startedAt: 0) { _ in config }
    follow.take(.init(events: [Self.header, Script.stageStart(config, 0)]), at: 0)
    let status = follow.screenModel(at: 0).status
    #expect(status.stageCount == 2)
    #expect(status.totalSteps == 200)
  }

  @Test func qQuitsAtOnceAndTrainingKeysAreIgnored() {
    var follow = LogFollow(startedAt: 0)
    follow.take(.init(events: [Self.header]), at: 0)
    let model = follow.screenModel(at: 0)
    #expect(model.status.mode == .live)
    func quits(_ key: Key, in model: ScreenModel) -> Bool {
      var m = model
      return m.handleKey(key).contains(.quit)
    }
    /// Ignored: no command and nothing on the screen changes.
    func ignores(_ key: Key, in model: ScreenModel) -> Bool {
      var m = model
      return m.handleKey(key).isEmpty && m == model
    }
    #expect(quits(.char("q"), in: model))
    #expect(quits(.interrupted(2), in: model))
    #expect(!quits(.char("s"), in: model))
    for key in ["n", " ", "c", "w", "R"] {
      #expect(ignores(.char(Character(key)), in: model), "\(key)")
    }
    #expect(!ignores(.char("s"), in: model))
    // In the help overlay q closes help, it does not quit.
    var help = model
    help.view.overlay = .help
    #expect(!quits(.char("q"), in: help))
  }

  // MARK: - FollowSource

  static func tempFile() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-follow-\(getpid())-\(UUID().uuidString.prefix(8)).jsonl"
    ).path
  }

  static let headerLine = #"{"type":"header","schemaVersion":1,"runName":"a","datasets":["D0"]}"#
  static func stepLine(_ n: Int) -> String {
    #"{"type":"step","stage":1,"step":\#(n),"tokens":\#(n * 100),"lr":0.001,"loss":2.5}"#
  }

  static func append(_ text: String, to path: String) throws {
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(text.utf8))
    try handle.close()
  }

  @Test func aGrowingFileGivesItsNewLines() throws {
    let path = Self.tempFile()
    defer { unlink(path) }
    try (Self.headerLine + "\n" + Self.stepLine(1) + "\n").write(
      toFile: path, atomically: false, encoding: .utf8)
    let source = try FollowSource(path: path)
    let first = try source.poll()
    #expect(first.events.count == 2 && first.newBytes && !first.restarted)
    #expect(try source.poll() == LogFollow.Poll(newBytes: false))
    // Half a line waits for its newline but counts as arrival.
    try Self.append("this is not json\n" + String(Self.stepLine(2).prefix(10)), to: path)
    let partial = try source.poll()
    #expect(partial.events.isEmpty && partial.newBytes)
    #expect(partial.skippedSummary == "skipped 1 line (line 3: not JSON)")
    try Self.append(String(Self.stepLine(2).dropFirst(10)) + "\n", to: path)
    #expect(try source.poll().events.map(\.step) == [2])
  }

  /// Following a log before the run creates it waits for the file; a file removed while it is
  /// followed keeps what was read, with a notice.
  @Test func aFileNotCreatedYetIsWaitedForAndARemovedOneSaysSo() throws {
    let path = Self.tempFile()
    defer { unlink(path) }
    let source = try FollowSource(path: path)
    var follow = LogFollow(startedAt: 0, stallAfter: 2)
    follow.take(try source.poll(), at: 1)
    #expect(follow.mode(at: 100) == .waiting, "no file yet: waiting, never stalled")
    #expect(follow.notices(at: 100) == ["waiting for the log file to be created"])
    try (Self.headerLine + "\n" + Self.stepLine(1) + "\n").write(
      toFile: path, atomically: false, encoding: .utf8)
    let first = try source.poll()
    #expect(first.events.count == 2 && !first.fileMissing)
    follow.take(first, at: 101)
    #expect(follow.mode(at: 101) == .live)
    unlink(path)
    follow.take(try source.poll(), at: 102)
    #expect(follow.notices(at: 102).contains("the log file was removed: showing what was read"))
    #expect(follow.screenModel(at: 102).status.step == 1)
    // No folder for the file: an error at once.
    #expect(throws: RunLogReadError.self) { try FollowSource(path: "/no/such/folder/run.jsonl") }
  }

  @Test func aTruncatedOrReplacedFileIsReadAgain() throws {
    let path = Self.tempFile()
    defer { unlink(path) }
    let long = ([Self.headerLine] + (1...20).map(Self.stepLine)).joined(separator: "\n") + "\n"
    try long.write(toFile: path, atomically: false, encoding: .utf8)
    let source = try FollowSource(path: path)
    #expect(try source.poll().events.count == 21)
    // Truncated in place (the writer started over).
    let short = Self.headerLine + "\n" + Self.stepLine(1) + "\n"
    try short.write(toFile: path, atomically: false, encoding: .utf8)
    let truncated = try source.poll()
    #expect(truncated.restarted && truncated.events.count == 2)
    #expect(try source.poll().restarted == false)
    // Replaced by another file (rename over it), even a longer one.
    try long.write(toFile: path, atomically: true, encoding: .utf8)
    let replaced = try source.poll()
    #expect(replaced.restarted && replaced.events.count == 21)
    #expect(try source.poll().restarted == false)
    // Truncated a second time: still noticed.
    try short.write(toFile: path, atomically: false, encoding: .utf8)
    #expect(try source.poll().restarted)
  }

  @Test func aPipeEndsWithItsLastLine() throws {
    var fds: [Int32] = [0, 0]
    #expect(pipe(&fds) == 0)
    defer { close(fds[0]) }
    let source = FollowSource(fileDescriptor: fds[0])
    let text = Self.headerLine + "\n" + Self.stepLine(1) + "\n" + Self.stepLine(2)
    _ = text.withCString { write(fds[1], $0, strlen($0)) }
    let first = try source.poll()
    #expect(first.events.count == 2 && !first.endOfStream)
    close(fds[1])
    let last = try source.poll()
    #expect(last.endOfStream && last.events.map(\.step) == [2])
    var follow = LogFollow(startedAt: 0)
    follow.take(first, at: 0)
    follow.take(last, at: 1)
    #expect(follow.inputEnded && follow.mode(at: 1) == .stalled)
  }
}
