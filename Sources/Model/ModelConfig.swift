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
    if width % heads != 0 {
      throw ModelConfigError(
        field: "width", message: "width \(width) is not divisible by heads \(heads)")
    }
    if !(0...1).contains(rotaryFraction) {
      throw ModelConfigError(
        field: "rotaryFraction", message: "must be between 0 and 1, got \(rotaryFraction)")
    }
    if !(rotaryBase > 0) {
      throw ModelConfigError(field: "rotaryBase", message: "must be positive, got \(rotaryBase)")
    }
  }
}

/// A model configuration that cannot be built; `field` names the offending field.
public struct ModelConfigError: Error, CustomStringConvertible, Equatable {
  public var field: String
  public var message: String
  public var description: String { "model.\(field): \(message)" }
}
