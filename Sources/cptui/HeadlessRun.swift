import Experiment
import Foundation
import RunLog
import Tensor

/// One headless training run into a log: shared by `run` and `sweep`.
enum HeadlessRun {
  /// Trains `config` (or resumes from `checkpoint`) with events going to `recorder` and `progress`.
  /// Ctrl-C stops at the next step with a checkpoint. Returns how the run ended.
  static func execute(
    config: ExperimentConfig, recorder: RunRecorder, checkpoint: String?, threads: Int,
    progress: ProgressLine
  ) throws -> RunEndStatus {
    BLAS.threads = threads
    let data = try RunSupport.prepareData(config) { progress.message($0) }
    let inbox = CommandInbox()
    let options = TrainerOptions(
      threads: threads, checkpointDirectory: RunSupport.checkpointDirectory(forLog: recorder.path))
    let trainer = try Trainer(
      config: config, data: data, options: options, inbox: inbox, loader: RunSupport.loader
    ) { event in
      recorder.record(event)
      progress.update(with: event)
    }
    if let checkpoint {
      try trainer.restore(checkpoint: checkpoint)
      let step = trainer.globalStepForResume
      recorder.record(
        .resume(
          ResumeEvent(step: step, tokens: step * config.tokensPerStep, checkpoint: checkpoint)))
    } else {
      recorder.record(
        .header(
          RunRecorder.header(
            for: config, threads: threads, version: CPTUIVersion.string,
            command: CommandLine.arguments)))
    }
    progress.configure(config: config)
    let signals = StopSignals { inbox.send(.stop) }
    let status = trainer.run()
    signals.cancel()
    progress.finish()
    if let failure = recorder.failure { throw CLIError("run log: \(failure)") }
    return status
  }
}
