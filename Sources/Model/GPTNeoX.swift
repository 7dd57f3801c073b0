import Foundation
import Tensor

/// A GPT-NeoX-style decoder-only transformer with hand-written forward and backward passes.
///
/// Architecture: token embedding → L blocks → final LayerNorm → untied output projection to V logits.
/// Block (parallel residual): x + Attn(LN1 x) + MLP(LN2 x); causal multi-head attention with rotary
/// position embedding on the first `rotaryDims` dimensions of each head; MLP C → 4C → C with exact GELU.
///
/// Input batches are `B × (T+1)` token ids, row-major: each row's first T ids are the inputs and its
/// last T ids the next-token targets. All matrix products go through `BLAS.gemm`.
///
/// Not thread-safe: one thread (the trainer's) uses a model at a time.
public final class GPTNeoX: @unchecked Sendable {
  public let config: ModelConfig
  public let layout: ParameterLayout
  /// All parameters, `layout.count` floats, laid out as `layout.entries`.
  public let parameters: UnsafeMutablePointer<Float>
  /// Gradients of the mean loss, same layout; accumulated by `backward`, cleared by `zeroGradients`.
  public let gradients: UnsafeMutablePointer<Float>

  private let cosTable: UnsafeMutablePointer<Float>
  private let sinTable: UnsafeMutablePointer<Float>
  private var arena: ActivationArena?
  /// Batch shape of the last training forward pass (nil when backward is not possible).
  private var pendingBackward: (batch: Int, length: Int)?
  /// When set, forward and backward record the time spent per operation kind.
  public var profiler: StepProfiler?
  /// Threads for the non-GEMM work of forward, backward and the optimizer (OpenBLAS's own count is
  /// set separately with `BLAS.threads`). Results are deterministic for a given value.
  public var threads: Int = 1 {
    didSet { threads = max(1, threads) }
  }
  private var kernels: ParallelKernels { ParallelKernels(threads: threads) }
  /// Forward passes with `threads` > 1 split the batch rows over that many replicas, each run on
  /// its own core with one-thread BLAS, and combine their gradients weighted by rows (the mean
  /// loss's gradient). Small models scale better this way than with every op split in two.
  /// Deterministic for a given thread count, like everything else. On by default: at 2 threads it
  /// trains config B 1.5–1.7× faster than splitting each op (docs/performance.md);
  /// `cptui bench --no-data-parallel` measures the other way.
  public var dataParallel = true
  /// The replicas: the same parameters (not owned), their own activations and gradients.
  private var replicas: [GPTNeoX] = []
  /// Row ranges of the replicas' pending backward passes.
  private var pendingParallel: (batch: Int, parts: [Range<Int>])?
  private let ownsParameters: Bool
  /// Rows per output-projection block when set (else `ActivationArena`'s choice); for tests that
  /// split small batches into several blocks. Set before the first forward pass.
  var headBlockRows: Int?
  /// Whether layers keep their LayerNorm and GELU outputs when set (else `ActivationArena`'s
  /// choice by size); for tests that compare both ways. Set before the first forward pass.
  var keepLayerOutputs: Bool?

  /// Builds a model with GPT-NeoX initialisation drawn from `seed` (see `initialize(seed:)`).
  public init(config: ModelConfig, seed: UInt64) throws(ModelConfigError) {
    try config.validate()
    self.config = config
    self.layout = ParameterLayout(config: config)
    parameters = .allocate(capacity: layout.count)
    ownsParameters = true
    gradients = .allocate(capacity: layout.count)
    gradients.initialize(repeating: 0, count: layout.count)
    let half = config.rotaryDims / 2
    cosTable = .allocate(capacity: max(config.context * half, 1))
    sinTable = .allocate(capacity: max(config.context * half, 1))
    for t in 0..<config.context {
      for i in 0..<half {
        let invFreq = 1 / pow(config.rotaryBase, Double(2 * i) / Double(config.rotaryDims))
        let angle = Double(t) * invFreq
        cosTable[t * half + i] = Float(Foundation.cos(angle))
        sinTable[t * half + i] = Float(Foundation.sin(angle))
      }
    }
    initialize(seed: seed)
  }

