import Testing

@testable import Model
@testable import Tensor

/// Query-blocked causal attention gives what one full block gives (the whole-model gradient checks
/// cover the single-block path).
struct AttentionTests {
  @Test(arguments: [1, 4, 5, 64])
  func blockedEqualsUnblocked(blockRows: Int) {
    let (t, hs) = (13, 8)
    let ld = 3 * hs + 5  // q|k|v plus padding, as in the fused buffer
    var rng = SeededRNG(seed: 1)
    let qkv = (0..<(t * ld)).map { _ in Float(rng.nextNormal()) }
    let dy = (0..<(t * hs)).map { _ in Float(rng.nextNormal()) }
    func run(_ block: Int) -> (y: [Float], dqkv: [Float]) {
      // NaN wherever nothing is written: a block must never read past its own keys.
      // The packed size and 16 more floats that must stay NaN: no block writes past its share.
      let packed = Attention.probsCount(length: t, blockRows: block)
      var probs = [Float](repeating: .nan, count: packed + 16)
      var y = [Float](repeating: 0, count: t * hs)
      var dqkv = [Float](repeating: 0, count: t * ld)
      var scratch = [Float](repeating: .nan, count: t * t)
      qkv.withUnsafeBufferPointer { q in
        let base = q.baseAddress!
        Attention.forward(
          q: base, k: base + hs, v: base + 2 * hs, ldqkv: ld, probs: &probs, y: &y, ldy: hs,
          length: t, headSize: hs, scale: 0.35, blockRows: block)
        dy.withUnsafeBufferPointer { d in
          dqkv.withUnsafeMutableBufferPointer { g in
            Attention.backward(
              q: base, k: base + hs, v: base + 2 * hs, ldqkv: ld, probs: probs,
              dy: d.baseAddress!, ldy: hs, dq: g.baseAddress!, dk: g.baseAddress! + hs,
              dv: g.baseAddress! + 2 * hs, scratch: &scratch, length: t, headSize: hs, scale: 0.35,
              blockRows: block)
          }
        }
      }
      let untouched = probs[packed...].allSatisfy { $0.isNaN }
      #expect(untouched, "block rows \(block) wrote past the packing")
      return (y, dqkv)
    }
    let reference = run(t)
    let blocked = run(blockRows)
    for (a, b) in zip(blocked.y, reference.y) { #expect(abs(a - b) < 1e-5) }
    for row in 0..<t {
      for col in 0..<(3 * hs) {
        #expect(abs(blocked.dqkv[row * ld + col] - reference.dqkv[row * ld + col]) < 1e-5)
      }
    }
  }
}

/// Packed causal probabilities: each query block keeps rows × (its last row + 1) floats.
@Test func packedProbabilitiesAreTheBlocksTriangle() {
  #expect(Attention.probsCount(length: 256) == 64 * (64 + 128 + 192 + 256))
  #expect(Attention.probsCount(length: 13, blockRows: 4) == 4 * 4 + 4 * 8 + 4 * 12 + 1 * 13)
  #expect(Attention.probsCount(length: 13, blockRows: 13) == 13 * 13)
  #expect(Attention.probsCount(length: 1) == 1)
}

/// The GEMM list the benchmark's sgemm ceiling is measured on.
struct GemmBenchmarkTests {
  @Test(arguments: [16, 64, 128, 256])
  func stepGemmFlopsAreEveryProductOfAStep(context: Int) {
    let (l, c, v, b) = (2, 32, 64, 2)
    let config = ModelConfig(layers: l, heads: 2, width: c, context: context, vocab: v)
    let n = Double(b * context)
    let linear = 6 * n * Double(12 * c * c * l)
    let output = 6 * n * Double(c * v)
    // Causal attention in query blocks of 64 rows: block i sees (i+1)·64 keys, not all T.
    let blocks = (context + 63) / 64
    var seen = 0
    for i in 0..<blocks { seen += min(64, context - 64 * i) * min((i + 1) * 64, context) }
    let attention = 12 * Double(l * c * seen * b)
    #expect(GemmBenchmark.stepFlops(config: config, batch: b) == linear + output + attention)
    // At T ≤ one block the attention term is exactly the model's 12·L·C·T per token.
    if context <= 64 {
      #expect(attention == 12 * Double(l * c * context) * n)
    }
  }

  /// The output projection is timed in the row blocks the model runs it in: with V = 16384 a
  /// block is 256 rows, so 400 rows are a block of 256 and one of 144.
  @Test func outputProjectionShapesAreTheModelsBlocks() {
    let config = ModelConfig(layers: 1, heads: 2, width: 32, context: 200, vocab: 16_384)
    let head = GemmBenchmark.shapes(config: config, batch: 2).filter {
      $0.category == .outputProjection
    }
    let forward = head.filter { $0.shape.transB }.map { ($0.shape.m, $0.count) }
    #expect(forward.map(\.0) == [256, 144] && forward.map(\.1) == [1, 1], "\(forward)")
    #expect(head.count == 6)
    // The blocks cover every row once: the FLOPs are the unblocked product's.
    let blockFlops = head.reduce(0.0) {
      $0 + 2 * Double($1.shape.m * $1.shape.n * $1.shape.k * $1.count)
    }
    #expect(blockFlops == 6 * 400 * Double(32 * 16_384))
  }
}

/// The causal softmax's whole-vector path (a row's last vector masked past its diagonal) gives the
/// floats of the partial-load one (`maximum`, `expShiftInPlace`, `Vec.scale`) bit for bit, with
/// exact zeros past the diagonal, for every row length and for blocks that start mid-matrix.
struct CausalSoftmaxTests {
  /// (first row, rows, width); short rows in a wide block (zeros written past the last vector),
  /// a width that is no multiple of 16 (the last rows' partial path), one row in a 13-wide block.
  @Test(
    arguments: [(0, 40, 40), (0, 48, 48), (17, 31, 48), (64, 64, 128), (3, 5, 13), (0, 8, 64)],
    [false, true])
  func vectorPathMatchesPartialLoads(shape: (Int, Int, Int), wholeNumbers: Bool) {
    let (firstRow, rows, width) = shape
    var rng = SeededRNG(seed: 9)
    // Whole numbers give ties for the maximum, zeros and rows of equal scores.
    let scores = (0..<(rows * width)).map { _ in
      wholeNumbers ? Float(rng.nextInt(below: 5)) - 2 : Float(rng.nextNormal()) * 3
    }
    var fast = scores
    Kernels.causalSoftmax(&fast, firstRow: firstRow, rows: rows, width: width, stride: width)
    var reference = scores
    reference.withUnsafeMutableBufferPointer { buffer in
      for i in 0..<rows {
        let count = min(firstRow + i + 1, width)
        let row = buffer.baseAddress! + i * width
        let total = Kernels.expShiftInPlace(row, count, shift: Kernels.maximum(row, count))
        Vec.scale(row, by: 1 / total, count)
        (row + count).update(repeating: 0, count: width - count)
      }
    }
    let differing = (0..<(rows * width)).filter {
      fast[$0].bitPattern != reference[$0].bitPattern
    }
    #expect(differing.isEmpty, "first differing index: \(differing.first ?? -1)")
    for i in 0..<rows {
      let sum = (0..<width).reduce(0.0) { $0 + Double(fast[i * width + $1]) }
      #expect(abs(sum - 1) < 1e-5, "row \(i) sums to \(sum)")
    }
  }
}
