import Foundation
import Tensor

/// Losses of a model over a long token sequence, the way `cptui eval` and the PyTorch cross-check
/// script compute them.
public enum Evaluation {
  /// Mean next-token loss over consecutive, non-overlapping windows: window i holds tokens
  /// [i·T, i·T + T] (T+1 ids: T inputs, T targets). A tail shorter than T+1 ids is not used.
  /// Windows go through the model `batch` at a time. Returns nil when not one window fits.
  public static func meanLoss(
    model: GPTNeoX, tokens: [Int32], length: Int, batch: Int = 8
  ) -> (loss: Double, windows: Int)? {
    let windows = tokens.count > length ? (tokens.count - 1) / length : 0
    guard windows > 0 else { return nil }
    var buffer = [Int32](repeating: 0, count: batch * (length + 1))
    var total: Double = 0
    var w = 0
    while w < windows {
      let rows = min(batch, windows - w)
      for r in 0..<rows {
        let start = (w + r) * length
        for k in 0...length { buffer[r * (length + 1) + k] = tokens[start + k] }
      }
      let loss = buffer.withUnsafeBufferPointer {
        model.loss(tokens: $0.baseAddress!, batch: rows, length: length)
      }
      total += Double(loss) * Double(rows)
      w += rows
    }
    return (total / Double(windows), windows)
  }
}

/// Timing of training and evaluation steps on random tokens, for `cptui bench`.
public struct EngineBenchmark: Sendable {
  public var config: ModelConfig
  public var batch: Int
  public var steps: Int
  public var warmupSteps: Int
  public var seed: UInt64
  /// Record time per operation kind during the timed training steps.
  public var profile = false
  /// Engine threads for the model's own loops (set OpenBLAS's with `BLAS.threads`).
  public var threads = 1
  /// Split batches over per-thread replicas (`GPTNeoX.dataParallel`).
  public var dataParallel = true

  public init(config: ModelConfig, batch: Int, steps: Int, warmupSteps: Int = 2, seed: UInt64 = 1) {
    self.config = config
    self.batch = batch
    self.steps = steps
    self.warmupSteps = warmupSteps
    self.seed = seed
  }

  public struct Result: Sendable, Codable {
    public var tokensPerSecond: Double
    public var millisecondsPerStep: Double
    public var gigaflopsPerSecond: Double
    public var evalTokensPerSecond: Double
    public var finalLoss: Float
    /// Seconds per operation kind over the timed steps (empty unless `profile`).
    public var profile: [String: Double]
    /// Timed evaluation passes, and seconds per operation kind over them (empty unless `profile`).
    public var evalPasses: Int
    public var evalProfile: [String: Double]
  }

  /// Runs warm-up steps, then `steps` timed training steps (forward, backward, AdamW) and one
  /// untimed then at least as many timed evaluation passes (and at least a second of them).
  public func run() throws -> Result {
    let model = try GPTNeoX(config: config, seed: seed)
    model.threads = threads
    model.dataParallel = dataParallel
    let optimizer = AdamW(layout: model.layout)
    var rng = SeededRNG(seed: seed &+ 1)
    let t = config.context
    var tokens = [Int32](repeating: 0, count: batch * (t + 1))
    func refill() {
      for i in tokens.indices { tokens[i] = Int32(rng.nextInt(below: config.vocab)) }
    }
    var loss: Float = 0
    let profiler: StepProfiler? = profile ? StepProfiler() : nil
    func trainStep() {
      profiler.measure(.data) { refill() }
      profiler.measure(.optimizer) { model.zeroGradients() }
      loss = tokens.withUnsafeBufferPointer {
        model.forward(tokens: $0.baseAddress!, batch: batch, length: t, training: true)
      }
      model.backward()
      profiler.measure(.optimizer) { _ = optimizer.update(model: model, learningRate: 1e-3) }
    }
    for _ in 0..<warmupSteps { trainStep() }
    profiler?.reset()
    model.profiler = profiler
    let start = Clock.now
    for _ in 0..<steps { trainStep() }
    let trainSeconds = Clock.seconds(since: start)
    model.profiler = nil
    func evalPass() {
      _ = tokens.withUnsafeBufferPointer {
        model.loss(tokens: $0.baseAddress!, batch: batch, length: t)
      }
    }
    evalPass()  // untimed, as the training warm-up steps are
    let evalProfiler: StepProfiler? = profile ? StepProfiler() : nil
    model.profiler = evalProfiler
    defer { model.profiler = nil }
    // At least `steps` passes and at least a second: a short config's passes take milliseconds.
    let evalStart = Clock.now
    var evalPasses = 0
    while evalPasses < steps || Clock.seconds(since: evalStart) < 1 {
      evalPass()
      evalPasses += 1
    }
    let evalSeconds = Clock.seconds(since: evalStart)
    let tokensPerStep = Double(batch * t)
    let tps = tokensPerStep * Double(steps) / trainSeconds
    return Result(
      tokensPerSecond: tps, millisecondsPerStep: 1000 * trainSeconds / Double(steps),
      gigaflopsPerSecond: tps * config.trainingFlopsPerToken / 1e9,
      evalTokensPerSecond: tokensPerStep * Double(evalPasses) / evalSeconds, finalLoss: loss,
      profile: Dictionary(
        uniqueKeysWithValues: (profiler?.seconds ?? [:]).map { ($0.key.rawValue, $0.value) }),
      evalPasses: evalPasses,
      evalProfile: Dictionary(
        uniqueKeysWithValues: (evalProfiler?.seconds ?? [:]).map { ($0.key.rawValue, $0.value) }))
  }
}

/// Monotonic wall-clock seconds.
enum Clock {
  static var now: UInt64 { DispatchTime.now().uptimeNanoseconds }
  static func seconds(since start: UInt64) -> Double { Double(now - start) / 1e9 }
}
