import Foundation
import Tensor

/// The small fixed model and batch that the PyTorch cross-check (scripts/torch_reference.py) and the
/// unit tests share: a few AdamW steps from a fixed seed, so no parameter is at its initial value.
public enum ReferenceFixture {
  public static let config = ModelConfig(
    layers: 2, heads: 2, width: 16, context: 8, vocab: 37, rotaryFraction: 0.5)
  public static let batch = 3

  /// B×(T+1) token ids of the fixed batch.
  public static func tokens() -> [Int32] {
    var rng = SeededRNG(seed: 2024)
    return (0..<(batch * (config.context + 1))).map { _ in Int32(rng.nextInt(below: config.vocab)) }
  }

  /// The fixture model: seed 7, then 5 AdamW steps (lr 1e-2) on other random batches.
  public static func model() throws -> GPTNeoX {
    let model = try GPTNeoX(config: config, seed: 7)
    let optimizer = AdamW(layout: model.layout)
    var rng = SeededRNG(seed: 99)
    let t = config.context
    for _ in 0..<5 {
      let tokens = (0..<(batch * (t + 1))).map { _ in Int32(rng.nextInt(below: config.vocab)) }
      model.zeroGradients()
      _ = tokens.withUnsafeBufferPointer {
        model.forward(tokens: $0.baseAddress!, batch: batch, length: t, training: true)
      }
      model.backward()
      optimizer.update(model: model, learningRate: 1e-2)
    }
    return model
  }

  /// Loss and gradients of `model` on `tokens` (B×(T+1)), gradients as safetensors-ready tensors.
  public static func lossAndGradients(model: GPTNeoX, tokens: [Int32], batch: Int) -> (
    loss: Float, gradients: [String: [Float]]
  ) {
    let t = (tokens.count / batch) - 1
    model.zeroGradients()
    let loss = tokens.withUnsafeBufferPointer {
      model.forward(tokens: $0.baseAddress!, batch: batch, length: t, training: true)
    }
    model.backward()
    var out: [String: [Float]] = [:]
    for e in model.layout.entries {
      out[e.name] = Array(UnsafeBufferPointer(start: model.gradients + e.offset, count: e.count))
    }
    return (loss, out)
  }
}
