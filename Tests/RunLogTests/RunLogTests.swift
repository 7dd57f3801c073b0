import Foundation
import Testing

@testable import RunLog

/// A fresh temporary file path (the file does not exist yet).
func temporaryPath(_ name: String = "run.jsonl") -> String {
  let folder = FileManager.default.temporaryDirectory
    .appendingPathComponent("cptui-runlog-tests-\(UUID().uuidString)")
  try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  return folder.appendingPathComponent(name).path
}

let sampleEvents: [RunEvent] = [
  .header(
    RunHeader(
      runName: "strong-shift", startTime: "2026-11-26T16:45:42Z", seed: 3,
      cptuiVersion: "0.1.0", producer: "cptui 0.1.0", command: ["cptui", "run", "x.yaml"],
      machine: MachineFacts(blasKernel: "SkylakeX", threads: 2, cores: 2), datasets: ["D0", "D1"],
      config: ["seed": 3, "model": ["layers": 4, "width": 128], "name": "strong \"shift\"\n"])),
  .stageStart(
    StageStartEvent(
      stage: 1, name: "english", dataset: "D0", steps: 100, tokens: 204_800, startStep: 0,
      startTokens: 0, schedule: "cosine", warmupFraction: 0.01, lrMax: 4e-3, lrMin: 4e-4)),
  .step(
    StepEvent(
      stage: 1, step: 1, stageStep: 1, tokens: 2048, lr: 0.0, loss: 5.545177444479562,
      gradNorm: 1.25, tokensPerSecond: 11_800.5, time: 0.25)),
  .step(StepEvent(stage: 1, step: 2, tokens: 4096, lr: 4e-3, loss: .nan, gradNorm: .infinity)),
  .eval(
    EvalEvent(
      stage: 1, step: 2, tokens: 4096,
      losses: [DatasetLoss("D1", 3.25), DatasetLoss("D0", -.infinity)],
      time: 1)),
  .error(ErrorEvent(kind: .nanLoss, message: "loss is NaN", stage: 1, step: 2, value: .nan)),
  .checkpoint(
    CheckpointEvent(path: "run.ckpt/step-2.safetensors", step: 2, stage: 1, tokens: 4096)),
  .note(NoteEvent(text: "tab\there, bell \u{7}, ünïcode ✓", step: 2)),
  .stageEnd(StageEndEvent(stage: 1, step: 2, tokens: 4096, reason: .diverged)),
  .stageStart(
    StageStartEvent(
      stage: 2, dataset: "D1", steps: 50, tokens: 102_400, startStep: 2, startTokens: 4096,
      schedule: "infinite",
      scheduleParameters: ["cooldown": "inverse-sqrt", "alpha": 10.0, "anneal": true],
      warmupFraction: 0, lrMax: 4e-3, lrMin: 4e-4, replayPercent: 25, replayFrom: ["D0"],
      optimizerState: .keep)),
  .resume(ResumeEvent(step: 2, tokens: 4096, checkpoint: "run.ckpt/step-2.safetensors")),
  .runEnd(RunEndEvent(status: .completed, step: 2, tokens: 4096, message: "done")),
]

/// Equality that treats NaN as equal to NaN (events hold NaN losses on purpose).
func sameEvents(_ a: [RunEvent], _ b: [RunEvent]) -> Bool {
  a.map(\.jsonLine) == b.map(\.jsonLine)
}

@Suite struct RunLogRoundTrip {
  @Test func everyEventTypeSurvivesWriteAndRead() throws {
    let path = temporaryPath()
    let writer = try RunLogWriter(path: path)
    try writer.write(sampleEvents)
    try writer.close()
    let contents = try RunLogReader.read(path: path)
    #expect(contents.events.count == sampleEvents.count)
    #expect(sameEvents(contents.events, sampleEvents))
    #expect(contents.skippedCount == 0)
    #expect(contents.skippedSummary == nil)
    #expect(contents.header?.runName == "strong-shift")
    #expect(contents.header?.config?["name"]?.stringValue == "strong \"shift\"\n")
    #expect(Set(sampleEvents.map(\.typeName)) == Set(RunEvent.knownTypeNames))
  }

  @Test func linesStartWithTheTypeAndSpellNonFiniteNumbersAsStrings() throws {
    let line = RunEvent.step(StepEvent(stage: 1, step: 2, tokens: 4096, lr: 4e-3, loss: .nan))
      .jsonLine
    #expect(line == #"{"type":"step","stage":1,"step":2,"tokens":4096,"lr":0.004,"loss":"NaN"}"#)
    let eval = RunEvent.eval(
      EvalEvent(stage: 1, step: 2, tokens: 1, losses: [DatasetLoss("D0", .infinity)])
    ).jsonLine
    #expect(eval.contains(#""losses":{"D0":"Infinity"}"#))
  }

  @Test func readsPythonStyleBareNaNAndInfinity() throws {
    let text = """
      {"type": "header", "schemaVersion": 1, "runName": "torch"}
      {"type": "step", "stage": 1, "step": 1, "tokens": 10, "lr": 1e-3, "loss": NaN}
      {"type": "eval", "stage": 1, "step": 1, "tokens": 10, "losses": {"D0": Infinity, "D1": -Infinity, "D2": null}}

      """
    let contents = try RunLogReader.read(bytes: Array(text.utf8))
    #expect(contents.events.count == 3)
    guard case .step(let step) = contents.events[1], case .eval(let eval) = contents.events[2]
    else {
      Issue.record("wrong events")
      return
    }
    #expect(step.loss.isNaN)
    #expect(eval.loss("D0") == .infinity)
    #expect(eval.loss("D1") == -.infinity)
    #expect(eval.loss("D2") == nil)
  }

