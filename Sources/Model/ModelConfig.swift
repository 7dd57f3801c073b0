/// The size of a GPT-NeoX-style model. Shape letters used throughout the engine:
/// B batch, T context (tokens per window), C width, H heads, hs = C/H head size, V vocabulary, L layers.
public struct ModelConfig: Sendable, Hashable, Codable {
  /// L: number of transformer blocks.
  public var layers: Int
  /// H: attention heads per block.
  public var heads: Int
  /// C: residual stream width.
  public var width: Int
  /// T: the longest window the model is built for (rotary tables and buffers are sized to it).
  public var context: Int
  /// V: vocabulary size.
  public var vocab: Int
  /// Share of each head's dimensions that get rotary position embedding (GPT-NeoX `rotary_pct`).
  public var rotaryFraction: Double
  /// Rotary base frequency (GPT-NeoX `rotary_emb_base`).
  public var rotaryBase: Double

  public init(
    layers: Int, heads: Int, width: Int, context: Int, vocab: Int,
    rotaryFraction: Double = 0.25, rotaryBase: Double = 10_000
  ) {
    self.layers = layers
    self.heads = heads
    self.width = width
    self.context = context
    self.vocab = vocab
    self.rotaryFraction = rotaryFraction
    self.rotaryBase = rotaryBase
  }

  /// hs: dimensions per head.
  public var headSize: Int { width / max(heads, 1) }

  /// Dimensions per head that are rotated (even, at most hs).
  public var rotaryDims: Int {
    let dims = Int((Double(headSize) * rotaryFraction).rounded(.down))
    return dims - dims % 2
  }

  /// Checks every field; the error names the field that is wrong.
  public func validate() throws(ModelConfigError) {
    func positive(_ value: Int, _ field: String) throws(ModelConfigError) {
      if value <= 0 {
        throw ModelConfigError(field: field, message: "must be positive, got \(value)")
      }
    }
    try positive(layers, "layers")
    try positive(heads, "heads")
    try positive(width, "width")
    try positive(context, "context")
    try positive(vocab, "vocab")
    if vocab < 2 {
      // One token: every loss is log 1 = 0, nothing to learn or measure.
      throw ModelConfigError(field: "vocab", message: "must be at least 2, got \(vocab)")
    }
    if width % heads != 0 {
      throw ModelConfigError(
        field: "width", message: "width \(width) is not divisible by heads \(heads)",
        others: ["heads"])
    }
    if !(0...1).contains(rotaryFraction) {
      throw ModelConfigError(
        field: "rotaryFraction", message: "must be between 0 and 1, got \(rotaryFraction)")
    }
    if !(rotaryBase > 0) {
      throw ModelConfigError(field: "rotaryBase", message: "must be positive, got \(rotaryBase)")
    }
    // Sizes whose products overflow Int or whose parameters alone could not be held: refused here,
    // before anything multiplies them.
    for (value, field) in [
      (layers, "layers"), (width, "width"), (context, "context"), (vocab, "vocab"),
    ]
    where value > Self.largestDimension {
      throw ModelConfigError(
        field: field,
        message: "\(value) is larger than cptui trains (at most \(Self.largestDimension))")
    }
    if parameterEstimate > Self.largestParameterCount {
      throw ModelConfigError(
        field: "width",
        message:
          "this model has about \(Self.short(parameterEstimate)) parameters; cptui trains up to "
          + "\(Self.short(Self.largestParameterCount)) on the CPU",
        others: ["layers", "vocab"])
    }
  }

  /// The largest layers, width, context or vocab `validate` accepts.
  public static let largestDimension = 1 << 20
  /// The most parameters `validate` accepts (16 GB of fp32 weights, gradients and AdamW moments).
  public static let largestParameterCount = 1e9

  /// Parameters, counted in Double so that no size overflows: embeddings in and out (2·V·C), per
  /// block 12·C² weights and 13·C biases and LayerNorm entries, the final LayerNorm (2·C).
  public var parameterEstimate: Double {
    let c = Double(width)
    return 2 * Double(vocab) * c + Double(layers) * (12 * c * c + 13 * c) + 2 * c
  }

