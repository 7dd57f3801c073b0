// SIGINT, SIGTERM and SIGHUP sent to cptui in tmux while it trains, while the stage panel waits
// between stages, and during `cptui replay`: each must leave a working terminal (the shell runs,
// `stty -a` shows `icanon` and `echo`), exit with 128 + the signal's number, and, for a live run,
// leave a log that ends with runEnd.

import Foundation
import Testing

@Suite(.serialized) struct SignalTests {
  static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

  /// What the pane runs after cptui exits: its status, the terminal modes that matter, a shell.
  static let afterwards =
    "echo CPTUI-EXIT=$?; echo STTY=$(stty -a | tr ' ;' '\\n\\n' | "
    + "grep -x -e icanon -e -icanon -e echo -e -echo | sort | tr '\\n' ,); PS1='$ ' exec sh"

  /// The one child of the pane's shell (cptui), by its parent's id.
  static func cptuiPID(_ tmux: TmuxSession) throws -> Int32 {
    let panePID = tmux.tmux(["list-panes", "-t", tmux.name, "-F", "#{pane_pid}"]).output
      .trimmingCharacters(in: .whitespacesAndNewlines)
    let find = Process()
    let out = Pipe()
    find.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    find.arguments = ["pgrep", "-P", panePID]
    find.standardOutput = out
    try find.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    find.waitUntilExit()
    let pids = text.split(separator: "\n").compactMap { Int32($0) }
    guard pids.count == 1 else { throw TmuxSession.TmuxError("children of the pane: \(text)") }
    return pids[0]
  }

  /// cptui has exited with `status` (the pane prints it as CPTUI-EXIT=…).
  static func expectExitStatus(_ tmux: TmuxSession, _ status: Int32) throws {
    let screen = try tmux.waitFor(text: "CPTUI-EXIT=")
    #expect(screen.contains("CPTUI-EXIT=\(status)\n"), "expected exit status \(status):\n\(screen)")
  }

  /// After the signal: cptui has exited, the terminal modes are sane and the shell echoes.
  static func expectRestoredTerminal(_ tmux: TmuxSession) throws {
    let screen = try tmux.waitFor(text: "STTY=")
    #expect(screen.contains("STTY=echo,icanon,"), "terminal modes after exit:\n\(screen)")
    tmux.send("echo O''K", "Enter")
    try tmux.waitFor("the shell's output") {
      $0.split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces) == "OK" }
    }
  }

  static func expectCompleteLog(_ log: String) {
    let events = LiveScreenTests.events(log)
    #expect(events.first?["type"] as? String == "header")
    #expect(events.last?["type"] as? String == "runEnd", "last event: \(events.last ?? [:])")
  }

  static func startLive(extra: String = "") throws -> (TmuxSession, log: String) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-signal-\(getpid())-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let log = dir.appendingPathComponent("run.jsonl").path
    let command =
      "env LANG=C.UTF-8 LC_ALL=C.UTF-8 CPTUI_CACHE='\(dir.path)/cache' '\(CLI.binary)' tiny-live "
      + "--threads 1 --out '\(log)' \(extra); " + afterwards
    return (try TmuxSession(command: command), log)
  }

  @Test(.enabled(if: LiveScreenTests.tmuxAvailable), .timeLimit(.minutes(1)), arguments: signals)
  func duringTraining(signal: Int32) throws {
    let (tmux, log) = try Self.startLive()
    defer { tmux.close() }
    try tmux.waitFor(text: "1 D0 english")
    try tmux.waitFor(text: "step ")
    kill(try Self.cptuiPID(tmux), signal)
    try Self.expectExitStatus(tmux, 128 + signal)
    try Self.expectRestoredTerminal(tmux)
    Self.expectCompleteLog(log)
  }

  @Test(.enabled(if: LiveScreenTests.tmuxAvailable), .timeLimit(.minutes(1)), arguments: signals)
  func whileTheStagePanelWaits(signal: Int32) throws {
    // Short stages: stage 1 ends within seconds and the panel opens by itself.
    let (tmux, log) = try Self.startLive(extra: "--set defaults.steps=40")
    defer { tmux.close() }
    try tmux.waitFor(text: "next stage settings")
    kill(try Self.cptuiPID(tmux), signal)
    try Self.expectExitStatus(tmux, 128 + signal)
    try Self.expectRestoredTerminal(tmux)
    Self.expectCompleteLog(log)
    let ends = LiveScreenTests.events(log).filter { $0["type"] as? String == "stageEnd" }
    #expect(ends.count == 1)
  }

  @Test(.enabled(if: LiveScreenTests.tmuxAvailable), .timeLimit(.minutes(1)), arguments: signals)
  func duringReplay(signal: Int32) throws {
    let command = "'\(CLI.binary)' replay '\(ReplayScreenTests.sample)'; " + Self.afterwards
    let tmux = try TmuxSession(command: command)
    defer { tmux.close() }
    try tmux.waitFor(text: "stage 2/2")
    kill(try Self.cptuiPID(tmux), signal)
    try Self.expectExitStatus(tmux, 128 + signal)
    try Self.expectRestoredTerminal(tmux)
  }
}