  @Test func numbersParseExactly() throws {
    for value in [
      0.1, 2.873456716537476, 1e-05, 4e-3, 1.7976931348623157e308, .leastNonzeroMagnitude,
      123456.0,
    ] {
      let parsed = try JSONText.parse(JSONText.encode(.double(value)))
      #expect(parsed.doubleValue == value, "\(value)")
    }
    #expect(try JSONText.parse("-12") == .int(-12))
    // 19-digit integers stay integers while they fit (Int.max was read as a Double, and a step
    // of 9223372036854775807 as "not an integer"); one more is a Double.
    #expect(try JSONText.parse("9223372036854775807") == .int(Int.max))
    #expect(try JSONText.parse("-9223372036854775808") == .int(Int.min))
    #expect(try JSONText.parse("1000000000000000000") == .int(1_000_000_000_000_000_000))
    #expect(try JSONText.parse("9223372036854775808").intValue == nil)
    #expect(try JSONText.parse(String(Int.max)) == .int(Int.max))
    // Stages count from 1: a stage 0 (or below) is a damaged line, named as such.
    for line in [
      #"{"type":"step","stage":0,"step":1,"tokens":8,"lr":0.1,"loss":2}"#,
      #"{"type":"eval","stage":-7,"step":1,"tokens":8,"losses":{"D0":2}}"#,
    ] {
      let header = #"{"type":"header","schemaVersion":1,"runName":"r"}"#
      let contents = try RunLogReader.read(bytes: Array((header + "\n" + line + "\n").utf8))
      #expect(contents.events.count == 1 && contents.skippedCount == 1)
      #expect(contents.skippedSummary?.contains("stages count from 1") == true, "\(contents)")
    }
    // A stage number or step count no run has is a damaged line too (replay and follow planned
    // every stage up to it and ran out of memory, or overflowed steps × tokens).
    for (line, reason) in [
      (
        #"{"type":"step","stage":99999999999,"step":1,"tokens":8,"lr":0.1,"loss":2}"#,
        "at most 100000"
      ),
      (
        #"{"type":"stageStart","stage":3,"dataset":"D0","steps":4611686018427387904,"lrMax":1,"lrMin":0}"#,
        "must be 0 to 2^36"
      ),
    ] {
      let header = #"{"type":"header","schemaVersion":1,"runName":"r"}"#
      let contents = try RunLogReader.read(bytes: Array((header + "\n" + line + "\n").utf8))
      #expect(contents.events.count == 1 && contents.skippedCount == 1)
      #expect(contents.skippedSummary?.contains(reason) == true, "\(contents)")
    }
    #expect(try JSONText.parse("1e3").doubleValue == 1000)
    #expect(try JSONText.parse(#""\u00e9\ud83d\ude00""#) == .string("é😀"))
    #expect(throws: JSONParseError.self) { try JSONText.parse("{\"a\":1,}") }
    #expect(throws: JSONParseError.self) { try JSONText.parse("[1] x") }
  }
}

@Suite struct RunLogDamage {
  let header = #"{"type":"header","schemaVersion":1,"runName":"r","startTime":""}"#
  let step = #"{"type":"step","stage":1,"step":1,"tokens":8,"lr":0.001,"loss":2.5}"#

  @Test func tornLastLineIsIgnored() throws {
    let text = header + "\n" + step + "\n" + #"{"type":"step","stage":1,"st"#
    let contents = try RunLogReader.read(bytes: Array(text.utf8))
    #expect(contents.events.count == 2)
    #expect(contents.tornLastLine)
    #expect(contents.skippedCount == 0)
    #expect(contents.skippedSummary?.contains("torn") == true)
  }

  @Test func wholeLastLineWithoutNewlineIsRead() throws {
    let contents = try RunLogReader.read(bytes: Array((header + "\n" + step).utf8))
    #expect(contents.events.count == 2)
    #expect(!contents.tornLastLine)
  }

  @Test func byteOrderMarkIsIgnored() throws {
    let contents = try RunLogReader.read(bytes: [0xEF, 0xBB, 0xBF] + Array((header + "\n").utf8))
    #expect(contents.header?.runName == "r")
  }

  @Test func unknownTypesAreSkippedQuietly() throws {
    let text = [
      header, #"{"type":"gpuStats","util":0.9}"#, step, #"{"type":"gpuStats"}"#,
    ].joined(separator: "\n")
    let contents = try RunLogReader.read(bytes: Array(text.utf8))
    #expect(contents.events.count == 2)
    #expect(contents.skippedCount == 0)
    #expect(contents.unknownTypes == ["gpuStats": 2])
  }

