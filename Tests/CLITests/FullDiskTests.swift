// A full disk under `cptui run`: a 1 MiB tmpfs holds the log and checkpoints. Running out of space
// while checkpointing or while logging stops the run with exit status 75 and a message saying how
// to resume; every line in the log is whole; after space is freed (the tmpfs grown) `--resume`
// finishes the run with the same losses as an uninterrupted one. Needs root (mount); skipped
// with a message otherwise.

import Foundation
import Testing

@Suite(.serialized) struct FullDiskTests {
  static let args = ["--quiet", "--threads", "1", "--set", "defaults.steps=200"]

  /// Runs a system command; true when it exits 0.
  @discardableResult
  static func system(_ arguments: [String]) -> Bool {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = arguments
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return false }
    p.waitUntilExit()
    return p.terminationStatus == 0
  }

  /// A 1 MiB tmpfs, or nil (with a message) when mounting is not permitted here.
  static func mountSmallDisk() -> String? {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-full-\(getpid())-\(UUID().uuidString.prefix(6))"
    ).path
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    guard getuid() == 0, system(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir]) else {
      FileHandle.standardError.write(
        Data("FullDiskTests skipped: cannot mount a tmpfs here (needs root)\n".utf8))
      return nil
    }
    return dir
  }

  static func freeBytes(_ dir: String) -> Int {
    var s = statvfs()
    guard statvfs(dir, &s) == 0 else { return 0 }
    return Int(s.f_bavail) * Int(s.f_frsize)
  }

  /// Every line of the log is a whole JSON object (nothing half-written).
  static func expectWholeLines(_ log: String) throws {
    let text = try String(contentsOfFile: log, encoding: .utf8)
    #expect(text.hasSuffix("\n"))
    for line in text.split(separator: "\n") {
      #expect(
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "partial line: \(line)")
    }
  }

  /// The uninterrupted run's losses (in the ordinary temporary folder).
  static func reference(cache: String, extra: [String]) throws -> (steps: [String], evals: [String])
  {
    let log = FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-full-ref-\(getpid())-\(UUID().uuidString.prefix(6)).jsonl"
    ).path
    let r = try CLI.run(
      ["run", "tiny", "--out", log] + args + extra, environment: ["CPTUI_CACHE": cache])
    #expect(r.status == 0, "\(r.stderr)")
    return try RunCLITests.losses(log)
  }

  /// Fills the disk until `dir` fails, checks the stop, grows the disk, resumes, compares.
  func fillAndResume(extra: [String], leave: Int?) throws -> String {
    guard let dir = Self.mountSmallDisk() else { return "" }
    defer { Self.system(["umount", "-l", dir]) }
    let cache = FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-full-cache-\(getpid())"
    ).path
    let expected = try Self.reference(cache: cache, extra: extra)
    if let leave {
      // Take all but `leave` bytes of the disk with a filler file.
      let size = max(0, Self.freeBytes(dir) - leave)
      #expect(FileManager.default.createFile(atPath: dir + "/filler", contents: Data(count: size)))
    }
    let log = dir + "/run.jsonl"
    let full = try CLI.run(
      ["run", "tiny", "--out", log] + Self.args + extra, environment: ["CPTUI_CACHE": cache])
    #expect(full.status == 75, "\(full.stderr)")
    #expect(full.stderr.contains("No space left on device"), "\(full.stderr)")
    #expect(full.stderr.contains("cptui run --resume \(log)"), "\(full.stderr)")
    try Self.expectWholeLines(log)
    // Free space (grow the tmpfs), then resume to the end.
    #expect(Self.system(["mount", "-o", "remount,size=8m", dir]))
    let resumed = try CLI.run(
      ["run", "--resume", log, "--quiet", "--threads", "1"], environment: ["CPTUI_CACHE": cache])
    #expect(resumed.status == 0, "\(resumed.stderr)")
    try Self.expectWholeLines(log)
    let got = try RunCLITests.losses(log)
    #expect(got.steps == expected.steps)
    #expect(got.evals == expected.evals)
    return full.stderr
  }

  @Test func fullDiskWhileCheckpointing() throws {
    // Two 0.5 MB checkpoints do not fit in 1 MiB: the second periodic one fails.
    let message = try fillAndResume(extra: ["--set", "checkpoints.every=25"], leave: nil)
    if !message.isEmpty { #expect(message.contains("checkpoint not written")) }
  }

  @Test func fullDiskWhileLogging() throws {
    // Room for the step-100 checkpoint and about 40 KB of log: the log fills first.
    let message = try fillAndResume(
      extra: ["--set", "checkpoints.every=100"], leave: 514 * 1024 + 40 * 1024)
    // The log fails first; the checkpoint the stop then asks for may fail as well.
    if !message.isEmpty {
      #expect(message.contains("run log:") || message.contains("checkpoint not written"))
    }
  }

  /// A file where the checkpoint folder must go: the run is refused before it trains (a review
  /// had it train a whole stage, fail at the first checkpoint, then refuse the same command
  /// because the log existed), the file named and left alone, no log made.
  @Test func aFileInPlaceOfTheCheckpointFolder() throws {
    let folder = try CLI.temporaryFolder("checkpoint-folder").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let log = folder + "/run.jsonl"
    try "x".write(toFile: folder + "/run.checkpoints", atomically: true, encoding: .utf8)
    let r = try CLI.run(
      ["run", "tiny", "--out", log, "--threads", "1", "--set", "checkpoints.every=10"])
    #expect(r.status == 1, "\(r)")
    #expect(r.stderr.contains("run.checkpoints: a file (or a link to no folder) stands where"))
    #expect(!FileManager.default.fileExists(atPath: log))
    #expect(try String(contentsOfFile: folder + "/run.checkpoints", encoding: .utf8) == "x")
    // A link to nothing is refused the same way (following it, a folder could not be made).
    let linked = folder + "/linked.jsonl"
    try FileManager.default.createSymbolicLink(
      atPath: folder + "/linked.checkpoints", withDestinationPath: "/nonexistent/place")
    let l = try CLI.run(["run", "tiny", "--out", linked, "--threads", "1", "--quiet"])
    #expect(l.status == 1 && l.stderr.contains("linked.checkpoints: a file (or a link"), "\(l)")
    // A log name that leaves no room for ".checkpoints" (it trained a stage, then failed at the
    // first checkpoint with advice to free space) is refused before training.
    let long = folder + "/" + String(repeating: "a", count: 245) + ".jsonl"
    let n = try CLI.run(["run", "tiny", "--out", long, "--threads", "1", "--quiet"])
    #expect(n.status == 1 && n.stderr.contains("the log's name is too long"), "\(n)")
    #expect(n.stderr.contains("choose a shorter --out"), "\(n)")
    #expect(!FileManager.default.fileExists(atPath: long))
  }

  /// `cptui tiny-live` in tmux with its log in `dir` and `settings` (`--set …` text); the shell
  /// that takes over prints its exit status.
  static func liveRun(on dir: String, _ settings: String) throws -> (TmuxSession, String) {
    let log = dir + "/run.jsonl"
    let cache = FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-full-cache-\(getpid())"
    ).path
    let command =
      "env LANG=C.UTF-8 LC_ALL=C.UTF-8 CPTUI_CACHE='\(cache)' '\(CLI.binary)' tiny-live "
      + "--threads 1 --out '\(log)' \(settings); " + SignalTests.afterwards
    return (try TmuxSession(command: command), log)
  }

  /// Grows the disk, presses space, waits for stage 1 to end and quits there (exit 0); returns
  /// the log's events after checking that every line is whole.
  static func freeSpaceAndQuitAtTheStageEnd(_ tmux: TmuxSession, dir: String, log: String) throws
    -> [[String: Any]]
  {
    #expect(system(["mount", "-o", "remount,size=16m", dir]))
    tmux.send("Space")
    try tmux.waitFor(text: "next stage settings")
    tmux.send("q")
    try tmux.waitFor(text: "Quit between stages?")
    tmux.send("y")
    try tmux.waitFor(text: "CPTUI-EXIT=0")
    try expectWholeLines(log)
    return LiveScreenTests.events(log)
  }

  @Test(.enabled(if: LiveScreenTests.tmuxAvailable), .timeLimit(.minutes(2)))
  func liveScreenPausesUntilThereIsSpace() throws {
    // tiny-live's checkpoint (about 1.4 MB) does not fit in 1 MiB: the step-20 one fails.
    guard let dir = Self.mountSmallDisk() else { return }
    defer { Self.system(["umount", "-l", dir]) }
    let (tmux, log) = try Self.liveRun(
      on: dir, "--set defaults.steps=40 --set checkpoints.every=20")
    defer { tmux.close() }
    try tmux.waitFor(text: "checkpoint not written")
    // The checkpoint is retried and the run goes on to the end of stage 1.
    let events = try Self.freeSpaceAndQuitAtTheStageEnd(tmux, dir: dir, log: log)
    #expect(events.contains { $0["type"] as? String == "checkpoint" && $0["step"] as? Int == 20 })
    #expect(events.last?["type"] as? String == "runEnd")
  }

  /// The run log itself cannot be written: the live screen pauses training and says so; once
  /// space is freed, space resumes, and the log has every step (the writer kept the lines that
  /// failed and wrote them later), each line whole.
  @Test(.enabled(if: LiveScreenTests.tmuxAvailable), .timeLimit(.minutes(2)))
  func liveScreenPausesWhenTheLogCannotBeWritten() throws {
    guard let dir = Self.mountSmallDisk() else { return }
    defer { Self.system(["umount", "-l", dir]) }
    // About 40 KB left: the log fills after a couple of hundred steps; no checkpoints at all.
    let size = max(0, Self.freeBytes(dir) - 40 * 1024)
    #expect(FileManager.default.createFile(atPath: dir + "/filler", contents: Data(count: size)))
    let (tmux, log) = try Self.liveRun(
      on: dir, "--set defaults.steps=600 --set checkpoints.stageEnd=false")
    defer { tmux.close() }
    let paused = try tmux.waitFor(text: "training paused")
    #expect(paused.contains("run log:") && paused.contains("[paused]"), "\(paused)")
    let events = try Self.freeSpaceAndQuitAtTheStageEnd(tmux, dir: dir, log: log)
    let steps = events.compactMap { $0["type"] as? String == "step" ? $0["step"] as? Int : nil }
    #expect(steps == Array(1...600), "every step logged once, in order")
    #expect(events.last?["type"] as? String == "runEnd")
  }
}
