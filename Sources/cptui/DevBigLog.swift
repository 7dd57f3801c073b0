import ArgumentParser
import Foundation
import RunLog

extension DevCommand {
  /// Writes a large, realistic two-stage run log for read and draw benchmarks: a strong shift with
  /// replay, loss curves with noise and an occasional spike, evaluations at a fixed cadence, a
  /// checkpoint per stage. Deterministic for a given seed.
  struct BigLog: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "big-log",
      abstract: "Write a large synthetic run log (benchmarks of reading, replay and export).")
    @Option(help: "Step events (split evenly over two stages).") var steps = 1_000_000
    @Option(help: "Evaluation events.") var evals = 10_000
    @Option(help: "Tokens per step.") var tokensPerStep = 2048
    @Option(help: "Random seed of the noise.") var seed = 1
    @Option(help: "Output file (replaced if it exists).") var out: String

    func validate() throws {
      if steps < 2 { throw ValidationError("--steps must be at least 2") }
      if evals < 1 { throw ValidationError("--evals must be at least 1") }
    }

    func run() throws {
      let writer: RunLogWriter
      do { writer = try RunLogWriter(path: out, mode: .replace, bufferBytes: 1 << 22) } catch {
        throw CLIError("cannot write \(out): \(error)")
      }
      var rng = UInt64(truncatingIfNeeded: seed) &* 0x9E37_79B9_7F4A_7C15 | 1
      func noise() -> Double {
        // xorshift64*: uniform in [-1, 1).
        rng ^= rng >> 12
        rng ^= rng << 25
        rng ^= rng >> 27
        let r = rng &* 0x2545_F491_4F6C_DD1D
        return Double(r >> 11) / Double(1 << 52) - 1
      }
      let stage1 = steps / 2
      let stageSteps = [stage1, steps - stage1]
      let evalEvery = max(steps / evals, 1)
      let datasets = ["english", "german"]
      do {
        try writer.write(
          .header(
            RunHeader(
              runName: "big-log", startTime: RunHeader.timestamp(Date()), seed: seed,
              cptuiVersion: CPTUIVersion.string, producer: "cptui dev big-log",
              command: ["cptui", "dev", "big-log", "--steps", "\(steps)", "--evals", "\(evals)"],
              datasets: datasets,
              config: .object([JSONMember("name", .string("big-log"))]))))
        var step = 0
        var evalsWritten = 0
        var time = 0.0
        // Validation losses: D0 falls in stage 1 and rises (forgetting) in stage 2; D1 the reverse.
        func losses(_ stage: Int, _ fraction: Double) -> [DatasetLoss] {
          let d0 =
            stage == 1 ? 2.4 + 3.8 * exp(-6 * fraction) : 2.45 + 0.35 * (1 - exp(-8 * fraction))
          let d1 =
            stage == 1 ? 6.3 - 0.9 * (1 - exp(-4 * fraction)) : 2.2 + 3.2 * exp(-6 * fraction)
          return [
            DatasetLoss(datasets[0], d0 + 0.01 * noise()),
            DatasetLoss(datasets[1], d1 + 0.01 * noise()),
          ]
        }
        for (index, count) in stageSteps.enumerated() {
          let stage = index + 1
          let warmup = max(count / 100, 1)
          let lrMax = 4e-3
          let lrMin = 4e-4
          try writer.write(
            .stageStart(
              StageStartEvent(
                stage: stage, name: stage == 1 ? "english" : "german", dataset: datasets[index],
                steps: count, tokens: count * tokensPerStep, startStep: step,
                startTokens: step * tokensPerStep, schedule: "cosine", warmupFraction: 0.01,
                lrMax: lrMax, lrMin: lrMin, replayPercent: stage == 1 ? 0 : 25,
                replayFrom: stage == 1 ? [] : [datasets[0]], time: time)))
          if stage == 1 {
            try writer.write(
              .eval(EvalEvent(stage: 1, step: 0, tokens: 0, losses: losses(1, 0), time: time)))
            evalsWritten += 1
          }
          for stageStep in 1...count {
            step += 1
            time += 0.17
            let lr: Double
            if stageStep <= warmup {
              lr = lrMax * Double(stageStep - 1) / Double(warmup)
            } else {
              let p = Double(stageStep - warmup) / Double(max(count - warmup, 1))
              lr = lrMin + (lrMax - lrMin) / 2 * (1 + cos(.pi * p))
            }
            let fraction = Double(stageStep) / Double(count)
            let base = losses(stage, fraction)[index].loss
            let spike = stageStep < warmup * 3 && stage > 1 ? 0.4 : 0
            let loss = base + spike + 0.08 * noise()
            try writer.write(
              .step(
                StepEvent(
                  stage: stage, step: step, stageStep: stageStep, tokens: step * tokensPerStep,
                  lr: lr, loss: loss, gradNorm: 0.6 + 0.2 * noise(),
                  tokensPerSecond: 12000 + 500 * noise(), time: time)))
            let due = step % evalEvery == 0 && evalsWritten < evals
            if due || (stageStep == count && evalsWritten < evals) {
              try writer.write(
                .eval(
                  EvalEvent(
                    stage: stage, step: step, tokens: step * tokensPerStep,
                    losses: losses(stage, fraction), time: time)))
              evalsWritten += 1
            }
          }
          try writer.write(
            .stageEnd(StageEndEvent(stage: stage, step: step, tokens: step * tokensPerStep)))
          try writer.write(
            .checkpoint(
              CheckpointEvent(
                path: "big-log.ckpt/stage-\(stage).safetensors", step: step, stage: stage,
                tokens: step * tokensPerStep)))
        }
        try writer.write(
          .runEnd(RunEndEvent(status: .completed, step: step, tokens: step * tokensPerStep)))
        try writer.close()
        print("wrote \(out): \(step) steps, \(evalsWritten) evaluations")
      } catch {
        throw CLIError("cannot write \(out): \(error)")
      }
    }
  }
}