  @Test func corruptAndForeignLinesAreCountedWithLineNumbers() throws {
    let text = [
      header,
      "garbage here",
      #"{"type":"step","stage":1,"step":2,"tokens":8,"lr":0.001}"#,
      "",
      #"{"no":"type"}"#,
      #"[1,2,3]"#,
      #"{"type":"step","stage":"one","step":2,"tokens":8,"lr":0.001,"loss":1}"#,
      step + "\r",
    ].joined(separator: "\n")
    let contents = try RunLogReader.read(bytes: Array(text.utf8))
    #expect(contents.events.count == 2)
    #expect(contents.skippedCount == 5)
    #expect(
      contents.skipped == [
        SkippedLine(line: 2, reason: "not JSON"),
        SkippedLine(line: 3, reason: "missing field \"loss\""),
        SkippedLine(line: 5, reason: "no \"type\" field"),
        SkippedLine(line: 6, reason: "not a JSON object"),
        SkippedLine(line: 7, reason: "field \"stage\" is not an integer"),
      ])
    #expect(
      contents.skippedSummary
        == "skipped 5 lines (line 2: not JSON; line 3: missing field \"loss\"; line 5: no \"type\" field; …)"
    )
  }

  /// A line over the limit that arrives whole in one chunk was read (the limit held only across
  /// chunks), so the same file read differently depending on where its chunks fell.
  @Test func overlongLineInOneChunkIsSkippedToo() throws {
    let long =
      #"{"type":"note","text":""# + String(repeating: "x", count: RunLogSchema.maxLineBytes)
      + #""}"#
    let contents = try RunLogReader.read(
      bytes: Array((header + "\n" + long + "\n" + step + "\n").utf8))
    #expect(contents.events.count == 2)
    #expect(contents.skipped == [SkippedLine(line: 2, reason: "longer than 1 MiB")])
    #expect(contents.skippedSummary?.contains("longer than 1 MiB") == true)
  }

  @Test func overlongLinesAreSkippedWithANotice() throws {
    let long =
      #"{"type":"note","text":""# + String(repeating: "x", count: RunLogSchema.maxLineBytes)
      + #""}"#
    var decoder = RunLogDecoder()
    var events: [RunEvent] = []
    // Feed in small chunks so the long line never sits whole in memory.
    let bytes = Array((header + "\n" + long + "\n" + step + "\n").utf8)
    var start = 0
    while start < bytes.count {
      let end = min(bytes.count, start + 65_536)
      events += decoder.feed(Array(bytes[start..<end]))
      #expect(decoder.pendingByteCount <= RunLogSchema.maxLineBytes)
      start = end
    }
    events += decoder.finish()
    #expect(events.count == 2)
    #expect(decoder.skipped == [SkippedLine(line: 2, reason: "longer than 1 MiB")])
  }

  @Test func eventsOutOfOrderOrRepeatedAreDroppedWithANotice() {
    func step(_ n: Int) -> RunEvent {
      .step(StepEvent(stage: 1, step: n, tokens: n, lr: 0, loss: 1))
    }
    func eval(_ n: Int, stage: Int = 1) -> RunEvent {
      .eval(EvalEvent(stage: stage, step: n, tokens: n, losses: [DatasetLoss("D0", 1)]))
    }
    let end = RunEvent.stageEnd(StageEndEvent(stage: 1, step: 4, tokens: 4))
    let events = [
      step(1), step(2), eval(2), eval(2), step(2), step(3), step(1), eval(1), step(4), eval(4),
      end, eval(4, stage: 2),
    ]
    let (kept, notice) = RunLogReader.inOrder(events)
    // A later stage's evaluation at the same step is not a repeat.
    #expect(kept == [step(1), step(2), eval(2), step(3), step(4), eval(4), end, eval(4, stage: 2)])
    #expect(notice == "ignored 4 events out of order or repeated (eval 2, step 2, step 1, …)")
    #expect(RunLogReader.inOrder(kept).notice == nil)
    // A log's tail written again (steps and the final evaluation after the stage end): the
    // evaluation is a repeat too, though other events stand between the two copies.
    let tail = [step(3), step(4), eval(4)]
    let again = RunLogReader.inOrder([step(3), step(4), eval(4), end] + tail)
    #expect(again.events == [step(3), step(4), eval(4), end])
    #expect(again.notice == "ignored 3 events out of order or repeated (step 3, step 4, eval 4)")
  }

  @Test func largeFilesReadOnTwoThreadsGiveWhatOneThreadGives() throws {
    // ~13 MB: several 4 MB read chunks, each split in two; damage in every part, an over-long
    // line across a chunk boundary, blank lines, a torn last line.
    var lines = [header]
    var k = 0
    while lines.count < 150_000 {
      k += 1
      lines.append(
        #"{"type":"step","stage":1,"step":\#(k),"tokens":\#(k * 8),"lr":0.001,"loss":\#(2 + Double(k % 97) / 100)}"#
      )
      if k % 9_973 == 0 { lines.append("garbage \(k)") }
      if k % 31_337 == 0 { lines.append("") }
      if k % 17_011 == 0 { lines.append(#"{"type":"gpuStats","k":\#(k)}"#) }
      if k == 50_000 {
        lines.append(
          #"{"type":"note","text":""# + String(repeating: "y", count: RunLogSchema.maxLineBytes)
            + #""}"#)
      }
    }
    let text = lines.joined(separator: "\n") + "\n" + #"{"type":"step","st"#
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-two-threads-\(getpid()).jsonl"
    ).path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let parallel = try RunLogReader.read(path: path)
    let serial = try RunLogReader.read(bytes: Array(text.utf8), path: path)
    #expect(parallel.events.count == serial.events.count)
    let sameEvents = parallel.events == serial.events  // (not printed: 150k events)
    #expect(sameEvents)
    #expect(parallel.skipped == serial.skipped)
    #expect(parallel.skippedCount == serial.skippedCount && serial.skippedCount > 10)
    #expect(parallel.unknownTypes == serial.unknownTypes)
    #expect(parallel.lineCount == serial.lineCount)
    #expect(parallel.tornLastLine && serial.tornLastLine)
    #expect(parallel.warnings == serial.warnings)
    #expect(parallel.skippedSummary == serial.skippedSummary)
  }

  @Test(arguments: [
    ("", "empty file, not a run log"),
    ("hello world\nthis is text\n", "not a cptui run log (line 1: not JSON)"),
    (#"{"type":"other"}"# + "\n", "not a cptui run log (only unknown event types: other)"),
    ("\u{0}\u{1}\u{2}binary", "not a cptui run log (one unfinished line)"),
  ])
  func nonLogsGiveOneLineErrors(text: String, message: String) {
    #expect(throws: RunLogReadError(path: "x.jsonl", message: message)) {
      try RunLogReader.read(bytes: Array(text.utf8), path: "x.jsonl")
    }
  }

  @Test func missingFileIsAnError() {
    #expect(throws: RunLogReadError(path: "/nonexistent/run.jsonl", message: "no such file")) {
      try RunLogReader.read(path: "/nonexistent/run.jsonl")
    }
  }

  @Test func newerSchemaIsReadWithAWarning() throws {
    let text = #"{"type":"header","schemaVersion":99,"runName":"r"}"# + "\n" + step + "\n"
    let contents = try RunLogReader.read(bytes: Array(text.utf8))
    #expect(contents.events.count == 2)
    #expect(contents.warnings.first?.contains("schema version 99") == true)
  }

  @Test func appendCutsATornTailAndKeepsAWholeOne() throws {
    let path = temporaryPath()
    try Data((header + "\n" + step + "\n" + #"{"type":"st"#).utf8).write(
      to: URL(fileURLWithPath: path))
    let writer = try RunLogWriter(path: path, mode: .append)
    #expect(writer.removedTornBytes == 11)
    try writer.write(.note(NoteEvent(text: "resumed")))
    try writer.close()
    let contents = try RunLogReader.read(path: path)
    #expect(contents.events.count == 3)
    #expect(contents.skippedCount == 0)

    let second = temporaryPath()
    try Data((header + "\n" + step).utf8).write(to: URL(fileURLWithPath: second))
    let appender = try RunLogWriter(path: second, mode: .append)
    #expect(appender.removedTornBytes == 0)
    try appender.write(.note(NoteEvent(text: "more")))
    try appender.close()
    #expect(try RunLogReader.read(path: second).events.count == 3)
  }

  @Test func createRefusesToOverwrite() throws {
    let path = temporaryPath()
    try RunLogWriter(path: path).close()
    #expect(throws: RunLogWriteError.self) { try RunLogWriter(path: path, mode: .create) }
    try RunLogWriter(path: path, mode: .replace).close()
  }

  /// One writer per log: a second writer (a second `--resume`, or one while the run trains) is
  /// refused while the first holds the log, and a refused `replace` leaves the log as it was.
  @Test func aSecondWriterIsRefusedWhileTheFirstHoldsTheLog() throws {
    let path = temporaryPath()
    let first = try RunLogWriter(path: path)
    try first.write(.note(NoteEvent(text: "first")))
    for mode in [RunLogWriter.Mode.append, .replace] {
      do {
        _ = try RunLogWriter(path: path, mode: mode)
        Issue.record("a second writer (\(mode)) was let in")
      } catch {
        #expect(error.message.contains("another cptui process is writing this log"))
      }
    }
    #expect(try RunLogReader.read(path: path).events.count == 1)
    try first.close()
    let second = try RunLogWriter(path: path, mode: .append)
    try second.write(.note(NoteEvent(text: "second")))
    try second.close()
    #expect(try RunLogReader.read(path: path).events.count == 2)
  }

  @Test func resumeDropsTheAbandonedTail() {
    func step(_ n: Int) -> RunEvent {
      .step(StepEvent(stage: 1, step: n, tokens: n * 8, lr: 1e-3, loss: 2))
    }
    let events: [RunEvent] = [
      step(1), step(2), .checkpoint(CheckpointEvent(path: "c", step: 2)), step(3), step(4),
      .resume(ResumeEvent(step: 2)), step(3),
    ]
    let kept = RunLogReader.applyingResumes(events)
    #expect(kept.compactMap(\.step) == [1, 2, 2, 2, 3])
    // A run stopped at step 2 (its runEnd at the resume step) goes on: the end is dropped, so
    // `follow` and the status no longer read "stopped" while the resumed run trains.
    let stopped: [RunEvent] = [
      step(1), step(2), .checkpoint(CheckpointEvent(path: "c", step: 2)),
      .runEnd(RunEndEvent(status: .stopped, step: 2)), .resume(ResumeEvent(step: 2)), step(3),
    ]
    #expect(
      !RunLogReader.applyingResumes(stopped).contains {
        if case .runEnd = $0 { return true } else { return false }
      })
    #expect(RunSummary(events: RunLogReader.applyingResumes(stopped)).endStatus == nil)
  }

  /// A resume logged without a time (checkpoints from before 27 Nov) restarted the clock at 0:
  /// its events go on from the last kept time, so exported times never run backwards. A resume
  /// with a time (the clock carried on) is left as it is.
  @Test func anOldResumesClockGoesOnFromTheStop() {
    func step(_ n: Int, _ time: Double) -> RunEvent {
      .step(StepEvent(stage: 1, step: n, tokens: n * 8, lr: 1e-3, loss: 2, time: time))
    }
    let checkpoint = RunEvent.checkpoint(CheckpointEvent(path: "c", step: 2, time: 20.5))
    let old: [RunEvent] = [
      step(1, 10), step(2, 20), checkpoint, .resume(ResumeEvent(step: 2)), step(3, 0.5),
      step(4, 0.75),
    ]
    #expect(RunLogReader.applyingResumes(old).compactMap(\.time) == [10, 20, 20.5, 21, 21.25])
    let carried: [RunEvent] = [
      step(1, 10), step(2, 20), checkpoint, .resume(ResumeEvent(step: 2, time: 20.5)),
      step(3, 21), step(4, 21.25),
    ]
    #expect(
      RunLogReader.applyingResumes(carried).compactMap(\.time) == [10, 20, 20.5, 20.5, 21, 21.25])
    // Today's binary resuming an old checkpoint logs a time near 0: moved on too.
    let restarted: [RunEvent] = [
      step(1, 10), step(2, 20), checkpoint, .resume(ResumeEvent(step: 2, time: 0)), step(3, 0.5),
    ]
    #expect(
      RunLogReader.applyingResumes(restarted).compactMap(\.time) == [10, 20, 20.5, 20.5, 21])
  }

  /// The evaluation a stop made at the resume step goes when no schedule made it (its step is not
  /// a multiple of `evaluation.every`, and no stage ended there); scheduled ones stay, and without
  /// a header config nothing is guessed.
  @Test func resumeDropsTheStopsOwnEvaluation() {
    func header(every: Int) -> RunEvent {
      .header(
        RunHeader(
          runName: "r", startTime: "t", datasets: ["D0"],
          config: .object([JSONMember("evaluation", .object([JSONMember("every", .int(every))]))])))
    }
    func eval(_ n: Int) -> RunEvent {
      .eval(EvalEvent(stage: 1, step: n, tokens: n * 8, losses: [DatasetLoss("D0", 3)]))
    }
    func evalSteps(_ events: [RunEvent]) -> [Int] {
      RunLogReader.applyingResumes(events).compactMap {
        if case .eval(let e) = $0 { return e.step } else { return nil }
      }
    }
    let stopped: [RunEvent] = [
      eval(0), eval(10), eval(13), .resume(ResumeEvent(step: 13)), eval(20),
    ]
    #expect(evalSteps([header(every: 10)] + stopped) == [0, 10, 20])
    #expect(evalSteps([header(every: 0)] + stopped) == [0, 10, 20])
    #expect(evalSteps(stopped) == [0, 10, 13, 20], "no header: kept")
    let atSchedule: [RunEvent] = [eval(0), eval(10), .resume(ResumeEvent(step: 10)), eval(20)]
    #expect(evalSteps([header(every: 10)] + atSchedule) == [0, 10, 20])
    let atStageEnd: [RunEvent] = [
      eval(0), eval(13),
      .stageEnd(StageEndEvent(stage: 1, step: 13, tokens: 104, reason: .completed)),
      .resume(ResumeEvent(step: 13)), eval(20),
    ]
    #expect(evalSteps([header(every: 10)] + atStageEnd) == [0, 13, 20])
  }
}