  /// A replica for data-parallel training passes: `main`'s parameters, its own gradients.
  private init(replicaOf main: GPTNeoX) {
    config = main.config
    layout = main.layout
    parameters = main.parameters
    ownsParameters = false
    gradients = .allocate(capacity: layout.count)
    gradients.initialize(repeating: 0, count: layout.count)
    let tableCount = max(config.context * (config.rotaryDims / 2), 1)
    cosTable = .allocate(capacity: tableCount)
    cosTable.initialize(from: main.cosTable, count: tableCount)
    sinTable = .allocate(capacity: tableCount)
    sinTable.initialize(from: main.sinTable, count: tableCount)
    dataParallel = false
    headBlockRows = main.headBlockRows
    keepLayerOutputs = main.keepLayerOutputs
  }

  deinit {
    if ownsParameters { parameters.deallocate() }
    gradients.deallocate()
    cosTable.deallocate()
    sinTable.deallocate()
  }

  /// GPT-NeoX initialisation: every weight matrix ~ N(0, small_init²) with small_init = √(2/(5C))
  /// (Nguyen & Salazar 2019), except the two output projections of each block (attention dense and
  /// MLP 4h→h), which use wang_init = 2/(L·√C); biases 0, LayerNorm gains 1. Draws are in layout order.
  public func initialize(seed: UInt64) {
    var rng = SeededRNG(seed: seed)
    let c = Double(config.width)
    let smallInit = (2 / (5 * c)).squareRoot()
    let wangInit = 2 / (Double(config.layers) * c.squareRoot())
    for entry in layout.entries {
      let p = parameters + entry.offset
      if entry.name.hasSuffix("layernorm.weight") || entry.name.hasSuffix("final_layer_norm.weight")
      {
        p.update(repeating: 1, count: entry.count)
      } else if entry.shape.count == 1 {
        p.update(repeating: 0, count: entry.count)
      } else {
        let outputLayer =
          entry.name.hasSuffix("attention.dense.weight")
          || entry.name.hasSuffix("dense_4h_to_h.weight")
        let std = outputLayer ? wangInit : smallInit
        for i in 0..<entry.count { p[i] = Float(rng.nextNormal() * std) }
      }
    }
  }

  /// Sets every gradient to zero.
  public func zeroGradients() { gradients.update(repeating: 0, count: layout.count) }

  // MARK: - Forward

  /// Forward pass over `batch` rows of `length + 1` tokens; returns the mean next-token loss.
  /// With `training`, keeps every layer's activations so that `backward()` can follow.
  /// Token ids must be in 0..<V and `length` ≤ T.
  public func forward(tokens: UnsafePointer<Int32>, batch: Int, length: Int, training: Bool)
    -> Float
  {
    precondition(batch > 0 && length > 0 && length <= config.context, "bad batch shape")
    pendingParallel = nil
    // Every pass, one window too (an evaluation's last chunk can be one), so that the model
    // never makes an arena of its own beside the replicas' (`ModelConfig.trainingBytes`).
    if dataParallel && threads > 1 {
      return parallelForward(tokens: tokens, batch: batch, length: length, training: training)
    }
    let arena = arenaFor(batch: batch, length: length, training: training)
    let c = config.width
    let n = batch * length
    let v = config.vocab
    // Inputs and targets.
    for b in 0..<batch {
      for t in 0..<length {
        arena.inputs[b * length + t] = tokens[b * (length + 1) + t]
        arena.targets[b * length + t] = tokens[b * (length + 1) + t + 1]
      }
    }
    // Embedding: x0[n] = W_emb[token].
    let x0 = arena.residual(0)
    profiler.measure(.embedding) {
      for b in 0..<batch {
        for t in 0..<length {
          let id = Int(tokens[b * (length + 1) + t])
          precondition(id >= 0 && id < v, "token id \(id) outside vocabulary 0..<\(v)")
          (x0 + (b * length + t) * c).update(from: parameters + layout.embedIn + id * c, count: c)
        }
      }
    }
    // Training keeps every layer's input residual; evaluation ping-pongs between buffers 0 and 1.
    func residualIndex(_ l: Int) -> Int { training ? l : l % 2 }
    for l in 0..<config.layers {
      blockForward(
        l, arena: arena, slot: training ? l : 0, x: arena.residual(residualIndex(l)),
        out: arena.residual(residualIndex(l + 1)), batch: batch, length: length,
        training: training)
    }
    // Final LayerNorm and output projection.
    let xL = arena.residual(residualIndex(config.layers))
    profiler.measure(.layerNorm) {
      kernels.layerNormForward(
        x: xL, weight: parameters + layout.lnfWeight, bias: parameters + layout.lnfBias,
        out: arena.lnf, mean: arena.lnfMean, rstd: arena.lnfRstd, rows: n, cols: c)
    }
    let total = headForward(arena: arena, rows: n, training: training)
    pendingBackward = training ? (batch, length) : nil
    return Float(total / Double(n))
  }

