import ArgumentParser
import Foundation
import Model
import Tensor

/// `cptui bench`: training speed of the engine on a given model config.
struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Measure training tokens/s, ms/step and GFLOP/s on random tokens.",
    discussion: """
      Reference configs: A = --layers 4 --heads 4 --width 256 --context 256 --vocab 4096 (batch 16); \
      B = the defaults (L4 H4 C128 T128 V512, batch 16). GFLOP/s counts 6·N_nonembedding + 12·L·C·T \
      FLOPs per token.
      """)

  @OptionGroup var model: ModelOptions
  @Option(help: "Sequences per batch (B), 1–4096.") var batch = 16
  @Option(
    help:
      "Timed training steps, 1–1000000 (and at least as many evaluation passes, over 1 s or more).")
  var steps = 10
  @Option(help: "Untimed steps first, 0–1000000.") var warmup = 2
  @Option(
    help: "Engine threads, 1–64: OpenBLAS and cptui's own loops (default: what OpenBLAS chose).")
  var threads: Int?
  @Option(
    help: ArgumentHelp(
      "Threads for cptui's own loops only (default: --threads).", visibility: .hidden))
  var loopThreads: Int?
  @Flag(
    inversion: .prefixedNo,
    help: "Split each batch over per-thread model replicas (with 2+ threads).")
  var dataParallel = true
  @Flag(help: "Print one JSON object instead of text.") var json = false
  @Flag(
    help:
      "Also print the share of time per operation kind, of a training step and of an evaluation pass, and the step's GEMM shapes run alone next to the step (gemm gap)."
  ) var profile = false

  func validate() throws {
    // Upper bounds far past what the machine can run, so sizes cannot overflow.
    if batch <= 0 || batch > 4096 {
      throw ValidationError("--batch must be 1 to 4096, got \(batch)")
    }
    if steps <= 0 || steps > 1_000_000 {
      throw ValidationError("--steps must be 1 to 1000000, got \(steps)")
    }
    if warmup < 0 || warmup > 1_000_000 {
      throw ValidationError("--warmup must be 0 to 1000000, got \(warmup)")
    }
    try RunSupport.checkThreads(threads)
  }

  func run() throws {
    let threads = self.threads ?? BLAS.threads
    BLAS.threads = threads
    var bench = EngineBenchmark(
      config: model.config, batch: batch, steps: steps, warmupSteps: warmup)
    bench.profile = profile
    bench.threads = loopThreads ?? threads
    bench.dataParallel = dataParallel
    let r = try bench.run()
    let peakKiB = Self.peakResidentKiB()  // before the GEMM benchmark's own buffers
    let alone = GemmBenchmark.measure(config: model.config, batch: batch)
    let gemm = alone.gigaflops
    let c = model.config
    // Model FLOPs over what the step's GEMMs really compute: the ratio model ÷ sgemm cannot pass
    // this even if everything but the GEMMs took no time (the output projection is not in 6·N).
    let ceiling =
      c.trainingFlopsPerToken * Double(batch * c.context)
      / GemmBenchmark.stepFlops(config: c, batch: batch)
    // The same ratio with the output projection's FLOPs counted (PaLM's convention).
    let withHead =
      r.gigaflopsPerSecond / gemm * c.trainingFlopsPerTokenWithHead
      / c.trainingFlopsPerToken
    if json {
      let object: [String: Any] = [
        "tokens_per_second": r.tokensPerSecond, "ms_per_step": r.millisecondsPerStep,
        "gflops_per_second": r.gigaflopsPerSecond, "eval_tokens_per_second": r.evalTokensPerSecond,
        "final_loss": Double(r.finalLoss), "sgemm_gflops_per_second": gemm,
        "peak_rss_kib": peakKiB,
        "model_flops_over_sgemm": r.gigaflopsPerSecond / gemm,
        "model_flops_over_gemm_flops": ceiling, "model_flops_with_head_over_sgemm": withHead,
        "kernel": BLAS.coreName,
        "threads": BLAS.threads,
        "layers": c.layers, "heads": c.heads, "width": c.width, "context": c.context,
        "vocab": c.vocab, "batch": batch, "steps": steps, "profile_seconds": r.profile,
        "eval_profile_seconds": r.evalProfile, "eval_passes": r.evalPasses,
        "gemm_alone_seconds_per_step": Dictionary(
          uniqueKeysWithValues: alone.secondsPerStep.map { ($0.key.rawValue, $0.value) }),
      ]
      let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
      print(String(decoding: data, as: UTF8.self))
    } else {
      print(
        "config      L\(c.layers) H\(c.heads) C\(c.width) T\(c.context) V\(c.vocab) B\(batch)")
      print(
        "kernel      OpenBLAS \(BLAS.coreName) (\(KernelSelection.origin.rawValue)), \(BLAS.threads) thread(s)"
      )
      print(
        String(
          format: "train       %.0f tokens/s, %.1f ms/step, %.1f GFLOP/s", r.tokensPerSecond,
          r.millisecondsPerStep, r.gigaflopsPerSecond))
      print(
        String(
          format: "eval        %.0f tokens/s (%.2f× training)", r.evalTokensPerSecond,
          r.evalTokensPerSecond / r.tokensPerSecond))
      print(
        String(
          format: "sgemm       %.1f GFLOP/s on the step's own GEMMs (model ÷ sgemm %.2f)",
          gemm,
          r.gigaflopsPerSecond / gemm))
      print(
        String(
          format:
            "            (model FLOPs are %.2f of the step's GEMM FLOPs: the ratio's ceiling;\n"
            + "            with the output projection counted, model ÷ sgemm %.2f)",
          ceiling, withHead))
      print("memory      peak RSS \(peakKiB / 1024) MiB (training)")
      if profile {
        printProfile(r)
        printGemmGap(r, alone: alone)
      }
    }
  }

  /// The process's peak resident set size (VmHWM), KiB.
  static func peakResidentKiB() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else {
      return 0
    }
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
      return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
    return 0
  }

  /// Share of step time per operation kind, largest first, with what no category measured; the
  /// same for an evaluation pass.
  func printProfile(_ r: EngineBenchmark.Result) {
    Self.printShares(
      "training step", stepSeconds: r.millisecondsPerStep / 1000,
      perStep: r.profile.mapValues { $0 / Double(steps) })
    let tokens = Double(batch * model.config.context)
    Self.printShares(
      "evaluation pass", stepSeconds: tokens / r.evalTokensPerSecond,
      perStep: r.evalProfile.mapValues { $0 / Double(r.evalPasses) })
  }

  /// The step's GEMMs run alone next to the step: how much time the step spends beyond them, and
  /// how much a model ÷ sgemm of 0.8 (issue 8's target) would leave for everything else.
  func printGemmGap(_ r: EngineBenchmark.Result, alone: GemmBenchmark.Measurement) {
    let parts: [(StepProfiler.Category, String)] = [
      (.linear, "linear layers"), (.outputProjection, "output projection"),
      (.attention, "attention (in the step: with its softmax)"),
    ]
    print("gemm gap    the step's GEMM shapes run alone on OpenBLAS, ms/step:")
    print("       alone  in the step")
    func row(_ alone: Double, _ inStep: Double, _ name: String) {
      // Three decimals for tiny configs, whose steps take well under a millisecond.
      let format = min(alone, inStep) < 0.01 ? "  %10.3f  %11.3f  " : "  %10.1f  %11.1f  "
      print(String(format: format, 1000 * alone, 1000 * inStep) + name)
    }
    for (category, name) in parts {
      row(
        alone.secondsPerStep[category] ?? 0, (r.profile[category.rawValue] ?? 0) / Double(steps),
        name)
    }
    let aloneSeconds = alone.secondsPerStep.values.reduce(0, +)
    let step = r.millisecondsPerStep / 1000
    row(aloneSeconds, step, "the whole step")
    let c = model.config
    let target = 0.8
    let allowed =
      c.trainingFlopsPerToken * Double(batch * c.context) / (target * alone.gigaflops * 1e9)
    let room =
      allowed < aloneSeconds
      ? "less than the GEMMs alone take"
      : String(format: "%.1f ms for all but the GEMMs run alone", 1000 * (allowed - aloneSeconds))
    print(
      String(
        format: "            model ÷ sgemm %.1f needs a step of at most %.1f ms: ", target,
        1000 * allowed)
        + room)
  }

  static func printShares(_ what: String, stepSeconds: Double, perStep: [String: Double]) {
    print("profile     share of \(what) time:")
    for (name, seconds) in perStep.sorted(by: { $0.value > $1.value }) {
      print(
        "  "
          + String(format: "%5.1f %%  %8.2f ms/step  ", 100 * seconds / stepSeconds, 1000 * seconds)
          + name)
    }
    let other = stepSeconds - perStep.values.reduce(0, +)
    print(
      "  " + String(format: "%5.1f %%  %8.2f ms/step  ", 100 * other / stepSeconds, 1000 * other)
        + "other (unmeasured)")
  }
}