@Suite struct RunLogFollowing {
  @Test func followerReadsAGrowingFileLineByLine() throws {
    let path = temporaryPath()
    let writer = try RunLogWriter(path: path)
    let follower = try RunLogFollower(path: path)
    #expect(try follower.poll().isEmpty)
    try writer.write(sampleEvents[0])
    try writer.write(sampleEvents[1])
    #expect(try follower.poll().count == 2)
    #expect(try follower.poll().isEmpty)
    // A line arriving in two pieces appears only once it is complete.
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    handle.seekToEndOfFile()
    let line = sampleEvents[2].jsonLine
    handle.write(Data(line.prefix(10).utf8))
    #expect(try follower.poll().isEmpty)
    handle.write(Data((line.dropFirst(10) + "\n").utf8))
    let events = try follower.poll()
    #expect(sameEvents(events, [sampleEvents[2]]))
    try handle.close()
    try writer.close()
    #expect(follower.decoder.lineCount == 3)
  }

  @Test func followerReadsAPipeToItsEnd() throws {
    var descriptors: [Int32] = [0, 0]
    #expect(pipe(&descriptors) == 0)
    let follower = RunLogFollower(fileDescriptor: descriptors[0])
    let text = sampleEvents.prefix(3).map { $0.jsonLine + "\n" }.joined()
    _ = text.utf8CString.withUnsafeBytes { write(descriptors[1], $0.baseAddress!, $0.count - 1) }
    #expect(try follower.poll().count == 3)
    #expect(!follower.endOfStream)
    close(descriptors[1])
    #expect(try follower.poll().isEmpty)
    #expect(follower.endOfStream)
    close(descriptors[0])
  }

