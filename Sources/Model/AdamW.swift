import Foundation
import Tensor

/// AdamW with decoupled weight decay, as PyTorch's `torch.optim.AdamW`, plus global-norm clipping.
///
/// Decay applies to every 2-D weight matrix (both embeddings, the attention and MLP projections) and
/// never to biases or LayerNorm gains/biases. The learning rate is given per step from outside.
public final class AdamW: @unchecked Sendable {
  public struct Hyperparameters: Sendable, Hashable, Codable {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.95
    public var epsilon: Float = 1e-8
    public var weightDecay: Float = 0.1
    /// Gradients are scaled so that their global L2 norm is at most this (≤ 0 turns clipping off).
    public var clipNorm: Float = 1.0
    public init() {}
  }

  public var hyper: Hyperparameters
  /// First moments (exp_avg), same layout as the model's parameters.
  public let m: UnsafeMutablePointer<Float>
  /// Second moments (exp_avg_sq).
  public let v: UnsafeMutablePointer<Float>
  /// Number of updates taken since the last reset (PyTorch's `step`, for bias correction).
  public var step: Int = 0
  private let count: Int
  /// (offset, count, decayed) spans of the parameter block.
  private let spans: [(Int, Int, Bool)]

  public init(layout: ParameterLayout, hyper: Hyperparameters = .init()) {
    self.hyper = hyper
    count = layout.count
    m = .allocate(capacity: count)
    v = .allocate(capacity: count)
    m.initialize(repeating: 0, count: count)
    v.initialize(repeating: 0, count: count)
    spans = layout.entries.map { ($0.offset, $0.count, $0.decayed) }
  }

  deinit {
    m.deallocate()
    v.deallocate()
  }

  /// Forgets both moments and the step count (the paper resets the optimizer between datasets).
  public func reset() {
    m.update(repeating: 0, count: count)
    v.update(repeating: 0, count: count)
    step = 0
  }

  /// Clips the gradients in place to `clipNorm` and takes one AdamW step with learning rate `lr`.
  /// Returns the gradient norm before clipping.
  @discardableResult
  public func update(model: GPTNeoX, learningRate lr: Float) -> Double {
    precondition(model.layout.count == count, "optimizer built for another model")
    let norm = model.gradientNorm()
    var gradScale: Float = 1
    if hyper.clipNorm > 0 {
      // torch.nn.utils.clip_grad_norm_: coefficient max_norm / (norm + 1e-6), clamped to 1.
      let coefficient = Double(hyper.clipNorm) / (norm + 1e-6)
      if coefficient < 1 { gradScale = Float(coefficient) }
    }
    step += 1
    let b1 = hyper.beta1
    let b2 = hyper.beta2
    let biasCorrection1 = 1 - Float(pow(Double(b1), Double(step)))
    let biasCorrection2 = 1 - Float(pow(Double(b2), Double(step)))
    let stepSize = lr / biasCorrection1
    let invSqrtBc2 = 1 / biasCorrection2.squareRoot()
    let eps = hyper.epsilon
    let p = model.parameters
    let g = model.gradients
    let m = self.m
    let v = self.v
    for (offset, n, decayed) in spans {
      let decay: Float = decayed ? 1 - lr * hyper.weightDecay : 1
      Parallel.forEachSlice(n, threads: model.threads, minimumPerPart: 16_384) { _, range in
        for i in (offset + range.lowerBound)..<(offset + range.upperBound) {
          let grad = g[i] * gradScale
          let mi = b1 * m[i] + (1 - b1) * grad
          let vi = b2 * v[i] + (1 - b2) * grad * grad
          m[i] = mi
          v[i] = vi
          let denominator = vi.squareRoot() * invSqrtBc2 + eps
          p[i] = p[i] * decay - stepSize * mi / denominator
        }
      }
    }
    return norm
  }
}