  /// Bytes a training run on `threads` engine threads needs, about: weights, gradients and AdamW's
  /// two moments (16 bytes per parameter) and the activation arena of one training pass over
  /// `batch` windows of `context` tokens (`activationFloats`). With 2 or more threads (data
  /// parallel, `GPTNeoX.dataParallel`, the default), each of min(threads, batch) replicas
  /// holds its own gradients (4 bytes per parameter) and an arena for its slice of the batch, and
  /// the model holds none. In Double, so absurd sizes give a large number, not a trap.
  public func trainingBytes(batch: Int, threads: Int = 1) -> Double {
    let parameters = 16 * parameterEstimate
    guard threads > 1 else { return parameters + 4 * activationFloats(batch: Double(batch)) }
    let parts = max(1, min(threads, batch))
    // `Parallel.slice`'s windows, in Double: an absurd batch must not overflow.
    let (windows, n) = (Double(batch), Double(parts))
    let arenas = (0..<parts).reduce(0.0) { sum, i in
      let start = (windows * Double(i) / n).rounded(.down)
      let end = (windows * Double(i + 1) / n).rounded(.down)
      return sum + activationFloats(batch: end - start)
    }
    return parameters + n * 4 * parameterEstimate + 4 * arenas
  }

  /// Floats of the activation arena of one training pass over `batch` windows of `context` tokens
  /// (N = B·T rows; `ActivationArena.floatCount` exactly): per layer 8·C kept floats per row (qkv,
  /// attention output, fc) and B·H causal blocks of attention probabilities (at most T²/2 + 32·T
  /// each); L+1 residuals and the final LayerNorm's output; LayerNorm and GELU outputs (6·C per row
  /// and layer when kept, else 5·C in all); 12·C of backward scratch; one output-projection block
  /// of logits and dW_out; one attention query block's dP (min(64, T) rows of T).
  func activationFloats(batch: Double) -> Double {
    let (l, c, t, v) = (Double(layers), Double(width), Double(context), Double(vocab))
    let n = batch * t
    // Packed causal probabilities (`Attention.probsCount`): q full blocks of b rows, then the rest.
    let b = Double(Attention.blockRows)
    let q = (t / b).rounded(.down)
    let probs = b * b * q * (q + 1) / 2 + (t - q * b) * t
    let perLayer = n * 8 * c + 4 * n + batch * Double(heads) * probs
    let headRows = min(n, max(256, (Double(1 << 21) / v).rounded(.down)))
    // LayerNorm and GELU outputs: kept by every layer when small (`ActivationArena.keepsOutputs`),
    // else two shared buffers that backward rebuilds them in.
    let kept = l * 6 * n * c
    let outputs = kept * 4 <= Double(ActivationArena.keptOutputsBudget) ? kept + 2 : 5 * n * c
    return l * perLayer + (l + 2) * n * c + outputs + 12 * n * c + 2 * n + headRows * v + v * c
      + min(b, t) * t + 8 * c
  }

  /// "1.2G", "35M", "800": two significant digits above a million (so 1.2G never reads as the
  /// 1G limit).
  static func short(_ value: Double) -> String {
    func twoDigits(_ x: Double) -> String {
      x >= 10 ? "\(Int(x.rounded()))" : String(format: "%g", (x * 10).rounded() / 10)
    }
    return value >= 1e9
      ? twoDigits(value / 1e9) + "G"
      : value >= 1e6 ? twoDigits(value / 1e6) + "M" : "\(Int(value.rounded()))"
  }
}

/// A model configuration that cannot be built; `field` names the offending field.
public struct ModelConfigError: Error, CustomStringConvertible, Equatable {
  public var field: String
  public var message: String
  /// Other fields the problem is about (heads, for a width not divisible by heads): a config
  /// loader names whichever of them an override set.
  public var others: [String] = []
  public var description: String { "model.\(field): \(message)" }

  public init(field: String, message: String, others: [String] = []) {
    self.field = field
    self.message = message
    self.others = others
  }
}
