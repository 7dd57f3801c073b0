/// Every buffer a forward and backward pass needs, allocated once for a batch shape and reused each
/// step (no allocation on the hot path). N = B·T rows; sizes in floats unless said otherwise.
final class ActivationArena {
  /// Per-layer activations kept for backward.
  struct Layer {
    var ln1Mean, ln1Rstd, ln2Mean, ln2Rstd: UnsafeMutablePointer<Float>  // [N]
    var qkv: UnsafeMutablePointer<Float>  // [N×3C], q and k rotated
    var probs: UnsafeMutablePointer<Float>  // [B×H×probsCount(T)] packed attention probabilities
    var attY: UnsafeMutablePointer<Float>  // [N×C] attention output before the dense projection
    var fc: UnsafeMutablePointer<Float>  // [N×4C] MLP pre-activation before its bias (see below)
    /// Kept only when the arena `keepsOutputs`: the LayerNorm outputs [N×C] and the MLP activation
    /// [N×4C]; a training forward then also writes gelu' over `fc`. Else nil: backward rebuilds
    /// them from the residual, mean, rstd and fc into `normed` and `activated`.
    var ln1, ln2, activated: UnsafeMutablePointer<Float>?
  }

  let batch: Int
  let length: Int
  let slots: Int
  private var layers: [Layer] = []
  private var residuals: [UnsafeMutablePointer<Float>] = []  // L+1 × [N×C]
  private var owned: [UnsafeMutablePointer<Float>] = []

  let inputs: UnsafeMutablePointer<Int32>  // [N]
  let targets: UnsafeMutablePointer<Int32>  // [N]
  let lnf, lnfMean, lnfRstd: UnsafeMutablePointer<Float>  // [N×C], [N], [N]
  /// One block of the output projection: [headRows×V] logits, then (training) dLoss/dLogits.
  let logits: UnsafeMutablePointer<Float>
  /// Rows per output-projection block: enough for efficient GEMMs, few enough that the logits
  /// stay a few MiB (N×V floats would be config A's largest buffer).
  let headRows: Int
  /// dLoss/dW_out [V×C], summed over the blocks of a training forward; `backward` adds it to the
  /// gradients.
  let headGradient: UnsafeMutablePointer<Float>
  /// Recomputed, not kept (unless `keepsOutputs`; then 1 float each): a LayerNorm output [N×C]
  /// and the MLP activation gelu(fc + bias) [N×4C] live here while one layer's GEMMs read them, in
  /// forward and again in backward, where they are rebuilt from the kept residual, mean, rstd and
  /// fc (bit for bit the forward's values).
  let normed, activated: UnsafeMutablePointer<Float>
  // Backward scratch, shared by all layers.
  let dlnf, dResidual, dLn1, dLn2, dAttY: UnsafeMutablePointer<Float>  // [N×C]
  let dQkv: UnsafeMutablePointer<Float>  // [N×3C]
  let dFc: UnsafeMutablePointer<Float>  // [N×4C]
  /// Attention backward's dP of one query block per thread: [parts × dProbsPerPart], each
  /// min(blockRows, T) rows of T (`Attention.backward`'s scratch).
  let dProbs: UnsafeMutablePointer<Float>
  let dProbsPerPart: Int
  /// Per-thread partial sums (LayerNorm and bias gradients): [parts × 8C].
  let partials: UnsafeMutablePointer<Float>
  let partialStride: Int
  /// Threads this arena has scratch for.
  let parts: Int

  /// True when every layer keeps its LayerNorm and GELU outputs (6·C floats a row) instead of
  /// rebuilding them in backward: when they take at most `keptOutputsBudget` bytes in all. Rebuilding
  /// costs about 3 % of a small model's step (config B) and saves a quarter of config A's memory.
  let keepsOutputs: Bool
  static let keptOutputsBudget = 32 << 20

  /// `headRows` overrides the output projection's block rows (tests use it to split small batches);
  /// `keepOutputs` overrides the choice of `keepsOutputs` (tests compare both ways).
  init(
    config: ModelConfig, batch: Int, length: Int, slots: Int, parts: Int, headRows: Int? = nil,
    keepOutputs: Bool? = nil
  ) {
    self.parts = parts
    self.batch = batch
    self.length = length
    self.slots = slots
    let n = batch * length
    let c = config.width
    var owned: [UnsafeMutablePointer<Float>] = []
    var counted = 0
    func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
      counted += max(count, 1)
      let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
      p.initialize(repeating: 0, count: max(count, 1))
      owned.append(p)
      return p
    }
    let keep = keepOutputs ?? (slots * 6 * n * c * 4 <= Self.keptOutputsBudget)
    keepsOutputs = keep
    for _ in 0..<slots {
      layers.append(
        Layer(
          ln1Mean: buffer(n), ln1Rstd: buffer(n),
          ln2Mean: buffer(n), ln2Rstd: buffer(n), qkv: buffer(n * 3 * c),
          probs: buffer(batch * config.heads * Attention.probsCount(length: length)),
          attY: buffer(n * c),
          fc: buffer(n * 4 * c),
          ln1: keep ? buffer(n * c) : nil, ln2: keep ? buffer(n * c) : nil,
          activated: keep ? buffer(n * 4 * c) : nil))
    }
    residuals = (0...max(config.layers, 1)).map { _ in buffer(n * c) }
    lnf = buffer(n * c)
    lnfMean = buffer(n)
    lnfRstd = buffer(n)
    self.headRows = max(1, min(n, headRows ?? Self.headRows(rows: n, vocab: config.vocab)))
    logits = buffer(self.headRows * config.vocab)
    headGradient = buffer(config.vocab * c)
    normed = buffer(keep ? 0 : n * c)
    activated = buffer(keep ? 0 : n * 4 * c)
    dlnf = buffer(n * c)
    dResidual = buffer(n * c)
    dLn1 = buffer(n * c)
    dLn2 = buffer(n * c)
    dAttY = buffer(n * c)
    dQkv = buffer(n * 3 * c)
    dFc = buffer(n * 4 * c)
    dProbsPerPart = min(Attention.blockRows, length) * length
    dProbs = buffer(parts * dProbsPerPart)
    partialStride = 8 * c
    partials = buffer(parts * partialStride)
    inputs = .allocate(capacity: max(n, 1))
    targets = .allocate(capacity: max(n, 1))
    self.owned = owned
    floatCount = counted
  }

  /// Rows per output-projection block for a pass of `rows` rows: a block of logits holds 2²¹
  /// floats (8 MiB), or 256 rows when V is so large that fewer rows would make slow GEMMs.
  static func headRows(rows: Int, vocab: Int) -> Int {
    max(1, min(rows, max(256, (1 << 21) / max(vocab, 1))))
  }

  /// Floats this arena holds (token ids aside): what `ModelConfig.trainingBytes` estimates.
  let floatCount: Int

  deinit {
    for p in owned { p.deallocate() }
    inputs.deallocate()
    targets.deallocate()
  }

  /// True when this arena can hold a pass of this shape, kept layers and threads. Every buffer is
  /// indexed by rows (b·T + t), by (b·H + h)·probsCount(T) or per thread by min(64, T)·T, so
  /// smaller shapes fit in larger buffers.
  func fits(batch: Int, length: Int, slots: Int, parts: Int) -> Bool {
    batch <= self.batch && length <= self.length && slots <= self.slots && parts <= self.parts
  }

  func layer(_ i: Int) -> Layer { layers[i] }
  func residual(_ i: Int) -> UnsafeMutablePointer<Float> { residuals[i] }
}
