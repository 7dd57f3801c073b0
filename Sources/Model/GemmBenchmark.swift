import Foundation
import Tensor

/// The FLOP/s OpenBLAS reaches on the model's own matrix shapes: every linear layer's forward
/// product and its two backward products (dx and dW), plus the output projection's three, timed
/// back to back with the current OpenBLAS thread count. The ceiling the engine's model FLOP/s is
/// measured against.
public enum GemmBenchmark {
  /// One product: C[m×n] = op(A)·op(B), k the inner size.
  struct Shape {
    var transA: Bool
    var transB: Bool
    var m: Int
    var n: Int
    var k: Int
  }

  /// The GEMMs of one training step of `config` with batch `batch` (attention products excluded:
  /// they are counted in the model FLOPs but are many small products).
  static func shapes(config: ModelConfig, batch: Int) -> [Shape] {
    let n = batch * config.context
    let c = config.width
    var out: [Shape] = []
    // (inputs, outputs) of the four linear layers of a block, then the output projection.
    let layers = [(c, 3 * c), (c, c), (c, 4 * c), (4 * c, c)]
    for (inputs, outputs) in layers {
      out.append(Shape(transA: false, transB: true, m: n, n: outputs, k: inputs))  // y = x·Wᵀ
      out.append(Shape(transA: false, transB: false, m: n, n: inputs, k: outputs))  // dx = dy·W
      out.append(Shape(transA: true, transB: false, m: outputs, n: inputs, k: n))  // dW = dyᵀ·x
    }
    return out
  }

  /// GFLOP/s over `repeats` passes of every shape (one untimed pass first).
  public static func gigaflops(config: ModelConfig, batch: Int, repeats: Int = 3) -> Double {
    let shapes = Self.shapes(config: config, batch: batch)
    let largest = shapes.map { max($0.m * $0.k, $0.k * $0.n, $0.m * $0.n) }.max() ?? 1
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
    func pass() {
      for s in shapes {
        BLAS.gemm(
          transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, a: a,
          lda: s.transA ? s.m : s.k, b: b, ldb: s.transB ? s.k : s.n, c: c, ldc: s.n)
      }
    }
    pass()
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<repeats { pass() }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let flops = shapes.reduce(0.0) { $0 + 2 * Double($1.m) * Double($1.n) * Double($1.k) }
    return flops * Double(repeats) / seconds / 1e9
  }
}
