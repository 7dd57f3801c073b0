/// Where each parameter tensor lives in the model's one contiguous fp32 block.
///
/// Names and layouts follow Hugging Face's GPT-NeoX (`GPTNeoXForCausalLM`), so a checkpoint opens in
/// PyTorch directly. Linear weights are `[out, in]` row-major (y = x·Wᵀ + b). The fused attention
/// projection `query_key_value` is `[3C, C]`; its output row of 3C values is read per head h as
/// `[q(hs) k(hs) v(hs)]` at offset h·3·hs. See docs/checkpoints.md.
public struct ParameterLayout: Sendable {
  /// One tensor in the block.
  public struct Entry: Sendable, Hashable {
    public var name: String
    public var shape: [Int]
    /// Offset in elements from the start of the block.
    public var offset: Int
    public var count: Int { shape.reduce(1, *) }
    /// True for matrices that AdamW decays (all 2-D weights); false for biases and LayerNorm.
    public var decayed: Bool { shape.count == 2 }
  }

  /// Offsets (in elements) of one block's tensors.
  public struct Block: Sendable, Hashable {
    public var ln1Weight = 0, ln1Bias = 0, ln2Weight = 0, ln2Bias = 0
    public var qkvWeight = 0, qkvBias = 0, denseWeight = 0, denseBias = 0
    public var fcWeight = 0, fcBias = 0, projWeight = 0, projBias = 0
  }

  public let entries: [Entry]
  /// Total number of parameters.
  public let count: Int
  public let embedIn: Int
  public let blocks: [Block]
  public let lnfWeight: Int
  public let lnfBias: Int
  public let embedOut: Int

  public init(config: ModelConfig) {
    let c = config.width
    let v = config.vocab
    var entries: [Entry] = []
    var offset = 0
    func add(_ name: String, _ shape: [Int]) -> Int {
      let entry = Entry(name: name, shape: shape, offset: offset)
      entries.append(entry)
      offset += entry.count
      return entry.offset
    }
    embedIn = add("gpt_neox.embed_in.weight", [v, c])
    var blocks: [Block] = []
    for l in 0..<config.layers {
      let p = "gpt_neox.layers.\(l)."
      var b = Block()
      b.ln1Weight = add(p + "input_layernorm.weight", [c])
      b.ln1Bias = add(p + "input_layernorm.bias", [c])
      b.ln2Weight = add(p + "post_attention_layernorm.weight", [c])
      b.ln2Bias = add(p + "post_attention_layernorm.bias", [c])
      b.qkvWeight = add(p + "attention.query_key_value.weight", [3 * c, c])
      b.qkvBias = add(p + "attention.query_key_value.bias", [3 * c])
      b.denseWeight = add(p + "attention.dense.weight", [c, c])
      b.denseBias = add(p + "attention.dense.bias", [c])
      b.fcWeight = add(p + "mlp.dense_h_to_4h.weight", [4 * c, c])
      b.fcBias = add(p + "mlp.dense_h_to_4h.bias", [4 * c])
      b.projWeight = add(p + "mlp.dense_4h_to_h.weight", [c, 4 * c])
      b.projBias = add(p + "mlp.dense_4h_to_h.bias", [c])
      blocks.append(b)
    }
    self.blocks = blocks
    lnfWeight = add("gpt_neox.final_layer_norm.weight", [c])
    lnfBias = add("gpt_neox.final_layer_norm.bias", [c])
    embedOut = add("embed_out.weight", [v, c])
    self.entries = entries
    self.count = offset
  }

  /// Parameters outside the two embedding matrices (the N in 6·N FLOPs per token).
  public var nonEmbeddingCount: Int {
    entries.filter { $0.name != "gpt_neox.embed_in.weight" && $0.name != "embed_out.weight" }
      .reduce(0) { $0 + $1.count }
  }
}

extension ModelConfig {
  /// Training FLOPs per token: 6·N_nonembedding + 12·L·C·T, issue 8's count (Kaplan et al.'s N
  /// without the embedding matrices, as Pythia reports it, plus PaLM's attention term, which
  /// counts QKᵀ and AV at full T).
  public var trainingFlopsPerToken: Double {
    let n = Double(ParameterLayout(config: self).nonEmbeddingCount)
    return 6 * n + 12 * Double(layers) * Double(width) * Double(context)
  }

  /// Training FLOPs per token with the output projection counted too: `trainingFlopsPerToken` +
  /// 6·V·C (PaLM's MFU convention, whose N holds the unembedding). At V = 4096, C = 256 the
  /// output projection is a fifth of the step's GEMM FLOPs, which the count above leaves out.
  public var trainingFlopsPerTokenWithHead: Double {
    trainingFlopsPerToken + 6 * Double(vocab) * Double(width)
  }
}
