import Foundation
import Testing

/// `cptui run` end to end: a run on the tiny preset, killed with SIGKILL mid-stage and resumed,
/// gives exactly the losses of an uninterrupted run.
struct RunCLITests {
  static let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
    "cptui-run-cli-\(getpid())")
  static var cache: String { folder.appendingPathComponent("cache").path }
  static let args = [
    "--quiet", "--threads", "1", "--set", "defaults.steps=1500", "--set", "checkpoints.every=100",
  ]

  /// Step losses and evaluation losses, with the events a `resume` supersedes dropped.
  static func losses(_ path: String) throws -> (steps: [String], evals: [String]) {
    let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
    var kept: [[String: Any]] = []
    for line in lines {
      guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
      else { continue }
      if object["type"] as? String == "resume", let s = object["step"] as? Int {
        kept.removeAll { e in
          if e["type"] as? String == "header" { return false }
          if e["type"] as? String == "stageStart" { return (e["startStep"] as? Int ?? 0) >= s }
          return (e["step"] as? Int ?? 0) > s
        }
      }
      kept.append(object)
    }
    let steps = kept.filter { $0["type"] as? String == "step" }.map {
      "\($0["step"]!):\($0["loss"]!)"
    }
    let evals = kept.filter { $0["type"] as? String == "eval" }.map {
      "\($0["step"]!):\(($0["losses"] as? [String: Double] ?? [:]).sorted { $0.key < $1.key })"
    }
    return (steps, evals)
  }

  /// Sends `signal` to `process` once `log` holds `steps` step events; false when the run ended
  /// (or a minute passed) first.
  static func send(_ signal: Int32, to process: Process, after steps: Int, stepsIn log: String)
    -> Bool
  {
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline && process.isRunning {
      let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
      if text.split(separator: "\n").filter({ $0.contains("\"type\":\"step\"") }).count >= steps {
        kill(process.processIdentifier, signal)
        return true
      }
      usleep(2000)
    }
    return false
  }

  @Test func killedRunResumesToTheSameLosses() throws {
    try FileManager.default.createDirectory(at: Self.folder, withIntermediateDirectories: true)
    let full = Self.folder.appendingPathComponent("full.jsonl").path
    let killed = Self.folder.appendingPathComponent("killed.jsonl").path
    let env = ["CPTUI_CACHE": Self.cache]
    let r = try CLI.run(["run", "tiny", "--out", full] + Self.args, environment: env)
    #expect(r.status == 0, "\(r.stderr)")

    // Start the same run, SIGKILL it once a checkpoint past step 300 is logged.
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CLI.binary)
    process.arguments = ["run", "tiny", "--out", killed] + Self.args
    process.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
    process.standardError = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(60)
    var killedAt: Int?
    while Date() < deadline && process.isRunning {
      let text = (try? String(contentsOfFile: killed, encoding: .utf8)) ?? ""
      if let line = text.split(separator: "\n").last(where: { $0.contains("\"checkpoint\"") }),
        let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
        let step = object["step"] as? Int, step >= 300
      {
        kill(process.processIdentifier, SIGKILL)
        killedAt = step
        break
      }
      usleep(2000)
    }
    process.waitUntilExit()
    try #require(killedAt != nil, "the run ended before a checkpoint past step 300")
    #expect(process.terminationReason == .uncaughtSignal)
    let log = try String(contentsOfFile: killed, encoding: .utf8)
    #expect(!log.contains("\"runEnd\""))

    // Without --threads the run goes on with the one thread it trained on (losses are
    // bit-identical only for one thread count), and its event times go on from the checkpoint's.
    let resumed = try CLI.run(["run", "--resume", killed, "--quiet"], environment: env)
    #expect(resumed.status == 0, "\(resumed.stderr)")
    let a = try Self.losses(full)
    let b = try Self.losses(killed)
    #expect(a.steps.count == 3000)
    #expect(a.steps == b.steps)
    #expect(a.evals == b.evals)
    let objects = try String(contentsOfFile: killed, encoding: .utf8).split(separator: "\n")
      .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    let resumeAt = try #require(objects.firstIndex { $0["type"] as? String == "resume" })
    #expect(objects[resumeAt]["threads"] as? Int == 1)
    let resumeStep = try #require(objects[resumeAt]["step"] as? Int)
    #expect(resumeStep >= killedAt!)
    #expect(
      resumed.stderr.contains(
        "cptui: resuming \(killed) from its checkpoint at step \(resumeStep)"),
      "\(resumed.stderr)")
    let checkpointTime =
      objects[..<resumeAt].last { $0["type"] as? String == "checkpoint" }?[
        "time"] as? Double
    let resumeTime = objects[resumeAt]["time"] as? Double
    #expect(checkpointTime != nil && resumeTime != nil && resumeTime! >= checkpointTime!)
    let lastTime = objects.last?["time"] as? Double
    #expect(lastTime != nil && lastTime! > resumeTime!, "time goes on after the resume")
    // A completed run cannot be resumed again.
    let again = try CLI.run(["run", "--resume", killed], environment: env)
    #expect(again.status != 0 && again.stderr.contains("already completed"), "\(again.stderr)")
    // Nor on the screen: without a terminal it says so, not "continue it headless".
    let screen = try CLI.run(["--resume", killed], environment: env)
    #expect(
      screen.status == 1 && screen.stderr.contains("needs a terminal; \(killed) already completed"),
      "\(screen.stderr)")
  }

  /// SIGTERM (or Ctrl-C) stops a headless run at the next step: the log ends with runEnd
  /// "stopped", the message says how to continue, and the exit status is 128 + the signal.
  @Test(arguments: [SIGINT, SIGTERM, SIGHUP])
  func signalStopsARunCleanlyWithSignalStatus(signal: Int32) throws {
    try FileManager.default.createDirectory(at: Self.folder, withIntermediateDirectories: true)
    let log = Self.folder.appendingPathComponent("signalled-\(signal).jsonl").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CLI.binary)
    process.arguments = ["run", "tiny", "--out", log] + Self.args
    // A cache of its own: the parallel tests of this suite never prepare data into one folder.
    let cache = Self.folder.appendingPathComponent("cache-\(signal)").path
    process.environment = ProcessInfo.processInfo.environment.merging(["CPTUI_CACHE": cache]) {
      $1
    }
    let stderr = Pipe()
    process.standardError = stderr
    try process.run()
    let sent = Self.send(signal, to: process, after: 20, stepsIn: log)
    let message = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    try #require(sent, "the run ended before 20 steps were logged")
    #expect(process.terminationReason == .exit)
    #expect(process.terminationStatus == 128 + signal, "\(message)")
    #expect(message.contains("cptui run --resume \(log)"), "\(message)")
    let last = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").last ?? ""
    #expect(last.contains("\"runEnd\"") && last.contains("\"stopped\""), "\(last)")
  }

  /// Ctrl-C in a sweep, as a run ends or while the next one trains, stops the sweep (exit 130,
  /// "run the same command to continue"); the same command then finishes it. Before, the signal
  /// sources were made again for every run and a Ctrl-C in the second run could go unheard.
  @Test(arguments: [1, 30])
  func aSignalStopsASweepBetweenOrInRuns(stepsIntoSecondRun: Int) throws {
    let folder = Self.folder.appendingPathComponent("sweep-stop-\(stepsIntoSecondRun)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let out = folder.appendingPathComponent("logs").path
    let arguments = [
      "sweep", "tiny", "--grid", "seed=1,2", "--out", out, "--quiet", "--threads", "1", "--set",
      "defaults.steps=300",
    ]
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CLI.binary)
    process.arguments = arguments
    let cache = folder.appendingPathComponent("cache").path
    process.environment = ProcessInfo.processInfo.environment.merging(["CPTUI_CACHE": cache]) {
      $1
    }
    let stderr = Pipe()
    let stdout = Pipe()
    process.standardError = stderr
    process.standardOutput = stdout
    try process.run()
    let second = out + "/tiny__seed=2.jsonl"
    let sent = Self.send(SIGINT, to: process, after: stepsIntoSecondRun, stepsIn: second)
    let message = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    try #require(sent, "the sweep ended before the second run logged \(stepsIntoSecondRun) steps")
    #expect(process.terminationStatus == 130, "\(message)")
    #expect(
      message.contains("sweep stopped with 1 of 2 runs done; run the same command to continue"),
      "\(message)")
    // The table of the runs so far: the finished one, and the stopped one marked as such.
    let table = String(
      decoding: try #require(try stdout.fileHandleForReading.readToEnd()), as: UTF8.self)
    #expect(table.hasPrefix("run ") && table.contains("[stopped]"), "\(table)")
    let again = try CLI.run(arguments, environment: ["CPTUI_CACHE": cache])
    #expect(again.status == 0, "\(again.stderr)")
    #expect(again.stdout.contains("tiny__seed=2"), "\(again.stdout)")
  }

  @Test func configErrorsNameFileLineAndKey() throws {
    try FileManager.default.createDirectory(at: Self.folder, withIntermediateDirectories: true)
    let path = Self.folder.appendingPathComponent("bad.yaml").path
    try
      "name: bad\nmodel: {layers: 2, heads: 3, width: 32, context: 16}\nstages:\n  - {dataset: D0}\n"
      .write(toFile: path, atomically: true, encoding: .utf8)
    let r = try CLI.run(["run", path, "--out", Self.folder.appendingPathComponent("x.jsonl").path])
    #expect(r.status != 0)
    #expect(r.stderr.contains(path), "\(r.stderr)")
    let unknown = try CLI.run(["run", "tiny", "--set", "stages.1.dataset=nope"])
    #expect(unknown.status != 0)
    #expect(unknown.stderr.contains("nope"), "\(unknown.stderr)")
    let folder = try CLI.run(["run", Self.folder.path])
    #expect(folder.status != 0 && folder.stderr.contains("is a folder; give a config file"))
    let missing = try CLI.run(["run", "/nonexistent/config.yaml"])
    #expect(
      missing.status != 0 && missing.stderr.contains("/nonexistent/config.yaml"),
      "\(missing.stderr)")
  }

  /// A run whose checkpoint files are gone: resuming names the missing one; with an earlier one
  /// still there, it resumes from that, saying so, and completes.
  /// Under nohup a hang-up changes nothing: the run goes on to its end (SIGHUP stopped it once
  /// StopSignals took the signal over).
  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/nohup")))
  func aHangUpUnderNohupLetsTheRunFinish() throws {
    try FileManager.default.createDirectory(at: Self.folder, withIntermediateDirectories: true)
    let log = Self.folder.appendingPathComponent("nohup.jsonl").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/nohup")
    process.arguments = [CLI.binary, "run", "tiny", "--out", log] + Self.args
    let cache = Self.folder.appendingPathComponent("cache-nohup").path
    process.environment = ProcessInfo.processInfo.environment.merging(["CPTUI_CACHE": cache]) {
      $1
    }
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    let sent = Self.send(SIGHUP, to: process, after: 20, stepsIn: log)
    process.waitUntilExit()
    try #require(sent, "the run ended before 20 steps were logged")
    #expect(process.terminationStatus == 0)
    let last = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").last ?? ""
    #expect(last.contains("\"completed\""), "\(last)")
  }

  @Test func resumeNamesAMissingCheckpointAndFallsBackToAnEarlierOne() throws {
    try FileManager.default.createDirectory(at: Self.folder, withIntermediateDirectories: true)
    let log = Self.folder.appendingPathComponent("gone-\(UUID().uuidString.prefix(8)).jsonl").path
    let run = try CLI.run(
      ["run", "tiny", "--quiet", "--threads", "1", "--set", "checkpoints.every=30", "--out", log])
    #expect(run.status == 0, "\(run.stderr)")
    // As if the process had died before its last line: no runEnd.
    var lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
    #expect(lines.last?.contains("\"runEnd\"") == true)
    lines.removeLast()
    try (lines.joined(separator: "\n") + "\n").write(toFile: log, atomically: true, encoding: .utf8)
    let folder = URL(fileURLWithPath: log).deletingLastPathComponent()
    let checkpoints = lines.compactMap { line -> (path: String, step: Int)? in
      guard
        let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
        o["type"] as? String == "checkpoint", let p = o["path"] as? String,
        let s = o["step"] as? Int
      else { return nil }
      return (p.hasPrefix("/") ? p : folder.appendingPathComponent(p).path, s)
    }.filter { FileManager.default.fileExists(atPath: $0.path) }  // superseded periodic ones go
    #expect(checkpoints.count >= 3, "\(checkpoints)")
    let aside = checkpoints.map { $0.path + ".aside" }
    for (c, a) in zip(checkpoints, aside) {
      try FileManager.default.moveItem(atPath: c.path, toPath: a)
    }

    let missing = try CLI.run(["run", "--resume", log, "--quiet"])
    #expect(missing.status == 1, "\(missing)")
    let latest = URL(fileURLWithPath: checkpoints.last!.path).lastPathComponent
    #expect(
      missing.stderr.contains("no checkpoint to resume from") && missing.stderr.contains(latest)
        && missing.stderr.contains("is missing"), "\(missing.stderr)")

    // Another checkpoint copied in its place (here: a later one of the same run) is refused.
    try FileManager.default.copyItem(atPath: aside[1], toPath: checkpoints[0].path)
    let swapped = try CLI.run(["run", "--resume", log, "--quiet"])
    #expect(swapped.status == 1, "\(swapped)")
    #expect(
      swapped.stderr.contains(
        "it holds step \(checkpoints[1].step), but the run log names it for step \(checkpoints[0].step)"
      ),
      "\(swapped.stderr)")
    try FileManager.default.removeItem(atPath: checkpoints[0].path)

    try FileManager.default.moveItem(atPath: aside[0], toPath: checkpoints[0].path)
    let resumed = try CLI.run(["run", "--resume", log, "--quiet"])
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(
      resumed.stderr.contains("is missing; resuming from")
        && resumed.stderr.contains("(step \(checkpoints[0].step))"), "\(resumed.stderr)")
    let end = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").last ?? ""
    #expect(end.contains("\"runEnd\"") && end.contains("\"completed\""), "\(end)")
  }

  /// A run that diverged is a result: resuming it (which would diverge again from its last
  /// checkpoint) is refused with the reason; the NaN is named as NaN.
  /// A log whose last line was cut off in the middle of a checkpoint line (killed while writing
  /// it): the resume says the line is dropped and starts from the checkpoint before; when that
  /// line was the only checkpoint, it says so instead of "the run wrote none".
  @Test func aCheckpointLineCutOffIsNamed() throws {
    let folder = try CLI.temporaryFolder("torn-checkpoint")
    defer { try? FileManager.default.removeItem(at: folder) }
    let full = folder.appendingPathComponent("full.jsonl").path
    let run = try CLI.run(
      ["run", "tiny", "--quiet", "--threads", "1", "--out", full, "--set", "checkpoints.every=20"])
    try #require(run.status == 0, "\(run.stderr)")
    let lines = try String(contentsOfFile: full, encoding: .utf8).split(separator: "\n")
    let checkpointLines = lines.indices.filter { lines[$0].contains("\"type\":\"checkpoint\"") }
    try #require(checkpointLines.count >= 3)
    func torn(_ name: String, at index: Int) throws -> String {
      let path = folder.appendingPathComponent(name).path
      let kept = lines[..<index].joined(separator: "\n") + "\n" + lines[index].prefix(50)
      try kept.write(toFile: path, atomically: true, encoding: .utf8)
      return path
    }
    // Periodic checkpoints replace each other: step 60's line torn, the resume starts from the
    // stage end's (step 40), which the run keeps.
    let sixty = try #require(checkpointLines.first { lines[$0].contains("step-60.") })
    let torn60 = try torn("sixty.jsonl", at: sixty)
    let resumed = try CLI.run(["run", "--resume", torn60, "--quiet"])
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(resumed.stderr.contains("its last line was cut off"), "\(resumed.stderr)")
    // The stage end's checkpoint of step 80 is on disk, but this log does not name it: said, not
    // used.
    #expect(
      resumed.stderr.contains(
        "step-80.safetensors (step 80) is later than any checkpoint the log names"),
      "\(resumed.stderr)")
    let text = try String(contentsOfFile: torn60, encoding: .utf8)
    #expect(text.contains("\"type\":\"resume\",\"step\":40,"), "\(text.suffix(600))")

    // A damaged line inside the log (line 5 no longer JSON) is named, and the resume goes on.
    var damagedLines = lines[..<sixty].map(String.init)
    damagedLines[4] = "{\"type\":\"step\",\"sta"
    let damaged = folder.appendingPathComponent("damaged.jsonl").path
    try (damagedLines.joined(separator: "\n") + "\n").write(
      toFile: damaged, atomically: true, encoding: .utf8)
    let resumedDamaged = try CLI.run(["run", "--resume", damaged, "--quiet"])
    #expect(resumedDamaged.status == 0, "\(resumedDamaged.stderr)")
    #expect(
      resumedDamaged.stderr.contains("damaged.jsonl: skipped 1 line (line 5:"),
      "\(resumedDamaged.stderr)")

    // Refused at the checkpoint itself (cut short on disk): the torn log is left as it was.
    let damagedCheckpoint = try torn("bad-checkpoint.jsonl", at: sixty)
    let before = try String(contentsOfFile: damagedCheckpoint, encoding: .utf8)
    // (It resumes from step 40's, as above; that file is cut short now, last in this test.)
    let fortyLine = try #require(checkpointLines.first { lines[$0].contains("step-40.") })
    let step40 = try #require(
      lines[fortyLine].firstMatch(of: #/"path":"([^"]+)"/#).map { String($0.output.1) })
    try Data("short".utf8).write(to: URL(fileURLWithPath: step40))
    let refused = try CLI.run(["run", "--resume", damagedCheckpoint, "--quiet"])
    #expect(refused.status == 1, "\(refused.stderr)")
    #expect(try String(contentsOfFile: damagedCheckpoint, encoding: .utf8) == before)

    let first = try torn("first.jsonl", at: checkpointLines[0])
    let none = try CLI.run(["run", "--resume", first, "--quiet"])
    #expect(none.status == 1, "\(none.stderr)")
    #expect(
      none.stderr.contains(
        "no checkpoint to resume from (the log names none; its last line, cut off"),
      "\(none.stderr)")
  }

  /// The header records each dataset's tokens: a resume over data that changed since (a text file
  /// edited) is refused, naming the dataset, and the log is left as it was; the same text again
  /// (touched, but not changed) resumes.
  @Test func aResumeOverChangedDataIsRefused() throws {
    let folder = try CLI.temporaryFolder("changed-data")
    defer { try? FileManager.default.removeItem(at: folder) }
    let words = "the of and a to in is was that for it with as his on be at by had are but from or"
      .split(separator: " ")
    var rng = SystemRandomNumberGenerator()
    let text = (0..<400).map { _ in
      (0..<60).map { _ in String(words.randomElement(using: &rng)!) }.joined(separator: " ")
    }.joined(separator: "\n\n")
    let source = folder.appendingPathComponent("mine.txt").path
    try text.write(toFile: source, atomically: true, encoding: .utf8)
    let full = folder.appendingPathComponent("full.jsonl").path
    let run = try CLI.run(
      [
        "run", "tiny", "--quiet", "--threads", "1", "--out", full, "--set",
        "datasets.D1=\(source)", "--set", "checkpoints.every=20",
      ])
    try #require(run.status == 0, "\(run.stderr)")
    let lines = try String(contentsOfFile: full, encoding: .utf8).split(separator: "\n")
    #expect(lines[0].contains("\"data\":{\"D0\":\""), "\(lines[0].prefix(300))")
    let forty = try #require(lines.firstIndex { $0.contains("step-40.safetensors") })
    let cut = folder.appendingPathComponent("cut.jsonl").path
    let kept = lines[...forty].joined(separator: "\n") + "\n"
    try kept.write(toFile: cut, atomically: true, encoding: .utf8)

    try (text + "\n\nand a few more words at the end").write(
      toFile: source, atomically: true, encoding: .utf8)
    let refused = try CLI.run(["run", "--resume", cut, "--quiet"])
    #expect(refused.status == 1, "\(refused.stderr)")
    #expect(refused.stderr.contains("the data of D1 is not what the run trained on"))
    #expect(try String(contentsOfFile: cut, encoding: .utf8) == kept)

    try text.write(toFile: source, atomically: true, encoding: .utf8)
    let resumed = try CLI.run(["run", "--resume", cut, "--quiet"])
    #expect(resumed.status == 0, "\(resumed.stderr)")

    // A file holding a completed run and then this unfinished one goes on with the last one.
    let two = folder.appendingPathComponent("two.jsonl").path
    try (lines.joined(separator: "\n") + "\n" + kept).write(
      toFile: two, atomically: true, encoding: .utf8)
    let lastOne = try CLI.run(["run", "--resume", two, "--quiet"])
    #expect(lastOne.status == 0, "\(lastOne.stderr)")
    #expect(lastOne.stderr.contains("holds 2 runs; the last one is resumed"), "\(lastOne.stderr)")
  }

  /// A resume that is refused leaves the file exactly as it was: a text file, a log without a
  /// config, a completed log with a torn tail (a review found each cut at its last line).
  @Test func aRefusedResumeChangesNothing() throws {
    let folder = try CLI.temporaryFolder("refused-resume")
    defer { try? FileManager.default.removeItem(at: folder) }
    let sample = try String(
      contentsOfFile: ReplayScreenTests.sample, encoding: .utf8)
    let headerless = sample.split(separator: "\n").dropFirst().joined(separator: "\n")
    let cases: [(String, String, String)] = [
      ("notes.txt", "line one\nline two without newline", "not a cptui run log"),
      ("no-config.jsonl", headerless + "\n{\"type\":\"st", "no header with a config"),
      ("completed.jsonl", sample + "{\"type\":\"step\",\"sta", "the run already completed"),
    ]
    // --out has no place next to --resume (the run goes on in its own log).
    let withOut = try CLI.run(["run", "--resume", ReplayScreenTests.sample, "--out", "x.jsonl"])
    #expect(withOut.status == 64 && withOut.stderr.contains("give no --out"), "\(withOut.stderr)")
    for command in ["run", "live"] {
      let dash = try CLI.run([command, "tiny", "--out", "-"])
      #expect(dash.status == 64 && dash.stderr.contains("--out -: a run log is a file"))
    }
    #expect(!FileManager.default.fileExists(atPath: "-"))
    for (name, text, message) in cases {
      let path = folder.appendingPathComponent(name).path
      try text.write(toFile: path, atomically: true, encoding: .utf8)
      for command in [["run", "--resume", path, "--quiet"]] {
        let r = try CLI.run(command)
        #expect(r.status == 1, "\(name): \(r.stderr)")
        #expect(r.stderr.contains(message), "\(name): \(r.stderr)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == text, "\(name) changed")
      }
    }
  }

  @Test func aDivergedRunIsNotResumed() throws {
    let folder = try CLI.temporaryFolder("diverged")
    defer { try? FileManager.default.removeItem(at: folder) }
    let log = folder.appendingPathComponent("nan.jsonl").path
    let run = try CLI.run(
      [
        "run", "tiny", "--quiet", "--threads", "1", "--out", log, "--set", "defaults.lrMax=10",
        "--set", "defaults.lrMin=10", "--set", "optimizer.weightDecay=10", "--set",
        "optimizer.gradClip=0", "--set", "checkpoints.every=5",
      ])
    #expect(run.status == 3, "\(run.stderr)")
    #expect(run.stderr.contains("stages.1.lrMax 1e1 is above 5e-2: likely to diverge"))
    // --quiet hides progress, not why the run ended.
    #expect(run.stderr.contains("is NaN at step") || run.stderr.contains("is infinite at step"))
    let text = try String(contentsOfFile: log, encoding: .utf8)
    #expect(text.contains("is NaN at step") || text.contains("is infinite at step"), "\(text)")
    #expect(!text.contains("-nan"))
    let again = try CLI.run(["run", "--resume", log])
    #expect(again.status == 1 && again.stderr.contains("the run diverged"), "\(again.stderr)")
  }

  /// A data cache that cannot be made is one line naming the folder and CPTUI_CACHE.
  @Test func anUnusableCacheNamesTheFolder() throws {
    let out = Self.folder.appendingPathComponent("cache-\(UUID().uuidString.prefix(8))").path
    for command in [["run", "tiny", "--quiet", "--out", out], ["data", "prepare", "synthetic"]] {
      let r = try CLI.run(command, environment: ["CPTUI_CACHE": "/proc/no-such-cache"])
      #expect(r.status == 1, "\(r)")
      #expect(
        r.stderr == "Error: /proc/no-such-cache: no such file or folder (the data cache; "
          + "CPTUI_CACHE chooses another folder)\n", "\(r.stderr)")
    }
  }

  /// `--threads` must be positive; more threads than cores run, with a note saying so.
  @Test func threadsAreChecked() throws {
    for command in ["run", "sweep", "bench"] {
      let zero = try CLI.run([command, "tiny", "--threads", "0"])
      #expect(zero.status == 64 && zero.stderr.contains("--threads must be positive"), "\(zero)")
      // Past OpenBLAS's limit (it ran 64 while the note and cptui's own loops said 1000).
      let huge = try CLI.run([command, "tiny", "--threads", "1000"])
      #expect(
        huge.status == 64 && huge.stderr.contains("--threads must be at most 64, got 1000"),
        "\(huge)")
    }
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let out = Self.folder.appendingPathComponent("threads-\(UUID().uuidString.prefix(8))").path
    let many = try CLI.run(
      [
        "run", "tiny", "--threads", "\(cores + 1)", "--quiet", "--set", "defaults.steps=2", "--out",
        out,
      ])
    #expect(many.status == 0, "\(many.stderr)")
    #expect(many.stderr.contains("more than the \(cores) cores here"), "\(many.stderr)")
  }

  /// On a terminal narrower than the progress line, the line drops parts (tokens/s, ETA) to fit
  /// instead of wrapping: a wrapped line is not redrawn in place and leaves rows behind.
  @Test(.enabled(if: LiveScreenTests.tmuxAvailable), .timeLimit(.minutes(1)))
  func theProgressLineFitsANarrowTerminal() throws {
    let log = Self.folder.appendingPathComponent("narrow-\(UUID().uuidString.prefix(8)).jsonl").path
    let command =
      "env LANG=C.UTF-8 LC_ALL=C.UTF-8 CPTUI_CACHE='\(Self.cache)' '\(CLI.binary)' run tiny "
      + "--threads 1 --set defaults.steps=400 --out '\(log)'; echo CPTUI-EXIT=$?; sleep 60"
    let tmux = try TmuxSession(width: 44, height: 12, command: command)
    defer { tmux.close() }
    // Rows of progress drawings ("stage 1/2 · step 10/800 · … · D0 5.685 D1 5.700"), or of a
    // part of one.
    func progressRows(_ screen: String) -> [String] {
      screen.split(separator: "\n").map(String.init).filter {
        ($0.contains("step ") || $0.contains(" · D0 ")) && !$0.hasPrefix("cptui")
      }
    }
    var seen: Set<String> = []
    let screen = try tmux.waitFor("CPTUI-EXIT=0") { screen in
      seen.formUnion(progressRows(screen))
      return screen.contains("CPTUI-EXIT=0")
    }
    // One progress row, the last drawing: no leftover rows of earlier ones, each drawing whole.
    let rows = progressRows(screen)
    #expect(rows.count == 1 && rows[0].contains("step 800/800"), "\(screen)")
    #expect(
      seen.count > 1
        && seen.allSatisfy { $0.count < 44 && $0.contains("step ") && $0.contains(" D1 ") },
      "\(seen)")
  }

  /// A second Ctrl-C while training leaves at once with 130, never a crash: exit()'s clean-up
  /// freed OpenBLAS's buffers under the trainer thread (a segfault in about 1 try of 5, so 12
  /// tries catch it 14 times in 15). The log stays readable.
  @Test(.timeLimit(.minutes(1)))
  func aSecondSignalLeavesAtOnceWithoutACrash() throws {
    for attempt in 1...12 {
      let log = Self.folder.appendingPathComponent(
        "twice-\(attempt)-\(UUID().uuidString.prefix(6)).jsonl"
      ).path
      let process = Process()
      process.executableURL = URL(fileURLWithPath: CLI.binary)
      process.arguments = ["run", "tiny-live", "--threads", "1", "--quiet", "--out", log]
      process.environment = ProcessInfo.processInfo.environment.merging(["CPTUI_CACHE": Self.cache])
      { $1 }
      process.standardError = FileHandle.nullDevice
      try process.run()
      let deadline = Date().addingTimeInterval(20)
      while Date() < deadline && process.isRunning {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        if text.components(separatedBy: "\"type\":\"step\"").count > 20 { break }
        usleep(5000)
      }
      kill(process.processIdentifier, SIGINT)
      kill(process.processIdentifier, SIGINT)
      process.waitUntilExit()
      #expect(process.terminationReason == .exit, "attempt \(attempt)")
      #expect(process.terminationStatus == 130, "attempt \(attempt)")
      let compare = try CLI.run(["compare", log])
      #expect(compare.status == 0, "attempt \(attempt): \(compare.stderr)")
    }
  }
}