  /// Output projection and loss over `rows` rows of `arena.lnf`, in blocks of `arena.headRows` so
  /// that only one block's logits exist. Returns the summed loss (blocks added in order). A
  /// training pass also runs the head's backward block by block: dLoss/dlnf into `arena.dlnf` and
  /// dLoss/dW_out summed into `arena.headGradient` (`gradients` are left to `backward`).
  private func headForward(arena: ActivationArena, rows n: Int, training: Bool) -> Double {
    let c = config.width
    let v = config.vocab
    let weight = parameters + layout.embedOut
    let logits = arena.logits
    var total: Double = 0
    for first in stride(from: 0, to: n, by: arena.headRows) {
      let rows = min(arena.headRows, n - first)
      let lnf = arena.lnf + first * c
      profiler.measure(.outputProjection) {
        BLAS.gemm(
          transB: true, m: rows, n: v, k: c, a: lnf, lda: c, b: weight, ldb: c, c: logits, ldc: v)
      }
      total += profiler.measure(.loss) {
        kernels.crossEntropy(
          logits: logits, targets: arena.targets + first, rows: rows, vocab: v,
          gradScale: training ? 1 / Float(n) : 0)
      }
      guard training else { continue }
      // logits now hold dLogits for this block.
      profiler.measure(.outputProjection) {
        BLAS.gemm(
          transA: true, m: v, n: c, k: rows, a: logits, lda: v, b: lnf, ldb: c,
          beta: first == 0 ? 0 : 1, c: arena.headGradient, ldc: c)
        BLAS.gemm(
          m: rows, n: c, k: v, a: logits, lda: v, b: weight, ldb: c, c: arena.dlnf + first * c,
          ldc: c)
      }
    }
    return total
  }

  private func blockForward(
    _ l: Int, arena: ActivationArena, slot: Int, x: UnsafeMutablePointer<Float>,
    out: UnsafeMutablePointer<Float>, batch: Int, length: Int, training: Bool
  ) {
    let c = config.width
    let n = batch * length
    let heads = config.heads
    let hs = config.headSize
    let p = layout.blocks[l]
    let w = parameters
    let a = arena.layer(slot)

    // LayerNorm outputs and the MLP activation: the layer's own buffers when the arena keeps them,
    // else shared ones (backward rebuilds them).
    let ln1 = a.ln1 ?? arena.normed
    let ln2 = a.ln2 ?? arena.normed
    let activated = a.activated ?? arena.activated
    profiler.measure(.layerNorm) {
      kernels.layerNormForward(
        x: x, weight: w + p.ln1Weight, bias: w + p.ln1Bias, out: ln1, mean: a.ln1Mean,
        rstd: a.ln1Rstd, rows: n, cols: c)
    }
    // Attention.
    profiler.measure(.linear) {
      kernels.linearForward(
        x: ln1, weight: w + p.qkvWeight, bias: w + p.qkvBias, y: a.qkv, rows: n, inputs: c,
        outputs: 3 * c)
    }
    profiler.measure(.rotary) {
      kernels.rotary(
        qkv: a.qkv, cos: cosTable, sin: sinTable, rows: n, length: length, heads: heads,
        headSize: hs, rotaryDims: config.rotaryDims, inverse: false)
    }
    let scale = 1 / Float(hs).squareRoot()
    let probsCount = Attention.probsCount(length: length)
    profiler.measure(.attention) {
      // One (batch row, head) pair per item, split over the threads.
      Parallel.forEachSlice(batch * heads, threads: threads, callsBLAS: true) { _, items in
        for item in items {
          let b = item / heads
          let h = item % heads
          let q = UnsafePointer(a.qkv + b * length * 3 * c + h * 3 * hs)
          Attention.forward(
            q: q, k: q + hs, v: q + 2 * hs, ldqkv: 3 * c,
            probs: a.probs + (b * heads + h) * probsCount, y: a.attY + b * length * c + h * hs,
            ldy: c, length: length, headSize: hs, scale: scale)
        }
      }
    }
    // out = x + dense(attY) + proj(gelu(fc(ln2))).
    out.update(from: x, count: n * c)
    profiler.measure(.linear) {
      kernels.linearForward(
        x: a.attY, weight: w + p.denseWeight, bias: w + p.denseBias, y: out, rows: n, inputs: c,
        outputs: c, accumulate: true)
    }
    profiler.measure(.layerNorm) {
      kernels.layerNormForward(
        x: x, weight: w + p.ln2Weight, bias: w + p.ln2Bias, out: ln2, mean: a.ln2Mean,
        rstd: a.ln2Rstd, rows: n, cols: c)
    }
    profiler.measure(.linear) {
      Linear.forward(
        x: ln2, weight: w + p.fcWeight, bias: nil, y: a.fc, rows: n, inputs: c, outputs: 4 * c)
    }
    // Adds the fc bias on the fly. A training pass keeps fc for backward, or gelu' over it when
    // the activation is kept too.
    let keepSlope = training && a.activated != nil
    profiler.measure(.gelu) {
      kernels.biasGeluForward(
        pre: a.fc, bias: w + p.fcBias, out: activated, slope: keepSlope ? a.fc : nil, rows: n,
        cols: 4 * c)
    }
    profiler.measure(.linear) {
      kernels.linearForward(
        x: activated, weight: w + p.projWeight, bias: w + p.projBias, y: out, rows: n,
        inputs: 4 * c, outputs: c, accumulate: true)
    }
  }