  @Test func decoderHandlesAnySplitOfTheBytes() {
    let text = sampleEvents.map { $0.jsonLine + "\n" }.joined()
    let bytes = Array(text.utf8)
    for chunk in [1, 7, 64, 1000] {
      var decoder = RunLogDecoder()
      var events: [RunEvent] = []
      var start = 0
      while start < bytes.count {
        let end = min(bytes.count, start + chunk)
        events += decoder.feed(Array(bytes[start..<end]))
        start = end
      }
      events += decoder.finish()
      #expect(sameEvents(events, sampleEvents), "chunk \(chunk)")
    }
  }
}

@Suite struct RunLogNumbers {
  @Test func randomDoublesParseExactlyAsSwiftDoes() throws {
    var rng = SeededGenerator(seed: 42)
    for index in 0..<20_000 {
      let value: Double
      switch index % 3 {
      case 0: value = Double(Float.random(in: 0..<10, using: &rng))
      case 1: value = Double.random(in: 0..<1, using: &rng)
      default:
        value = Double(
          bitPattern: UInt64.random(
            in: 0x3C00_0000_0000_0000..<0x4400_0000_0000_0000, using: &rng))
      }
      #expect(try JSONText.parse(value.description).doubleValue == value, "\(value)")
      let digits = (0..<Int.random(in: 1...19, using: &rng)).map { _ in
        String(Int.random(in: 0...9, using: &rng))
      }.joined()
      let decimal = "0.\(digits)e\(Int.random(in: -5...5, using: &rng))"
      #expect(try JSONText.parse(decimal).doubleValue == Double(decimal), "\(decimal)")
    }
  }

