import ArgumentParser
import Controller
import Experiment
import Foundation
import RunLog
import Screens
import Synchronization
import Tensor
import Terminal

/// Where the trainer's events go: the controller, set once before the trainer thread starts.
private final class EventSink: Sendable {
  let controller = Mutex<LiveController?>(nil)
  func emit(_ event: RunEvent) { controller.withLock { $0 }?.emit(event) }
}

/// `cptui` (no subcommand): trains a config on the live screen, stage by stage from the keyboard.
struct LiveCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "live",
    abstract: "Train on the live screen (the default: `cptui` opens the default experiment).",
    discussion: """
      CONFIG is a YAML file or a preset name (default: the `default` preset). Missing data is \
      prepared first (progress on stderr), then the screen opens: validation losses of every \
      dataset, train loss, the learning rate past and planned, and the next stage's settings. \
      After each stage the stage panel opens: choose dataset, warmup, η max, η min, schedule, \
      replay and length, Enter starts the stage (n opens it early and ends the running stage). \
      q saves a checkpoint and the log and quits; --resume LOG continues it on the screen later \
      (or a run stopped headless). A NaN or infinite loss ends the run: exit status 3 once you \
      quit. Keys: ? on the screen, docs/controller.md.
      """)

  @Argument(help: "A config file or a preset name (default: default).") var config: String?
  @Option(help: "A preset by name (same as giving it as CONFIG).") var preset: String?
  @Option(
    name: .customLong("set"), parsing: .singleValue,
    help: ArgumentHelp(
      "Override a config key, e.g. --set stages.2.replay=25.", valueName: "key=value"))
  var overrides: [String] = []
  @Option(help: "Theme name or .theme file (default: dark).") var theme: String?
  @Option(help: "Engine threads, 1–64 (default: all cores).") var threads: Int?
  @Option(help: "Run log to write (default: runs/NAME-TIME.jsonl).") var out: String?
  @Option(help: "Continue a stopped run's log on the screen (its own config, checkpoint and log).")
  var resume: String?

  func validate() throws {
    if config != nil && preset != nil { throw ValidationError("give CONFIG or --preset, not both") }
    if resume != nil && (config != nil || preset != nil || !overrides.isEmpty || out != nil) {
      throw ValidationError(
        "--resume continues the logged run as it was: give no CONFIG, --preset, --set or --out")
    }
    try RunSupport.checkOut(out)
    // The note goes on the screen's notice line (standard error is hidden behind the screen).
    _ = try RunSupport.threadsNote(threads)
  }

  func run() throws {
    // Everything that can fail fast does so before the terminal is touched.
    let (themes, chosenTheme) = try RunSupport.theme(theme)
    // The screen must be able to open (a terminal, a usable TERM) before a log is made or taken
    // (a resume takes the log's lock and cuts a torn last line) or a step trained.
    // A run that already completed has nothing to continue, headless or not: say so instead.
    // (Read only when the screen cannot open: a big log takes a moment to read.)
    func headlessResume() -> String? {
      resume.map { log in
        RunSupport.runCompleted(log)
          ? "\(log) already completed (`cptui compare \(log)` prints its results)"
          : "`cptui run --resume \(log)` continues it headless"
      }
    }
    func requireScreen() throws {
      guard isatty(0) == 1, isatty(1) == 1 else {
        throw CLIError(
          "the live screen needs a terminal; "
            + (headlessResume() ?? "use `cptui run` for headless training"))
      }
      do {
        try CursesTerminal.checkUsable()
      } catch {
        throw CLIError("\(error)" + (headlessResume().map { "; " + $0 } ?? ""))
      }
    }
    if resume != nil { try requireScreen() }
    // What the resume has to say is printed, and shown on the screen's notice line too (the
    // screen hides what was printed before it until it closes).
    var resumeNotes: [String] = []
    func note(_ text: String) {
      RunCommand.printNote(text)
      resumeNotes.append(text)
    }
    let resumed = try resume.map { try RunCommand.openForResume($0, note: note) }
    let config =
      try resumed?.config
      ?? RunSupport.loadConfig(
        preset ?? self.config ?? "default", overrides: overrides,
        threads: self.threads ?? ProcessInfo.processInfo.activeProcessorCount)
    // A new run's config is checked first: its errors are worth reading even without a terminal.
    if resume == nil { try requireScreen() }
    let threads =
      resumed.map {
        RunCommand.resumeThreads(
          given: self.threads, logged: $0.threads, log: resume ?? "", note: note)
      } ?? self.threads ?? ProcessInfo.processInfo.activeProcessorCount
    if let resume { try RunSupport.checkMemory(config, threads: threads, log: resume) }
    BLAS.threads = threads
    let path = resume ?? out ?? RunSupport.defaultLogPath(for: config)
    if resumed == nil && FileManager.default.fileExists(atPath: path) {
      throw CLIError("\(path) exists; choose another --out")
    }
    try RunSupport.checkCheckpointFolder(forLog: path)
    printError("cptui: preparing the data of \(config.name)…")
    let data = try RunSupport.prepareData(config) { printError("  " + $0) }
    let fingerprints = data.fingerprints(of: config)
    if let resumed, let path = resume {
      try RunSupport.checkDataUnchanged(logged: resumed.loggedData, now: fingerprints, log: path)
    }
    let recorder: RunRecorder
    do {
      recorder = try resumed?.recorder ?? RunRecorder(path: path, mode: .create)
    } catch {
      throw CLIError(describing: error)
    }
    defer { recorder.closeRemovingIfEmpty() }

    let inbox = CommandInbox()
    // The trainer's events go to the controller, made once the state holds a resumed run's past.
    let sink = EventSink()
    let options = TrainerOptions(
      threads: threads, checkpointDirectory: RunSupport.checkpointDirectory(forLog: path),
      waitBetweenStages: true, pauseOnCheckpointFailure: true,
      logIsComplete: { recorder.failure == nil })
    let trainer = try Trainer(
      config: config, data: data, options: options, inbox: inbox, loader: RunSupport.loader
    ) { sink.emit($0) }
    var state = RunState(config: config, interactive: true)
    let notices = resumeNotes + [try RunSupport.threadsNote(self.threads)].compactMap { $0 }
    state.externalNotice = notices.isEmpty ? nil : notices.joined(separator: " · ")
    if let resumed {
      let checkpoint = resumed.checkpoint
      try trainer.restore(checkpoint: checkpoint, loggedStep: resumed.checkpointStep)
      // Only now, with every check passed, is the log touched (its torn last line cut off).
      try RunCommand.finishTornTail(of: recorder)
      let event = RunEvent.resume(
        HeadlessRun.resumeEvent(of: trainer, checkpoint: checkpoint, threads: threads))
      recorder.record(event)
      state.applyHistory(
        RunLogReader.inOrder(RunLogReader.applyingResumes(resumed.events + [event])).events)
    }
    let controller = LiveController(
      state: state,
      record: { recorder.record($0) },
      recorderFailure: { recorder.failure.map { "\($0)" } },
      sendToTrainer: { inbox.send($0) })
    sink.controller.withLock { $0 = controller }
    if resumed == nil {
      controller.emit(
        .header(
          RunRecorder.header(
            for: config, threads: threads, version: CPTUIVersion.string,
            command: CommandLine.arguments, data: fingerprints)))
    }

    let controllerDone = DispatchSemaphore(value: 0)
    Task.detached {
      await controller.run()
      controllerDone.signal()
    }
    let trainerThread = Thread {
      _ = trainer.run()
      controller.finishInput()
    }
    trainerThread.name = "cptui trainer"
    trainerThread.stackSize = 8 << 20
    trainerThread.start()

    let outcome: ScreenLoop.Outcome
    do {
      outcome = try ScreenLoop.run(
        mailbox: controller.mailbox, themes: themes, theme: chosenTheme
      ) { controller.send($0) }
    } catch {
      // The terminal is restored; stop the trainer so the log still ends properly.
      controller.send(.quit)
      controllerDone.wait()
      throw CLIError(describing: error)
    }
    if outcome.forced {
      printError("cptui: quit before the run finished saving — log \(path) may lack its end")
      recorder.close()
      // A second q is not a signal: exit 1, the run did not end as it should. At once: the
      // trainer thread is still in OpenBLAS (exit() crashed, leaving a backtrace prompt on the
      // terminal just restored).
      CStreams.exitAtOnce(outcome.signalExitStatus ?? 1)
    }
    controllerDone.wait()
    if let failure = recorder.failure { throw CLIError("run log: \(failure)") }
    let finalModel = controller.mailbox.take().value.model
    let final = finalModel.status
    if final.endedAs == "diverged" {
      // As `run` does: the reason (the trainer's error, the notice line's last entry) and exit 3.
      printError("cptui: run diverged at step \(final.step) — log \(path)")
      if let reason = finalModel.notices.last, !reason.hasPrefix("run ended") {
        printError("cptui: \(reason)")
      }
      throw ExitCode(3)
    }
    printError("cptui: run ended at step \(final.step) — log \(path)")
    // Quit before the plan's end (its last checkpoint is in the log): say how to go on.
    if final.endedAs == "stopped" {
      printError(
        "cptui: continue on the screen with: cptui --resume \(path)  (headless: cptui run --resume)"
      )
    }
    // Stopped by a signal: the log is complete, but the caller learns the run did not just finish.
    if let status = outcome.signalExitStatus { throw ExitCode(status) }
  }
}