  // MARK: - Backward

  /// Backward pass of the last training `forward`: accumulates d(mean loss)/d(parameters) into
  /// `gradients`.
  public func backward() {
    if let pending = pendingParallel {
      parallelBackward(pending)
      return
    }
    guard let (batch, length) = pendingBackward, let arena else {
      preconditionFailure("backward() needs a preceding forward(training: true)")
    }
    pendingBackward = nil
    let c = config.width
    let n = batch * length
    let v = config.vocab
    let g = gradients
    // Output projection: forward left dlnf and dW_out (see `headForward`).
    profiler.measure(.outputProjection) {
      Vec.add(arena.headGradient, into: g + layout.embedOut, v * c)
    }
    let dResidual = arena.dResidual
    dResidual.update(repeating: 0, count: n * c)
    profiler.measure(.layerNorm) {
      kernels.layerNormBackward(
        dout: arena.dlnf, x: arena.residual(config.layers), weight: parameters + layout.lnfWeight,
        mean: arena.lnfMean, rstd: arena.lnfRstd, dx: dResidual, dWeight: g + layout.lnfWeight,
        dBias: g + layout.lnfBias, rows: n, cols: c, arena: arena)
    }
    for l in stride(from: config.layers - 1, through: 0, by: -1) {
      blockBackward(l, arena: arena, batch: batch, length: length)
    }
    // Embedding.
    let dEmb = g + layout.embedIn
    profiler.measure(.embedding) {
      for r in 0..<n {
        Vec.add(dResidual + r * c, into: dEmb + Int(arena.inputs[r]) * c, c)
      }
    }
  }