  @Test func fastStepLinesMatchTheGeneralReader() throws {
    let lines = [
      #"{"type":"step","stage":1,"step":2,"tokens":8,"lr":0.001,"loss":2.5}"#,
      #"{"type":"step","stage":1,"step":2,"tokens":8,"lr":0.001,"loss":"NaN","gradNorm":"-Infinity"}"#,
      #"{"type":"step","stage":1.0,"step":2,"tokens":8e0,"lr":1e-3,"loss":2.5,"extra":[1]}"#,
      #"{"type":"step","stage":1,"step":2,"tokens":8,"lr":0.001,"loss":2.5,"loss":3.5}"#,
      #"{"type":"step","stage":1,"step":2.5,"tokens":8,"lr":0.001,"loss":2.5}"#,
      #"{"type":"step","stage":1,"step":2,"tokens":8,"lr":0.001,"loss":null}"#,
      #"{"type":"step","stage":1,"step":2,"tokens":8,"lr":0.001,"loss":2.5} x"#,
    ]
    for line in lines {
      let fast = Array(line.utf8).withUnsafeBufferPointer { FastStep.decode($0) }
      let general: RunEvent?? = try? RunEvent(json: JSONText.parse(line))
      if let fast {
        #expect(general??.jsonLine == RunEvent.step(fast).jsonLine, "\(line)")
      } else {
        // The general reader decides (and gives the message).
        let contents = try? RunLogReader.read(bytes: Array((line + "\n").utf8))
        #expect(contents == nil || contents!.events.count + contents!.skippedCount == 1)
      }
    }
  }
}

/// SplitMix64, so the random cases are the same on every run.
struct SeededGenerator: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

@Suite struct RunLogSchemaFile {
  @Test func schemaDescribesEveryKnownEventType() throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("docs/runlog.schema.json")
    let schema = try JSONText.parse(String(contentsOf: url, encoding: .utf8))
    for type in RunEvent.knownTypeNames {
      #expect(schema["$defs"]?[type]?["properties"]?["type"]?["const"] == .string(type), "\(type)")
    }
    #expect(
      schema["$defs"]?["step"]?["required"]
        == ["type", "stage", "step", "tokens", "lr", "loss"])
  }
}

@Suite struct RunLogCodable {
  @Test func eventsAreCodableInTheirLogForm() throws {
    let encoder = JSONEncoder()
    for event in sampleEvents {
      let data = try encoder.encode(event)
      let decoded = try JSONDecoder().decode(RunEvent.self, from: data)
      // Foundation's decoder does not keep key order or tell 10 from 10.0: compare canonically.
      #expect(canonical(decoded.jsonValue) == canonical(event.jsonValue), "\(event.typeName)")
    }
    let value: JSONValue = ["b": 1, "a": [true, nil, 2.5, "x"]]
    let back = try JSONDecoder().decode(JSONValue.self, from: try encoder.encode(value))
    #expect(canonical(back) == canonical(value))
  }
}

/// Object members sorted by key and integral numbers as integers, recursively.
func canonical(_ value: JSONValue) -> JSONValue {
  switch value {
  case .object(let members):
    return .object(
      members.sorted { $0.key < $1.key }.map { JSONMember($0.key, canonical($0.value)) })
  case .array(let items): return .array(items.map(canonical))
  case .double(let number):
    if let integer = value.intValue { return .int(integer) }
    return .double(number)
  default: return value
  }
}

@Suite struct RunSummaries {
  func eval(_ stage: Int, _ step: Int, _ d0: Double, _ d1: Double) -> RunEvent {
    .eval(
      EvalEvent(
        stage: stage, step: step, tokens: step * 8,
        losses: [DatasetLoss("D0", d0), DatasetLoss("D1", d1)]))
  }

