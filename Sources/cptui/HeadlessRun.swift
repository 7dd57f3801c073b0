import ArgumentParser
import Experiment
import Foundation
import RunLog
import Tensor

/// One headless training run into a log: shared by `run` and `sweep`.
enum HeadlessRun {
  /// Exit status of a run stopped because its log or a checkpoint could not be written (75,
  /// EX_TEMPFAIL: try again later, with `--resume`).
  static let writeFailureStatus: Int32 = 75

  /// The event a resumed run logs first: where `trainer`, restored from `checkpoint`, goes on.
  static func resumeEvent(of trainer: Trainer, checkpoint: String, threads: Int) -> ResumeEvent {
    let step = trainer.globalStepForResume
    return ResumeEvent(
      step: step, tokens: step * trainer.config.tokensPerStep, checkpoint: checkpoint,
      threads: threads, stageEnded: trainer.restoredStageEnded, time: trainer.elapsedSeconds)
  }

  /// Trains `config` (or resumes from `checkpoint`) with events going to `recorder` and `progress`.
  /// Ctrl-C (SIGINT) or SIGTERM stops at the next step with a checkpoint. Returns how the run ended
  /// and the signal that stopped it, if one did.
  static func execute(
    config: ExperimentConfig, recorder: RunRecorder, checkpoint: String?,
    checkpointStep: Int? = nil, loggedData: JSONValue? = nil, threads: Int,
    progress: ProgressLine, stoppedPreparing: @escaping @Sendable () -> Void = {}
  ) throws -> (status: RunEndStatus, signal: Int32?) {
    BLAS.threads = threads
    // A stop while the data is prepared (downloads, tokenizer training: minutes, and nothing to
    // checkpoint yet) ends the process at once; a new run's log, still empty, is removed so that
    // the same command can run again.
    let signals = StopSignals.shared
    if let earlier = signals.received { throw ExitCode(128 + earlier) }  // before anything ran
    signals.watch(notice: "stopped while preparing the data; nothing was trained") { signal in
      recorder.closeRemovingIfEmpty()
      stoppedPreparing()
      CStreams.exitAtOnce(128 + signal)  // the data is still being prepared on another thread
    }
    defer { signals.unwatch() }
    let data = try RunSupport.prepareData(config) { progress.message($0) }
    let fingerprints = data.fingerprints(of: config)
    if checkpoint != nil {
      try RunSupport.checkDataUnchanged(logged: loggedData, now: fingerprints, log: recorder.path)
    }
    let inbox = CommandInbox()
    // From here a stop waits in the inbox: a run stopped before its first step still ends with a
    // checkpoint and a whole log (not a header alone).
    signals.watch { _ in inbox.send(.stop) }
    let options = TrainerOptions(
      threads: threads, checkpointDirectory: RunSupport.checkpointDirectory(forLog: recorder.path),
      logIsComplete: { recorder.failure == nil })
    // A log line or a checkpoint that cannot be written (a full disk) stops the run at the next
    // step; the log keeps every whole line and `--resume` continues once there is space.
    var stopping = false
    var writeError: String?
    let trainer = try Trainer(
      config: config, data: data, options: options, inbox: inbox, loader: RunSupport.loader
    ) { event in
      recorder.record(event)
      progress.update(with: event)
      if case .error(let e) = event, e.message.hasPrefix(CheckpointWriteError.prefix) {
        writeError = e.message
      }
      if !stopping, let failure = recorder.failure {
        stopping = true
        progress.message("cannot write the run log (\(failure.message)); stopping at the next step")
        inbox.send(.stop)
      }
    }
    if let checkpoint {
      try trainer.restore(checkpoint: checkpoint, loggedStep: checkpointStep)
      // Only now, with every check passed, is the log touched (its torn last line cut off).
      try RunCommand.finishTornTail(of: recorder)
      recorder.record(
        .resume(Self.resumeEvent(of: trainer, checkpoint: checkpoint, threads: threads)))
    } else {
      recorder.record(
        .header(
          RunRecorder.header(
            for: config, threads: threads, version: CPTUIVersion.string,
            command: CommandLine.arguments, data: fingerprints)))
    }
    progress.configure(
      config: trainer.config, endStep: checkpoint != nil ? trainer.plannedEndStep : nil)
    let status = trainer.run()
    signals.unwatch()
    progress.finish()
    if let problem = recorder.failure.map({ "run log: \($0)" }) ?? writeError {
      // A checkpoint that failed was already reported by its error event on the progress line.
      if recorder.failure != nil { printError("cptui: \(problem)") }
      let stopped =
        "cptui: training stopped at step \(trainer.globalStepForResume); the log keeps every "
        + "whole line written."
      // This process's last checkpoint, else (a resumed run) the one it resumed from.
      if let from = recorder.lastLoggedCheckpoint?.step
        ?? (checkpoint != nil ? checkpointStep : nil)
      {
        printError(
          """
          \(stopped) Free some space, then continue from its checkpoint of step \(from) with:
            cptui run --resume \(recorder.path)
          """)
      } else {
        printError(
          """
          \(stopped) No checkpoint was written, so it cannot be resumed: free some space (or \
          make the checkpoint folder writable), then start the run again with another --out (or \
          after removing \(recorder.path)).
          """)
      }
      throw ExitCode(HeadlessRun.writeFailureStatus)
    }
    return (status, signals.received)
  }
}