  private func blockBackward(_ l: Int, arena: ActivationArena, batch: Int, length: Int) {
    let c = config.width
    let n = batch * length
    let heads = config.heads
    let hs = config.headSize
    let p = layout.blocks[l]
    let w = parameters
    let g = gradients
    let a = arena.layer(l)
    let x = arena.residual(l)
    let dOut = arena.dResidual  // d loss / d(block output); becomes d loss / d(block input)

    // A LayerNorm output: kept, or rebuilt into `normed` (mean and rstd come out the same).
    func layerNormOutput(
      _ kept: UnsafeMutablePointer<Float>?, weight: Int, bias: Int,
      mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>
    ) -> UnsafeMutablePointer<Float> {
      if let kept { return kept }
      profiler.measure(.layerNorm) {
        kernels.layerNormForward(
          x: x, weight: w + weight, bias: w + bias, out: arena.normed, mean: mean, rstd: rstd,
          rows: n, cols: c)
      }
      return arena.normed
    }

    // MLP branch.
    if let activated = a.activated {  // kept, with gelu' over fc
      profiler.measure(.linear) {
        kernels.linearBackward(
          dy: dOut, x: activated, weight: w + p.projWeight, dx: arena.dFc,
          dWeight: g + p.projWeight, dBias: g + p.projBias, rows: n, inputs: 4 * c, outputs: c,
          arena: arena)
      }
      profiler.measure(.gelu) {
        kernels.geluBackward(slope: a.fc, arena.dFc, n * 4 * c)
      }
    } else {
      // dActivation, then one pass that rebuilds gelu(fc + bias) from the kept fc and turns
      // dActivation into dFc, then the projection's weight gradient on the rebuilt activation.
      profiler.measure(.linear) {
        Linear.backwardInput(
          dy: dOut, weight: w + p.projWeight, dx: arena.dFc, rows: n, inputs: 4 * c, outputs: c)
      }
      profiler.measure(.gelu) {
        kernels.biasGeluBackward(
          pre: a.fc, bias: w + p.fcBias, out: arena.activated, d: arena.dFc, rows: n, cols: 4 * c)
      }
      profiler.measure(.linear) {
        kernels.linearBackwardWeights(
          dy: dOut, x: arena.activated, dWeight: g + p.projWeight, dBias: g + p.projBias,
          rows: n, inputs: 4 * c, outputs: c, arena: arena)
      }
    }
    let ln2 = layerNormOutput(
      a.ln2, weight: p.ln2Weight, bias: p.ln2Bias, mean: a.ln2Mean, rstd: a.ln2Rstd)
    profiler.measure(.linear) {
      kernels.linearBackward(
        dy: arena.dFc, x: ln2, weight: w + p.fcWeight, dx: arena.dLn2, dWeight: g + p.fcWeight,
        dBias: g + p.fcBias, rows: n, inputs: c, outputs: 4 * c, arena: arena)
    }
    // Attention branch.
    profiler.measure(.linear) {
      kernels.linearBackward(
        dy: dOut, x: a.attY, weight: w + p.denseWeight, dx: arena.dAttY, dWeight: g + p.denseWeight,
        dBias: g + p.denseBias, rows: n, inputs: c, outputs: c, arena: arena)
    }
    let scale = 1 / Float(hs).squareRoot()
    let probsCount = Attention.probsCount(length: length)
    profiler.measure(.attention) {
      Parallel.forEachSlice(batch * heads, threads: threads, callsBLAS: true) { part, items in
        let dProbs = arena.dProbs + part * arena.dProbsPerPart
        for item in items {
          let b = item / heads
          let h = item % heads
          let base = b * length * 3 * c + h * 3 * hs
          let q = UnsafePointer(a.qkv + base)
          let dq = arena.dQkv + base
          Attention.backward(
            q: q, k: q + hs, v: q + 2 * hs, ldqkv: 3 * c,
            probs: a.probs + (b * heads + h) * probsCount,
            dy: arena.dAttY + b * length * c + h * hs, ldy: c, dq: dq, dk: dq + hs, dv: dq + 2 * hs,
            scratch: dProbs, length: length, headSize: hs, scale: scale)
        }
      }
    }
    profiler.measure(.rotary) {
      kernels.rotary(
        qkv: arena.dQkv, cos: cosTable, sin: sinTable, rows: n, length: length, heads: heads,
        headSize: hs, rotaryDims: config.rotaryDims, inverse: true)
    }
    let ln1 = layerNormOutput(
      a.ln1, weight: p.ln1Weight, bias: p.ln1Bias, mean: a.ln1Mean, rstd: a.ln1Rstd)
    profiler.measure(.linear) {
      kernels.linearBackward(
        dy: arena.dQkv, x: ln1, weight: w + p.qkvWeight, dx: arena.dLn1,
        dWeight: g + p.qkvWeight,
        dBias: g + p.qkvBias, rows: n, inputs: c, outputs: 3 * c, arena: arena)
    }
    // Both LayerNorms feed from x; the identity path keeps dOut itself.
    profiler.measure(.layerNorm) {
      kernels.layerNormBackward(
        dout: arena.dLn1, x: x, weight: w + p.ln1Weight, mean: a.ln1Mean, rstd: a.ln1Rstd,
        dx: dOut, dWeight: g + p.ln1Weight, dBias: g + p.ln1Bias, rows: n, cols: c, arena: arena)
    }
    profiler.measure(.layerNorm) {
      kernels.layerNormBackward(
        dout: arena.dLn2, x: x, weight: w + p.ln2Weight, mean: a.ln2Mean, rstd: a.ln2Rstd,
        dx: dOut, dWeight: g + p.ln2Weight, dBias: g + p.ln2Bias, rows: n, cols: c, arena: arena)
    }
  }