  func start(_ stage: Int, _ dataset: String) -> RunEvent {
    .stageStart(
      StageStartEvent(
        stage: stage, dataset: dataset, steps: 40, tokens: 320, startStep: (stage - 1) * 40,
        startTokens: 0, schedule: "cosine", warmupFraction: 0.01, lrMax: 4e-3, lrMin: 4e-4))
  }

  @Test func forgettingAdaptationAndAverage() {
    let header = RunEvent.header(RunHeader(runName: "r", startTime: "", datasets: ["D0", "D1"]))
    let events: [RunEvent] = [
      header, start(1, "D0"), eval(1, 0, 5, 5), eval(1, 10, 3, 4.5), eval(1, 20, 2.6, 4.4),
      eval(1, 30, 2.5, 4.3), eval(1, 40, 2.4, 4.2), start(2, "D1"), eval(2, 50, 2.8, 3),
      eval(2, 60, 3, 2.5), eval(2, 70, 3.1, 2.2), eval(2, 80, .nan, 2.1), eval(2, 80, 3.2, 2.1),
      .runEnd(RunEndEvent(status: .completed)),
    ]
    let summary = RunSummary(events: events, finalShare: 1)
    #expect(summary.runName == "r")
    #expect(summary.datasets == ["D0", "D1"])
    #expect(summary.stageCount == 2)
    #expect(summary.firstDataset == "D0")
    #expect(summary.lastDataset == "D1")
    #expect(abs(summary.firstStageEndLoss! - 2.5) < 1e-12)
    #expect(abs(summary.finalLosses["D0"]! - 3.1) < 1e-12)
    #expect(abs(summary.forgetting! - 0.6) < 1e-12)
    #expect(abs(summary.adaptation! - (2.2 + 2.1 + 2.1) / 3) < 1e-12)
    #expect(abs(summary.average! - (3.1 + (2.2 + 2.1 + 2.1) / 3) / 2) < 1e-12)
    #expect(summary.endStatus == .completed)
    #expect(summary.nonFiniteEvaluations == ["D0": 1])
  }

  /// A dataset that was never finite has no final loss, and then there is no average: a mean over
  /// fewer datasets would be ranked against other runs' full averages.
  @Test func aDatasetWithoutFiniteLossesLeavesNoAverage() {
    let summary = RunSummary(
      events: [
        start(1, "D0"), eval(1, 0, 5, .nan), eval(1, 10, 4, .infinity),
      ], finalShare: 1)
    #expect(summary.finalLosses["D0"] == 4, "the untrained model's step-0 loss is left out")
    #expect(summary.finalLosses["D1"] == nil)
    #expect(summary.average == nil)
    #expect(summary.nonFiniteEvaluations == ["D1": 2])
  }

  /// Averages stay inside one stage: stage 1's end leaves out the untrained step-0 loss, and the
  /// final losses of a stage with one evaluation so far are that evaluation, not a mix with the
  /// stage before (a short stage, or a live run just past a boundary). Adaptation names the
  /// dataset it is the loss of.
  @Test func averagesDoNotCrossStages() {
    let events: [RunEvent] = [
      start(1, "D0"), eval(1, 0, 5.7, 5.7), eval(1, 10, 3.2, 4), eval(1, 20, 2.8, 4.2),
      start(2, "D1"), eval(2, 30, 3.4, 3),
    ]
    let summary = RunSummary(events: events, finalShare: 1)
    #expect(abs(summary.firstStageEndLoss! - 3.0) < 1e-12)
    #expect(summary.finalLosses == ["D0": 3.4, "D1": 3])
    #expect(abs(summary.forgetting! - 0.4) < 1e-12)
    #expect(summary.adaptation == 3 && summary.adaptationDataset == "D1")
    // Stage 2 has started but is not evaluated yet: no forgetting or adaptation to show.
    let justStarted = RunSummary(events: Array(events.dropLast()), finalShare: 1)
    #expect(justStarted.forgetting == nil && justStarted.adaptation == nil)
    #expect(justStarted.finalLosses == ["D0": 3.0, "D1": 4.1])
  }

  /// Four domains in sequence: each dataset a later stage left is measured against the end of the
  /// last stage that trained it (D0 against stage 1, D1 against stage 2 …); the final stage's own
  /// dataset is adaptation, not forgetting.
  @Test func forgettingOfEveryDatasetALaterStageLeft() {
    func eval(_ stage: Int, _ step: Int, _ losses: [Double]) -> RunEvent {
      .eval(
        EvalEvent(
          stage: stage, step: step, tokens: step,
          losses: losses.enumerated().map { DatasetLoss("D\($0.offset)", $0.element) }))
    }
    let header = RunEvent.header(
      RunHeader(runName: "domains", startTime: "", datasets: ["D0", "D1", "D2"]))
    let events: [RunEvent] = [
      header, start(1, "D0"), eval(1, 40, [2, 5, 5]), start(2, "D1"), eval(2, 80, [3, 2.5, 5]),
      start(3, "D2"), eval(3, 120, [3.5, 3.25, 2.2]), .runEnd(RunEndEvent(status: .completed)),
    ]
    let summary = RunSummary(events: events, averaging: 1)
    #expect(summary.forgettingByDataset == ["D0": 1.5, "D1": 0.75])
    #expect(summary.forgetting == 1.5 && summary.adaptation == 2.2)
    // Two stages: only D0, equal to `forgetting`.
    let two = RunSummary(events: Array(events.prefix(5)), averaging: 1)
    #expect(two.forgettingByDataset == ["D0": 1] && two.forgetting == 1)
    // The same dataset in every stage: nothing was left.
    let same: [RunEvent] = [start(1, "D0"), eval(1, 40, [2]), start(2, "D0"), eval(2, 80, [1.8])]
    #expect(RunSummary(events: same, averaging: 1).forgettingByDataset.isEmpty)
  }

