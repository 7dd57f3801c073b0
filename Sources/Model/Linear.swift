import Tensor

/// Fully connected layers y = x·Wᵀ + b with W as `[outputs × inputs]` row-major.
enum Linear {
  /// y[N×out] = x[N×in]·Wᵀ + b (or y += … with `accumulate`).
  static func forward(
    x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
    y: UnsafeMutablePointer<Float>, rows: Int, inputs: Int, outputs: Int, accumulate: Bool = false
  ) {
    BLAS.gemm(
      transB: true, m: rows, n: outputs, k: inputs, a: x, lda: inputs, b: weight, ldb: inputs,
      beta: accumulate ? 1 : 0, c: y, ldc: outputs)
    if let bias { Vec.addRowVector(bias, to: y, rows: rows, cols: outputs) }
  }

  /// dx[N×in] = dy·W (overwritten), dW[out×in] += dyᵀ·x, db[out] += column sums of dy.
  static func backward(
    dy: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    dx: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>,
    dBias: UnsafeMutablePointer<Float>?, rows: Int, inputs: Int, outputs: Int
  ) {
    backwardInput(dy: dy, weight: weight, dx: dx, rows: rows, inputs: inputs, outputs: outputs)
    backwardWeight(dy: dy, x: x, dWeight: dWeight, rows: rows, inputs: inputs, outputs: outputs)
    if let dBias { Vec.accumulateColumnSums(dy, rows: rows, cols: outputs, into: dBias) }
  }

  /// dx[N×in] = dy·W (overwritten).
  static func backwardInput(
    dy: UnsafePointer<Float>, weight: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
    rows: Int, inputs: Int, outputs: Int
  ) {
    BLAS.gemm(
      m: rows, n: inputs, k: outputs, a: dy, lda: outputs, b: weight, ldb: inputs, c: dx,
      ldc: inputs)
  }

  /// dW[out×in] += dyᵀ·x.
  static func backwardWeight(
    dy: UnsafePointer<Float>, x: UnsafePointer<Float>, dWeight: UnsafeMutablePointer<Float>,
    rows: Int, inputs: Int, outputs: Int
  ) {
    BLAS.gemm(
      transA: true, m: outputs, n: inputs, k: rows, a: dy, lda: outputs, b: x, ldb: inputs,
      beta: 1, c: dWeight, ldc: inputs)
  }
}
