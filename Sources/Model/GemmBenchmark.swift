import Foundation
import Tensor

/// The FLOP/s OpenBLAS reaches on the model's own matrix shapes: every GEMM of one training step
/// (each linear layer's forward product and its two backward products, the output projection's
/// three, and attention's six per query block of every (sequence, head) pair), each timed alone
/// with the current OpenBLAS thread count and weighted by how often a step runs it. The ceiling the
/// engine's model FLOP/s is measured against: OpenBLAS doing nothing but the step's GEMMs.
public enum GemmBenchmark {
  /// One product: C[m×n] = op(A)·op(B), k the inner size, run `count` times per training step.
  struct Shape: Hashable {
    var transA: Bool
    var transB: Bool
    var m: Int
    var n: Int
    var k: Int
  }

  /// The GEMMs of one training step of `config` with batch `batch`, with their counts per step
  /// and the profile category (`StepProfiler.Category`) the model's step counts their time in.
  static func shapes(config: ModelConfig, batch: Int)
    -> [(shape: Shape, count: Int, category: StepProfiler.Category)]
  {
    let n = batch * config.context
    let c = config.width
    // Keyed by shape and category: the output projection can have an MLP layer's shape (V = 4·C).
    struct Key: Hashable {
      var shape: Shape
      var category: StepProfiler.Category
    }
    var counts: [Key: Int] = [:]
    var order: [Key] = []
    var category = StepProfiler.Category.linear
    func add(_ s: Shape, _ count: Int) {
      let key = Key(shape: s, category: category)
      if counts[key] == nil { order.append(key) }
      counts[key, default: 0] += count
    }
    func linear(inputs: Int, outputs: Int, rows: Int, count: Int) {
      add(Shape(transA: false, transB: true, m: rows, n: outputs, k: inputs), count)  // y = x·Wᵀ
      add(Shape(transA: false, transB: false, m: rows, n: inputs, k: outputs), count)  // dx = dy·W
      add(Shape(transA: true, transB: false, m: outputs, n: inputs, k: rows), count)  // dW = dyᵀ·x
    }
    // The four linear layers of every block, then the output projection.
    for (inputs, outputs) in [(c, 3 * c), (c, c), (c, 4 * c), (4 * c, c)] {
      linear(inputs: inputs, outputs: outputs, rows: n, count: config.layers)
    }
    // The output projection runs in blocks of rows (`ActivationArena.headRows`).
    category = .outputProjection
    let headRows = ActivationArena.headRows(rows: n, vocab: config.vocab)
    linear(inputs: c, outputs: config.vocab, rows: headRows, count: n / headRows)
    if n % headRows > 0 { linear(inputs: c, outputs: config.vocab, rows: n % headRows, count: 1) }
    category = .attention
    // Attention, as `Attention` runs it: query blocks of `blockRows` rows against the keys up to
    // the block's last row, for every (sequence, head) pair of every layer.
    let pairs = batch * config.heads * config.layers
    let hs = config.headSize
    var r0 = 0
    while r0 < config.context {
      let rows = min(Attention.blockRows, config.context - r0)
      let keys = r0 + rows
      // S = Q·Kᵀ and dP = dY·Vᵀ; Y = P·V and dQ = dS·K; dV = Pᵀ·dY and dK = dSᵀ·Q.
      add(Shape(transA: false, transB: true, m: rows, n: keys, k: hs), 2 * pairs)
      add(Shape(transA: false, transB: false, m: rows, n: hs, k: keys), 2 * pairs)
      add(Shape(transA: true, transB: false, m: keys, n: hs, k: rows), 2 * pairs)
      r0 += rows
    }
    return order.map { ($0.shape, counts[$0]!, $0.category) }
  }

  /// FLOPs of the GEMMs of one training step (output projection and causal attention included).
  public static func stepFlops(config: ModelConfig, batch: Int) -> Double {
    shapes(config: config, batch: batch).reduce(0) {
      $0 + 2 * Double($1.shape.m) * Double($1.shape.n) * Double($1.shape.k) * Double($1.count)
    }
  }

  /// What OpenBLAS alone does on the step's GEMMs.
  public struct Measurement: Sendable {
    /// GFLOP/s over all of them.
    public var gigaflops: Double
    /// Seconds per training step, per profile category (linear layers, output projection,
    /// attention): the time the step's GEMMs of that category take when run alone.
    public var secondsPerStep: [StepProfiler.Category: Double]
  }

  /// GFLOP/s of the step's GEMMs: every shape timed over `repeats` runs (one untimed first), its
  /// time per run weighted by its count per step.
  public static func gigaflops(config: ModelConfig, batch: Int, repeats: Int = 3) -> Double {
    measure(config: config, batch: batch, repeats: repeats).gigaflops
  }

  /// The step's GEMMs run alone: GFLOP/s, and seconds per step per profile category.
  public static func measure(config: ModelConfig, batch: Int, repeats: Int = 3) -> Measurement {
    let shapes = Self.shapes(config: config, batch: batch)
    let largest =
      shapes.map { max($0.shape.m * $0.shape.k, $0.shape.k * $0.shape.n, $0.shape.m * $0.shape.n) }
      .max() ?? 1
    let a = UnsafeMutablePointer<Float>.allocate(capacity: largest)
    let b = UnsafeMutablePointer<Float>.allocate(capacity: largest)
    let c = UnsafeMutablePointer<Float>.allocate(capacity: largest)
    defer {
      a.deallocate()
      b.deallocate()
      c.deallocate()
    }
    var rng = SeededRNG(seed: 1)
    for i in 0..<largest {
      a[i] = rng.nextUniform() - 0.5
      b[i] = rng.nextUniform() - 0.5
    }
    func run(_ s: Shape) {
      BLAS.gemm(
        transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, a: a,
        lda: s.transA ? s.m : s.k, b: b, ldb: s.transB ? s.k : s.n, c: c, ldc: s.n)
    }
    var seconds = 0.0
    var flops = 0.0
    var byCategory: [StepProfiler.Category: Double] = [:]
    for (s, count, category) in shapes {
      run(s)
      // Small products are timed over more runs, so that each measurement spans a few ms.
      let perRun = 2 * Double(s.m) * Double(s.n) * Double(s.k)
      let runs = max(repeats, min(1000, Int(5e8 / perRun)))
      let start = DispatchTime.now().uptimeNanoseconds
      for _ in 0..<runs { run(s) }
      let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
      seconds += elapsed / Double(runs) * Double(count)
      byCategory[category, default: 0] += elapsed / Double(runs) * Double(count)
      flops += perRun * Double(count)
    }
    return Measurement(gigaflops: flops / seconds / 1e9, secondsPerStep: byCategory)
  }
}