  /// While its last stage runs, a run is measured by that stage's latest evaluation: three
  /// evaluations in, a mean would still hold the stage's first (the review's live screen showed
  /// adaptation 3.07 next to a legend at 1.65). Once the stage ends, the mean of the last three.
  @Test func aRunningStageIsMeasuredByItsLatestEvaluation() {
    let events: [RunEvent] = [
      start(1, "D0"), eval(1, 0, 5.7, 5.7), eval(1, 10, 3.2, 4), eval(1, 20, 2.8, 4.2),
      .stageStart(
        StageStartEvent(
          stage: 2, dataset: "D1", steps: 20, tokens: 160, startStep: 20, startTokens: 160,
          schedule: "cosine", warmupFraction: 0.01, lrMax: 4e-3, lrMin: 4e-4)),
      eval(2, 22, 3.0, 5.647), eval(2, 30, 3.3, 1.906), eval(2, 40, 3.4, 1.652),
    ]
    let running = RunSummary(events: events, finalShare: 1)
    #expect(running.adaptation == 1.652 && running.averagedEvaluations == 1)
    let ended = RunSummary(
      events: events + [
        .stageEnd(StageEndEvent(stage: 2, step: 40, tokens: 320, reason: .completed))
      ], finalShare: 1)
    #expect(abs(ended.adaptation! - (5.647 + 1.906 + 1.652) / 3) < 1e-12)
    #expect(ended.averagedEvaluations == 3)
    let finished = RunSummary(
      events: events + [
        .stageEnd(StageEndEvent(stage: 2, step: 40, tokens: 320, reason: .completed)),
        .runEnd(RunEndEvent(status: .stopped)),
      ], finalShare: 1)
    #expect(finished.averagedEvaluations == 3, "a run stopped between stages: its stage ended")
    // Stopped (or failed) within its stage, a run reads as it would had it been killed there:
    // the stop's evaluation, not a mean reaching back into the stage.
    let stopped = RunSummary(
      events: events + [
        .stageEnd(StageEndEvent(stage: 2, step: 40, tokens: 320, reason: .stopped)),
        .runEnd(RunEndEvent(status: .stopped)),
      ], finalShare: 1)
    #expect(stopped.adaptation == 1.652 && stopped.averagedEvaluations == 1)
    let failed = RunSummary(events: events + [.runEnd(RunEndEvent(status: .failed))], finalShare: 1)
    #expect(failed.adaptation == 1.652 && failed.averagedEvaluations == 1)
  }

  /// A final loss averages only evaluations of the stage's last fifth: in a short stage, the last
  /// three evaluations reached back to just after the switch of data (the review's 200k-token
  /// run: forgetting +1.04 in the table, +1.5 on the curves).
  @Test func averagesStayInTheStagesLastFifth() {
    func start(_ stage: Int, _ dataset: String, at step: Int) -> RunEvent {
      .stageStart(
        StageStartEvent(
          stage: stage, dataset: dataset, steps: 98, tokens: 98 * 8, startStep: step,
          startTokens: step * 8, schedule: "cosine", warmupFraction: 0.01, lrMax: 4e-3,
          lrMin: 4e-4))
    }
    let events: [RunEvent] = [
      start(1, "D0", at: 0), eval(1, 0, 6, 6), eval(1, 50, 4.092, 5), eval(1, 98, 3.86, 5),
      .stageEnd(StageEndEvent(stage: 1, step: 98, tokens: 784)),
      start(2, "D1", at: 98), eval(2, 100, 4.242, 4.465), eval(2, 150, 5.443, 3.7),
      eval(2, 196, 5.355, 3.48), .stageEnd(StageEndEvent(stage: 2, step: 196, tokens: 1568)),
      .runEnd(RunEndEvent(status: .completed)),
    ]
    let summary = RunSummary(events: events)
    #expect(summary.firstStageEndLoss == 3.86)
    #expect(summary.finalLosses == ["D0": 5.355, "D1": 3.48])
    #expect(abs(summary.forgetting! - 1.495) < 1e-12)
  }

  @Test func firstStageOnlyAndUnionRuns() {
    let running = RunSummary(
      events: [start(1, "D0"), eval(1, 0, 5, 5), eval(1, 10, 4, 4.5)], finalShare: 1)
    #expect(running.forgetting == nil)
    #expect(running.firstStageEndLoss == nil)
    #expect(running.adaptation == nil, "nothing adapted to before a later stage is evaluated")
    #expect(running.finalLosses == ["D0": 4, "D1": 4.5])
    #expect(running.endStatus == nil)
    // A union baseline trains on a mixture that is not evaluated itself.
    let union = RunSummary(
      events: [start(1, "union"), eval(1, 10, 3, 2)], averaging: 1, finalShare: 1)
    #expect(union.adaptation == nil)
    #expect(union.average == 2.5)
    #expect(union.datasets == ["D0", "D1"])
  }
}
