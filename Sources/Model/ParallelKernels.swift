import Tensor

/// The kernels of `Kernels` and `Linear`, split over `threads` with a static partition.
/// Row-independent work is sliced by rows; sums across rows (LayerNorm and bias gradients, the loss)
/// go through per-thread partial buffers added in thread order, so results are deterministic for a
/// given thread count.
struct ParallelKernels {
  /// Threads to split over (1 runs everything inline).
  let threads: Int

  /// Rows per thread below which splitting does not pay.
  static let minimumRows = 32
  static let minimumElements = 16_384

  func layerNormForward(
    x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
    out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
    rstd: UnsafeMutablePointer<Float>, rows: Int, cols: Int
  ) {
    Parallel.forEachSlice(rows, threads: threads, minimumPerPart: Self.minimumRows) { _, r in
      let o = r.lowerBound
      Kernels.layerNormForward(
        x: x + o * cols, weight: weight, bias: bias, out: out + o * cols, mean: mean + o,
        rstd: rstd + o, rows: r.count, cols: cols)
    }
  }

  func layerNormBackward(
    dout: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
    dx: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>,
    dBias: UnsafeMutablePointer<Float>, rows: Int, cols: Int, arena: ActivationArena
  ) {
    let parts = Parallel.partCount(rows, threads: threads, minimumPerPart: Self.minimumRows)
    if parts <= 1 {
      Kernels.layerNormBackward(
        dout: dout, x: x, weight: weight, mean: mean, rstd: rstd, dx: dx, dWeight: dWeight,
        dBias: dBias, rows: rows, cols: cols)
      return
    }
    let partials = arena.partials
    let stride = arena.partialStride
    Parallel.forEachSlice(rows, threads: threads, minimumPerPart: Self.minimumRows) { part, r in
      let o = r.lowerBound
      let scratch = partials + part * stride
      scratch.update(repeating: 0, count: 2 * cols)
      Kernels.layerNormBackward(
        dout: dout + o * cols, x: x + o * cols, weight: weight, mean: mean + o, rstd: rstd + o,
        dx: dx + o * cols, dWeight: scratch, dBias: scratch + cols, rows: r.count, cols: cols)
    }
    for part in 0..<parts {
      Vec.add(partials + part * stride, into: dWeight, cols)
      Vec.add(partials + part * stride + cols, into: dBias, cols)
    }
  }

  func biasGeluForward(
    pre: UnsafePointer<Float>, bias: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
    slope: UnsafeMutablePointer<Float>? = nil, rows: Int, cols: Int
  ) {
    Parallel.forEachSlice(rows, threads: threads, minimumPerPart: Self.minimumRows) { _, r in
      let o = r.lowerBound * cols
      Kernels.biasGeluForward(
        pre: pre + o, bias: bias, out: out + o, slope: slope.map { $0 + o }, rows: r.count,
        cols: cols)
    }
  }

  func geluBackward(slope: UnsafePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ n: Int) {
    Parallel.forEachSlice(n, threads: threads, minimumPerPart: Self.minimumElements) { _, r in
      Kernels.geluBackward(slope: slope + r.lowerBound, d + r.lowerBound, r.count)
    }
  }

  func biasGeluBackward(
    pre: UnsafePointer<Float>, bias: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
    d: UnsafeMutablePointer<Float>, rows: Int, cols: Int
  ) {
    Parallel.forEachSlice(rows, threads: threads, minimumPerPart: Self.minimumRows) { _, r in
      let o = r.lowerBound * cols
      Kernels.biasGeluBackward(
        pre: pre + o, bias: bias, out: out + o, d: d + o, rows: r.count, cols: cols)
    }
  }

  func rotary(
    qkv: UnsafeMutablePointer<Float>, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>,
    rows: Int, length: Int, heads: Int, headSize: Int, rotaryDims: Int, inverse: Bool
  ) {
    if rotaryDims < 2 { return }
    Parallel.forEachSlice(rows, threads: threads, minimumPerPart: Self.minimumRows) { _, r in
      Kernels.rotary(
        qkv: qkv, cos: cos, sin: sin, rows: r, length: length, heads: heads, headSize: headSize,
        rotaryDims: rotaryDims, inverse: inverse)
    }
  }

  /// Sum of per-row cross-entropy losses; see `Kernels.crossEntropy`.
  func crossEntropy(
    logits: UnsafeMutablePointer<Float>, targets: UnsafePointer<Int32>, rows: Int, vocab: Int,
    gradScale: Float
  ) -> Double {
    let parts = Parallel.partCount(rows, threads: threads, minimumPerPart: 8)
    var totals = [Double](repeating: 0, count: parts)
    totals.withUnsafeMutableBufferPointer { t in
      Parallel.forEachSlice(rows, threads: threads, minimumPerPart: 8) { part, r in
        t[part] = Kernels.crossEntropy(
          logits: logits + r.lowerBound * vocab, targets: targets + r.lowerBound, rows: r.count,
          vocab: vocab, gradScale: gradScale)
      }
    }
    return totals.reduce(0, +)
  }

  /// Linear forward with the bias added in parallel row slices.
  func linearForward(
    x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
    y: UnsafeMutablePointer<Float>, rows: Int, inputs: Int, outputs: Int, accumulate: Bool = false
  ) {
    Linear.forward(
      x: x, weight: weight, bias: nil, y: y, rows: rows, inputs: inputs, outputs: outputs,
      accumulate: accumulate)
    Parallel.forEachSlice(rows, threads: threads, minimumPerPart: Self.minimumRows) { _, r in
      Vec.addRowVector(bias, to: y + r.lowerBound * outputs, rows: r.count, cols: outputs)
    }
  }

  /// Linear backward with the bias gradient summed in parallel partials.
  func linearBackward(
    dy: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    dx: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>,
    dBias: UnsafeMutablePointer<Float>, rows: Int, inputs: Int, outputs: Int,
    arena: ActivationArena
  ) {
    Linear.backwardInput(
      dy: dy, weight: weight, dx: dx, rows: rows, inputs: inputs, outputs: outputs)
    linearBackwardWeights(
      dy: dy, x: x, dWeight: dWeight, dBias: dBias, rows: rows, inputs: inputs, outputs: outputs,
      arena: arena)
  }

  /// The weight and bias half of `linearBackward` (dW += dyᵀ·x, db += column sums of dy), for
  /// callers that need dx before x exists.
  func linearBackwardWeights(
    dy: UnsafePointer<Float>, x: UnsafePointer<Float>, dWeight: UnsafeMutablePointer<Float>,
    dBias: UnsafeMutablePointer<Float>, rows: Int, inputs: Int, outputs: Int,
    arena: ActivationArena
  ) {
    Linear.backwardWeight(
      dy: dy, x: x, dWeight: dWeight, rows: rows, inputs: inputs, outputs: outputs)
    let parts = Parallel.partCount(rows, threads: threads, minimumPerPart: Self.minimumRows)
    if parts <= 1 {
      Vec.accumulateColumnSums(dy, rows: rows, cols: outputs, into: dBias)
      return
    }
    let partials = arena.partials
    let stride = arena.partialStride
    Parallel.forEachSlice(rows, threads: threads, minimumPerPart: Self.minimumRows) { part, r in
      let scratch = partials + part * stride
      scratch.update(repeating: 0, count: outputs)
      Vec.accumulateColumnSums(
        dy + r.lowerBound * outputs, rows: r.count, cols: outputs, into: scratch)
    }
    for part in 0..<parts { Vec.add(partials + part * stride, into: dBias, outputs) }
  }
}
