import ArgumentParser
import Experiment
import Foundation
import RunLog
import Tensor

/// `cptui run`: trains every stage of a config headless and writes the run log.
struct RunCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run",
    abstract: "Train a config's stages without the screen and write the run log.",
    discussion: """
      CONFIG is a YAML file or a preset name (see presets/). Progress goes to stderr as one line; \
      the log (JSONL, docs/runlog.md) is written as the run goes and checkpoints go next to it in \
      RUN.checkpoints/. Ctrl-C (or SIGTERM, or a hang-up unless under nohup) stops at the next step, \
      saving a checkpoint (exit status 128 + the signal: 130 for Ctrl-C); `--resume RUN.jsonl` \
      continues a run that was stopped or killed from its last checkpoint, on the thread count it \
      trained on, with the same losses as an uninterrupted run (refused when a dataset's tokens \
      changed since). A NaN or infinite loss ends the run with exit status 3.
      """)

  @Argument(help: "A config file or a preset name.") var config: String?
  @Option(help: "Run log to write (default: runs/NAME-TIME.jsonl).") var out: String?
  @Option(
    name: .customLong("set"), parsing: .singleValue,
    help: ArgumentHelp(
      "Override a config key, e.g. --set stages.2.replay=25.", valueName: "key=value"))
  var overrides: [String] = []
  @Option(help: "Continue the run of this log from its last checkpoint.") var resume: String?
  @Option(
    help: "Engine threads, 1–64 (default: all cores; with --resume, the count the run trained on).")
  var threads: Int?
  @Flag(help: "No progress line.") var quiet = false

  func validate() throws {
    if config == nil && resume == nil {
      throw ValidationError("give a CONFIG or --resume RUN.jsonl")
    }
    if config != nil && resume != nil {
      throw ValidationError("--resume takes its config from the log; give no CONFIG")
    }
    if resume != nil && !overrides.isEmpty {
      throw ValidationError("--set cannot change a resumed run")
    }
    try RunSupport.checkOut(out)
    if resume != nil && out != nil {
      throw ValidationError("--resume continues the log it is given; give no --out")
    }
    try RunSupport.checkThreads(threads)
  }

  func run() throws {
    _ = StopSignals.shared  // from here on Ctrl-C stops, and never leaves a half-made file
    var threads = self.threads ?? ProcessInfo.processInfo.activeProcessorCount
    let progress = ProgressLine(enabled: !quiet)
    let session: (config: ExperimentConfig, recorder: RunRecorder, checkpoint: String?)
    var checkpointStep: Int?
    var loggedData: JSONValue?
    if let resume {
      let opened = try Self.openForResume(resume)
      loggedData = opened.loggedData
      session = (opened.config, opened.recorder, opened.checkpoint)
      checkpointStep = opened.checkpointStep
      // Said even with --quiet, as sweep says it: where the run goes on from is not progress.
      Self.printNote("resuming \(resume) from its checkpoint at step \(opened.checkpointStep)")
      threads = Self.resumeThreads(given: self.threads, logged: opened.threads, log: resume)
      try RunSupport.checkMemory(opened.config, threads: threads, log: resume)
    } else {
      let config = try RunSupport.loadConfig(self.config!, overrides: overrides, threads: threads)
      if let out { try RunSupport.checkCheckpointFolder(forLog: out) }
      var recorder: RunRecorder?
      // A default name another process took between the check and the create: the next one.
      for attempt in 0..<10 where recorder == nil {
        let path = out ?? RunSupport.defaultLogPath(for: config)
        do {
          recorder = try RunRecorder(path: path, mode: .create)
        } catch {
          if out == nil && attempt < 9 && FileManager.default.fileExists(atPath: path) { continue }
          throw CLIError(describing: error)
        }
      }
      guard let recorder else { throw CLIError("could not choose a run log name under runs/") }
      session = (config, recorder, nil)
    }
    let recorder = session.recorder
    defer { recorder.closeRemovingIfEmpty() }
    let (status, signal) = try HeadlessRun.execute(
      config: session.config, recorder: recorder, checkpoint: session.checkpoint,
      checkpointStep: checkpointStep, loggedData: loggedData, threads: threads, progress: progress)
    if !quiet { printError("cptui: run \(status) — log \(recorder.path)") }
    switch status {
    case .completed: return
    case .stopped:
      // The log ends properly and a checkpoint is saved, but the run did not finish: a script
      // running `cptui run … && next` must not go on (128 + the signal, as a shell reports it).
      printError(
        "cptui: continue with: cptui run --resume \(recorder.path)  (on the screen: cptui --resume)"
      )
      throw ExitCode(128 + (signal ?? SIGINT))
    case .diverged: throw ExitCode(3)
    default: throw ExitCode(1)
    }
  }

  /// The engine threads a resumed run continues on: `--threads` when given (with a note when the
  /// run trained on another count, since losses are bit-identical only for one thread count),
  /// else the count the log last names, else all cores.
  /// `note` takes what the user should know (printed by default; the live screen shows it too).
  static func resumeThreads(
    given: Int?, logged: Int?, log: String, note: (String) -> Void = RunCommand.printNote
  ) -> Int {
    guard let given else {
      guard let logged, logged > 0 else { return ProcessInfo.processInfo.activeProcessorCount }
      // The count it trained on, even on a smaller machine (the losses stay the same); say so.
      if let text = try? RunSupport.threadsNote(logged) {
        note("note: the run trained on \(logged) threads: " + text)
      }
      return logged
    }
    if let logged, logged != given {
      note(
        "note: \(log) trained on \(logged) thread\(logged == 1 ? "" : "s"); on \(given) it "
          + "no longer gives an uninterrupted run's losses: sums are added in another order, and "
          + "the small differences grow over training, to a few hundredths of a loss (leave "
          + "out --threads to continue on \(logged))")
    }
    return given
  }

  /// Readies a resumed log for the run's events (its torn last line cut off): called once every
  /// check of the resume has passed (the checkpoint restored), so that a refused resume leaves
  /// the file as it was.
  static func finishTornTail(of recorder: RunRecorder) throws {
    do {
      try recorder.finishTornTail()
    } catch {
      throw CLIError(describing: error)
    }
  }

  /// The latest `step-N.safetensors` beside `checkpoint` with N past `step` that the log does not
  /// name (`logged`): what a run killed between writing a checkpoint and logging it leaves. The
  /// resume does not trust a file the log does not vouch for, but says it is there.
  static func laterUnloggedCheckpoint(beside checkpoint: String, than step: Int, logged: Set<Int>)
    -> (path: String, step: Int)?
  {
    let folder = URL(fileURLWithPath: checkpoint).deletingLastPathComponent().path
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    let later = names.compactMap { name -> (path: String, step: Int)? in
      guard let match = name.wholeMatch(of: /step-(\d{1,12})\.safetensors/),
        let n = Int(match.output.1), n > step, !logged.contains(n)
      else { return nil }
      return (folder + "/" + name, n)
    }
    return later.max { $0.step < $1.step }
  }

  /// Prints a resume's note to standard error.
  static func printNote(_ text: String) { printError("cptui: " + text) }

  /// What a log needs to resume: its config, an append-mode recorder, the checkpoint to resume
  /// from with the step the log names it for, the engine threads the run last trained on (nil
  /// when the log does not say), and the events it holds (for the live screen's curves).
  static func openForResume(_ path: String, note: (String) -> Void = RunCommand.printNote) throws
    -> (
      config: ExperimentConfig, recorder: RunRecorder, checkpoint: String, checkpointStep: Int,
      threads: Int?, events: [RunEvent], loggedData: JSONValue?
    )
  {
    // The writer's lock first, then the checks: a run that ends between the two can no longer
    // be resumed past its end. (A missing log is not created: the read below says so.)
    var locked: RunRecorder?
    if FileManager.default.fileExists(atPath: path) {
      do {
        locked = try RunRecorder(path: path, mode: .appendAfterChecks)
      } catch {
        throw CLIError(describing: error)
      }
    }
    let contents: RunLogContents
    do {
      contents = try RunLogReader.read(path: path)
    } catch {
      throw CLIError(describing: error)
    }
    guard let recorder = locked else { throw CLIError("\(path): no such run log") }
    // A last line cut off (the run was killed while writing it) is dropped: say so, since it may
    // be the checkpoint line the resume would have started from. The file is changed only once
    // every check below has passed: a refused resume leaves it as it was.
    let torn = contents.tornLastLine
    // Lines the reader could not use (a damaged or hand-edited log) are not part of the resumed
    // run's past: say which, as `compare` and `replay` do (the summary names a torn line too).
    // Said last (before a refusal's error too): the checkpoint a resume falls back to comes first
    // on the live screen's one notice line.
    var later: [String] = contents.warnings.map { "\(path): \($0)" }
    defer { for text in later { note(text) } }
    let damaged = contents.skippedCount > 0 || !contents.unknownTypes.isEmpty
    if damaged, let summary = contents.skippedSummary { later.append("\(path): \(summary)") }
    if torn && !damaged {
      later.append(
        "\(path): its last line was cut off (the run was killed while writing it) and is dropped")
    }
    // A file holding several runs (appended by a script) goes on with its last one.
    let lastRun = contents.lastRunAsWritten
    if lastRun.runs > 1 {
      later.append("\(path): holds \(lastRun.runs) runs; the last one is resumed")
    }
    guard let header = lastRun.header, let configJSON = header.config else {
      throw CLIError("\(path): no header with a config; cannot resume")
    }
    let config: ExperimentConfig
    do {
      config = try RunSupport.loader.parse(logged: configJSON, source: path)
    } catch {
      throw CLIError("\(path): the logged config does not load: \(error)")
    }
    let events = RunLogReader.applyingResumes(lastRun.events)
    if RunSupport.completed(events) {
      throw CLIError(
        "\(path): the run already completed (watch it again with: cptui replay \(path))")
    }
    if let end = events.reversed().lazy.compactMap({ event -> RunEndEvent? in
      if case .runEnd(let end) = event { return end } else { return nil }
    }).first, end.status == .diverged {
      // Its last checkpoint is from before the NaN, and the same steps from it give the same NaN.
      throw CLIError(
        "\(path): the run diverged\(end.step.map { " at step \($0)" } ?? "") (a NaN or infinite "
          + "loss); resuming would diverge again. Run the config again with a lower learning rate")
    }
    // The file in the log's own checkpoint folder, else the path as logged: a copied log (whose
    // logged paths still name the original's folder) resumes from its own checkpoints.
    let folder = RunSupport.checkpointDirectory(forLog: path)
    let logged = events.reversed().compactMap { event -> CheckpointEvent? in
      if case .checkpoint(let c) = event { return c } else { return nil }
    }
    func existing(_ c: CheckpointEvent) -> String? {
      let beside = folder + "/" + URL(fileURLWithPath: c.path).lastPathComponent
      return [beside, c.path].first { FileManager.default.fileExists(atPath: $0) }
    }
    guard let latest = logged.first else {
      throw CLIError(
        "\(path): no checkpoint to resume from ("
          + (torn
            ? "the log names none; its last line, cut off, is dropped" : "the run wrote none")
          + ")")
    }
    guard let found = logged.firstIndex(where: { existing($0) != nil }),
      let checkpoint = existing(logged[found])
    else {
      throw CLIError(
        "\(path): no checkpoint to resume from: the one it names, \(latest.path) (step "
          + "\(latest.step)), is missing"
          + (logged.count == 2 ? ", and so is the earlier one" : "")
          + (logged.count > 2 ? ", and so are the \(logged.count - 1) earlier ones" : ""))
    }
    if found > 0 {
      note(
        "the latest checkpoint, \(latest.path) (step \(latest.step)), is missing; resuming from "
          + "\(checkpoint) (step \(logged[found].step))")
    }
    if let later = laterUnloggedCheckpoint(
      beside: checkpoint, than: logged[found].step, logged: Set(logged.map(\.step)))
    {
      note(
        "\(later.path) (step \(later.step)) is later than any checkpoint the log names (the run "
          + "stopped before logging it, or its line is damaged): it is not used; resuming from "
          + "step \(logged[found].step)")
    }
    try RunSupport.checkCheckpointFolder(forLog: path)
    let resumedThreads = events.reversed().lazy.compactMap { event -> Int? in
      if case .resume(let r) = event { return r.threads } else { return nil }
    }.first
    return (
      config, recorder, checkpoint, logged[found].step, resumedThreads ?? header.machine?.threads,
      lastRun.events, header.data
    )
  }
}
