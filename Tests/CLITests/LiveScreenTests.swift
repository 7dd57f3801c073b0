// End-to-end tests of the live screen: the real binary in a private tmux server, keys sent with
// `send-keys`, the screen read with `capture-pane`, polling (no fixed sleeps) with a time limit.

import Foundation
import Testing

/// A private tmux server (its own socket) with one session; killed by `close()`.
final class TmuxSession {
  let socket: String
  let name = "live"
  let tempDir: URL

  init(width: Int = 120, height: Int = 40, command: String) throws {
    socket = "cptui-test-\(getpid())-\(UUID().uuidString.prefix(8))"
    tempDir = FileManager.default.temporaryDirectory.appendingPathComponent(socket)
    try FileManager.default.createDirectory(at: tempDir, withIntermediateDirectories: true)
    let result = tmux([
      "new-session", "-d", "-s", name, "-x", "\(width)", "-y", "\(height)", command,
    ])
    guard result.status == 0 else {
      throw TmuxError("tmux new-session failed (status \(result.status)): \(result.output)")
    }
  }

  struct TmuxError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
  }

  /// Runs `tmux -u -L SOCKET ARGS…` and returns its status and output. Spawned directly (not with
  /// `Process`): the server that `new-session` starts outlives the call and must not hold a pipe
  /// we read to its end; output goes through a file instead.
  @discardableResult
  func tmux(_ arguments: [String]) -> (status: Int32, output: String) {
    let outPath = tempDir.appendingPathComponent("tmux-\(UUID().uuidString.prefix(8)).out").path
    defer { unlink(outPath) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let argv = (["tmux", "-u", "-L", socket] + arguments).map { strdup($0) }
    defer { for a in argv { free(a) } }
    // Test threads block most signals and a spawned process inherits the mask: tmux and the
    // programs in its panes would never see SIGWINCH, SIGHUP or SIGTERM. Start them clean.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigmask(&attributes, &none)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for sig in [SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGPIPE, SIGCHLD] { sigaddset(&defaults, sig) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(
      &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var pid: pid_t = 0
    let spawned = posix_spawnp(&pid, "tmux", &actions, &attributes, argv + [nil], environ)
    guard spawned == 0 else { return (-1, "posix_spawnp: \(spawned)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    let output = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    let exited = (status & 0x7f) == 0
    return (exited ? (status >> 8) & 0xff : -1, output)
  }

  func screen() -> String { tmux(["capture-pane", "-p", "-t", name]).output }

  /// Sends keys as tmux names them (`Enter`, `q`, `R`), one call per key.
  func send(_ keys: String...) {
    for k in keys { tmux(["send-keys", "-t", name, k]) }
  }

  func resize(width: Int, height: Int) {
    tmux(["resize-window", "-t", name, "-x", "\(width)", "-y", "\(height)"])
  }

  /// Polls the screen until `condition` holds; fails the test (and throws) after `timeout` seconds.
  @discardableResult
  func waitFor(
    _ what: String, timeout: Double = 30, sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: (String) -> Bool
  ) throws -> String {
    let deadline = Date().addingTimeInterval(timeout)
    var last = ""
    FileHandle.standardError.write(Data("[tmux] waiting for \(what)\n".utf8))
    while Date() < deadline {
      last = screen()
      if condition(last) { return last }
      usleep(100_000)
    }
    Issue.record(
      "timed out after \(Int(timeout)) s waiting for \(what); screen:\n\(last)",
      sourceLocation: sourceLocation)
    throw TmuxError("timed out waiting for \(what)")
  }

  @discardableResult
  func waitFor(
    text: String, timeout: Double = 30, sourceLocation: SourceLocation = #_sourceLocation
  ) throws -> String {
    try waitFor("`\(text)`", timeout: timeout, sourceLocation: sourceLocation) {
      $0.contains(text)
    }
  }

  func close() {
    tmux(["kill-server"])
    try? FileManager.default.removeItem(at: tempDir)
  }
}

@Suite(.serialized) struct LiveScreenTests {
  static var tmuxAvailable: Bool {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["tmux", "-V"]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    do {
      try p.run()
      p.waitUntilExit()
      return p.terminationStatus == 0
    } catch { return false }
  }

  /// Starts `cptui tiny-live` in tmux; after it exits, a shell takes over the pane so the test
  /// can check that the terminal works again.
  static func start(environment: [String: String], extra: String = "") throws -> (
    TmuxSession, log: String
  ) {
    var session: TmuxSession?
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-live-\(getpid())-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let log = dir.appendingPathComponent("run.jsonl").path
    var env = ["CPTUI_CACHE": dir.appendingPathComponent("cache").path]
    env.merge(environment) { $1 }
    let assignments = env.sorted { $0.key < $1.key }.map { "\($0.key)='\($0.value)'" }
      .joined(separator: " ")
    let command =
      "env \(assignments) '\(CLI.binary)' tiny-live --threads 1 --out '\(log)' \(extra); "
      + "echo CPTUI-EXIT=$?; PS1='$ ' exec sh"
    session = try TmuxSession(command: command)
    return (session!, log)
  }

  static func events(_ log: String) -> [[String: Any]] {
    let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    return text.split(separator: "\n").compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
  }

  /// The whole story in one session: curves and legend, replay chosen with R, `n` + Enter starts
  /// stage 2 with it (screen and log), a resize to 30×8 and back, `q` + `y` leaves a complete log
  /// and a working shell.
  func session(environment: [String: String], unicode: Bool) throws {
    let (tmux, log) = try Self.start(environment: environment)
    defer { tmux.close() }
    try tmux.waitFor(text: "1 D0 english")
    try tmux.waitFor(text: "2 D1 german")
    // Curves: braille dots (UTF-8) or the ASCII dot characters, after a few evaluations.
    try tmux.waitFor("a curve") { screen in
      let chart = screen.split(separator: "\n").dropFirst(2).prefix(20).joined()
      return unicode
        ? chart.unicodeScalars.contains { $0.value > 0x2800 && $0.value <= 0x28FF }
        : chart.contains("'") || chart.contains(".")
    }
    try tmux.waitFor(text: "step ")
    // Replay 0 % → 0.5 % → 1 % in the next-stage settings.
    tmux.send("R")
    tmux.send("R")
    try tmux.waitFor(text: "replay   1%")
    tmux.send("n")
    try tmux.waitFor(text: "next stage settings")
    tmux.send("Enter")
    try tmux.waitFor(text: "stage 2/2")
    try tmux.waitFor(text: "r1%")
    let starts = Self.events(log).filter { $0["type"] as? String == "stageStart" }
    #expect(starts.count == 2)
    #expect(starts.last?["replayPercent"] as? Double == 1)
    #expect(starts.last?["dataset"] as? String == "D1")
    #expect(starts.last?["replayFrom"] as? [String] == ["D0"])

    tmux.resize(width: 30, height: 8)
    try tmux.waitFor(text: "terminal too small")
    tmux.resize(width: 120, height: 40)
    try tmux.waitFor("the screen back") {
      $0.contains("validation loss") && !$0.contains("terminal too small")
    }

    tmux.send("q")
    try tmux.waitFor(text: "Stop training and quit?")
    tmux.send("y")
    let after = try tmux.waitFor(text: "CPTUI-EXIT=0")
    // Stopped before the plan's end: the way on is printed, as `cptui run` prints it.
    #expect(after.contains("continue on the screen with: cptui --resume"), "\(after)")
    let events = Self.events(log)
    #expect(events.first?["type"] as? String == "header")
    #expect(events.last?["type"] as? String == "runEnd")
    #expect(events.last?["status"] as? String == "stopped")
    #expect(events.contains { $0["type"] as? String == "checkpoint" })
    // The terminal is restored: the shell echoes what we type.
    tmux.send("echo O''K", "Enter")
    try tmux.waitFor("the shell's output") {
      $0.split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces) == "OK" }
    }
  }

  @Test(.enabled(if: LiveScreenTests.tmuxAvailable), .timeLimit(.minutes(2)))
  func liveSessionUTF8() throws {
    try session(environment: ["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"], unicode: true)
  }

  @Test(.enabled(if: LiveScreenTests.tmuxAvailable), .timeLimit(.minutes(2)))
  func liveSessionASCIIWithoutColour() throws {
    try session(environment: ["LANG": "C", "LC_ALL": "C", "NO_COLOR": "1"], unicode: false)
  }

  /// A run quit at the stage panel continues on the screen (`cptui --resume LOG`): the past
  /// curves are drawn, the panel opens again, Enter trains stage 2, and the run ends with the
  /// same evaluation losses as the config trained headless in one go.
  @Test(.enabled(if: LiveScreenTests.tmuxAvailable), .timeLimit(.minutes(2)))
  func aStoppedRunContinuesOnTheScreen() throws {
    let short = "--set defaults.steps=120 --set evaluation.every=40"
    let (first, log) = try Self.start(
      environment: ["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"], extra: short)
    try first.waitFor(text: "next stage settings")
    first.send("q")
    try first.waitFor(text: "Quit between stages?")
    first.send("y")
    try first.waitFor(text: "CPTUI-EXIT=0")
    first.close()

    let torn = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
    try torn.seekToEnd()
    try torn.write(contentsOf: Data("{\"type\":\"ste".utf8))
    try torn.close()
    let cache = URL(fileURLWithPath: log).deletingLastPathComponent().appendingPathComponent(
      "cache")
    let second = try TmuxSession(
      command: "env CPTUI_CACHE='\(cache.path)' LANG=C.UTF-8 LC_ALL=C.UTF-8 '\(CLI.binary)' "
        + "--resume '\(log)'; echo CPTUI-EXIT=$?; PS1='$ ' exec sh")
    defer { second.close() }
    // The past is drawn (stage 1's curve and legend), and the panel waits for stage 2; what the
    // resume had to say (a torn last line, appended above) is on the notice line, not only
    // behind the screen.
    let resumed = try second.waitFor(text: "next stage settings")
    #expect(resumed.contains("1 D0 english") && resumed.contains("[waiting]"), "\(resumed)")
    #expect(resumed.contains("its last line was cut off"), "\(resumed)")
    second.send("Enter")
    try second.waitFor(text: "stage 2/2")
    try second.waitFor(text: "next stage settings")  // stage 2 ended: the plan is done
    second.send("q")
    try second.waitFor(text: "Every planned stage is done. Quit?")
    second.send("y")
    try second.waitFor(text: "CPTUI-EXIT=0")

    let events = Self.events(log)
    #expect(events.filter { $0["type"] as? String == "resume" }.count == 1)
    #expect(events.last?["type"] as? String == "runEnd")
    #expect(events.last?["status"] as? String == "completed")
    let headless = URL(fileURLWithPath: log).deletingLastPathComponent()
      .appendingPathComponent("headless.jsonl").path
    let run = try CLI.run(
      ["run", "tiny-live", "--quiet", "--threads", "1", "--out", headless]
        + short.split(separator: " ").map(String.init),
      environment: ["CPTUI_CACHE": cache.path])
    #expect(run.status == 0, "\(run.stderr)")
    func evals(_ path: String) -> [[String: Double]] {
      Self.events(path).filter { $0["type"] as? String == "eval" }.compactMap {
        guard var losses = $0["losses"] as? [String: Double] else { return nil }
        losses["step"] = ($0["step"] as? Double) ?? -1
        return losses
      }
    }
    #expect(!evals(log).isEmpty && evals(log) == evals(headless))
  }

  @Test(.enabled(if: LiveScreenTests.tmuxAvailable), .timeLimit(.minutes(1)))
  func sigtermSavesTheLogAndRestoresTheTerminal() throws {
    let (tmux, log) = try Self.start(environment: ["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"])
    defer { tmux.close() }
    try tmux.waitFor(text: "1 D0 english")
    kill(try SignalTests.cptuiPID(tmux), SIGTERM)
    // Saved and ended cleanly, with the status a shell gives a program SIGTERM stopped.
    try tmux.waitFor(text: "CPTUI-EXIT=\(128 + SIGTERM)")
    let events = Self.events(log)
    #expect(events.last?["type"] as? String == "runEnd")
  }

  /// A second `q` while the run saves leaves at once: the message says the log may lack its end,
  /// and the exit status is 1 (not 130: no Ctrl-C came), the terminal restored.
  @Test(.enabled(if: LiveScreenTests.tmuxAvailable), .timeLimit(.minutes(1)))
  func aSecondQWhileSavingLeavesAtOnceWithStatusOne() throws {
    let (tmux, _) = try Self.start(environment: ["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"])
    defer { tmux.close() }
    try tmux.waitFor(text: "1 D0 english")
    try tmux.waitFor(text: "step ")
    tmux.send("q")
    try tmux.waitFor(text: "Stop training and quit?")
    tmux.send("yq")  // one write: the second q is read before the run can end
    let after = try tmux.waitFor(text: "CPTUI-EXIT=")
    #expect(after.contains("quit before the run finished saving"), "\(after)")
    #expect(after.contains("CPTUI-EXIT=1\n"), "\(after)")
    // The terminal is restored: the shell echoes what we type.
    tmux.send("echo O''K", "Enter")
    try tmux.waitFor("the shell's output") {
      $0.split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces) == "OK" }
    }
  }

  /// A run that diverges on the screen ends as `run` does: the reason on stderr and exit 3; the
  /// screen offers no next stage or pause after it, and `n` says why.
  @Test(.enabled(if: LiveScreenTests.tmuxAvailable), .timeLimit(.minutes(1)))
  func aDivergedRunSaysSoAndExitsThree() throws {
    let (tmux, _) = try Self.start(
      environment: [:],
      extra:
        "--set defaults.lrMax=10 --set defaults.lrMin=10 --set optimizer.weightDecay=10 "
        + "--set optimizer.gradClip=0")
    defer { tmux.close() }
    let ended = try tmux.waitFor(text: "run ended: diverged")
    let hints = ended.split(separator: "\n").last { $0.contains("[q]") } ?? ""
    #expect(!hints.contains("[n]") && !hints.contains("pause"), "\(hints)")
    tmux.send("n")
    try tmux.waitFor(text: "no stage can start")
    tmux.send("q")
    let after = try tmux.waitFor(text: "CPTUI-EXIT=3")
    #expect(after.contains("cptui: run diverged at step"), "\(after)")
    #expect(after.contains("NaN") || after.contains("infinite"), "\(after)")
  }

  @Test func badThemeIsOneLineAndNonZero() throws {
    let r = try CLI.run(["tiny-live", "--theme", "no-such-theme"])
    #expect(r.status != 0)
    #expect(r.stderr.contains("no theme named"))
    #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    // A binary file, and a very long bad line: still one short line naming the file.
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-bad-theme-\(getpid())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let binary = folder.appendingPathComponent("binary.theme").path
    try Data([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1] + Array(repeating: 0, count: 2000))
      .write(to: URL(fileURLWithPath: binary))
    let long = folder.appendingPathComponent("long.theme").path
    try String(repeating: "x", count: 5000).write(toFile: long, atomically: true, encoding: .utf8)
    for (path, expected) in [(binary, "binary data"), (long, "expected `role = colour")] {
      let bad = try CLI.run(["tiny-live", "--theme", path])
      #expect(bad.status != 0)
      #expect(
        bad.stderr.hasPrefix("Error: \(path)") && bad.stderr.contains(expected), "\(bad.stderr)")
      #expect(bad.stderr.count < 300, "\(bad.stderr)")
    }
  }

  @Test func badConfigIsOneLineAndNonZero() throws {
    let r = try CLI.run(["no-such-preset"])
    #expect(r.status != 0)
    #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
  }
}