  // MARK: - Data-parallel training passes

  /// Forward (training or evaluation) over contiguous row slices, one replica per engine thread;
  /// returns the mean loss of
  /// the whole batch (the replicas' means weighted by their rows, added in slice order).
  private func parallelForward(
    tokens: UnsafePointer<Int32>, batch: Int, length: Int, training: Bool
  ) -> Float {
    let parts = min(threads, batch)
    while replicas.count < parts { replicas.append(GPTNeoX(replicaOf: self)) }
    let ranges = (0..<parts).map { Parallel.slice($0, of: parts, count: batch) }
    var losses = [Float](repeating: 0, count: parts)
    let replicas = self.replicas
    for (i, r) in replicas.prefix(parts).enumerated() {
      r.threads = 1
      // The first replica's op times stand for the step (the others run alongside).
      r.profiler = i == 0 ? profiler : nil
    }
    losses.withUnsafeMutableBufferPointer { out in
      Parallel.forEachSlice(parts, threads: parts, callsBLAS: true) { part, _ in
        let rows = ranges[part]
        out[part] = replicas[part].forward(
          tokens: tokens + rows.lowerBound * (length + 1), batch: rows.count, length: length,
          training: training)
      }
    }
    if training { pendingParallel = (batch, ranges) }
    var total: Float = 0
    for (loss, rows) in zip(losses, ranges) { total += loss * Float(rows.count) }
    return total / Float(batch)
  }

  /// Backward of every replica at once, then `gradients += Σ (rows_i / batch) · g_i`.
  private func parallelBackward(_ pending: (batch: Int, parts: [Range<Int>])) {
    pendingParallel = nil
    let parts = pending.parts.count
    let replicas = self.replicas
    Parallel.forEachSlice(parts, threads: parts, callsBLAS: true) { part, _ in
      replicas[part].zeroGradients()
      replicas[part].backward()
    }
    let g = gradients
    let weights = pending.parts.map { Float($0.count) / Float(pending.batch) }
    Parallel.forEachSlice(layout.count, threads: threads, minimumPerPart: 65_536) { _, range in
      for (replica, w) in zip(replicas, weights) {
        Vec.axpy(w, replica.gradients + range.lowerBound, g + range.lowerBound, range.count)
      }
    }
  }

  // MARK: - Evaluation and helpers

  /// Mean next-token loss without keeping activations for backward.
  public func loss(tokens: UnsafePointer<Int32>, batch: Int, length: Int) -> Float {
    forward(tokens: tokens, batch: batch, length: length, training: false)
  }

  /// √(Σ g²) over all gradients.
  public func gradientNorm() -> Double {
    let count = layout.count
    let g = gradients
    let threads = self.threads
    var sums = [Double](
      repeating: 0, count: Parallel.partCount(count, threads: threads, minimumPerPart: 65_536))
    sums.withUnsafeMutableBufferPointer { s in
      Parallel.forEachSlice(count, threads: threads, minimumPerPart: 65_536) { part, r in
        s[part] = Vec.sumOfSquares(g + r.lowerBound, r.count)
      }
    }
    return sums.reduce(0, +).squareRoot()
  }

  /// Windows the model's own arena holds (nil: none made), then each data-parallel replica's: what
  /// `ModelConfig.trainingBytes(batch:threads:)` counts; for tests.
  var arenaBatches: (own: Int?, replicas: [Int]) {
    (arena?.batch, replicas.map { $0.arena?.batch ?? 0 })
  }

  private func arenaFor(batch: Int, length: Int, training: Bool) -> ActivationArena {
    let slots = training ? config.layers : 1
    let parts = threads
    if let arena, arena.fits(batch: batch, length: length, slots: slots, parts: parts) {
      return arena
    }
    let newArena = ActivationArena(
      config: config, batch: max(batch, arena?.batch ?? 0), length: max(length, arena?.length ?? 0),
      slots: max(slots, arena?.slots ?? 0), parts: max(parts, arena?.parts ?? 0),
      headRows: headBlockRows, keepOutputs: keepLayerOutputs)
    arena = newArena
    return newArena
  }
}
