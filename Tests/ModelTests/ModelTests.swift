import Foundation
import Testing

@testable import Model
@testable import Tensor

struct ModelBehaviourTests {
  @Test func configErrorsNameTheField() {
    let cases: [(ModelConfig, String)] = [
      (ModelConfig(layers: 2, heads: 3, width: 8, context: 4, vocab: 10), "width"),
      (ModelConfig(layers: 0, heads: 2, width: 8, context: 4, vocab: 10), "layers"),
      (ModelConfig(layers: 1, heads: 2, width: 8, context: -1, vocab: 10), "context"),
      (ModelConfig(layers: 1, heads: 2, width: 8, context: 4, vocab: 0), "vocab"),
      (
        ModelConfig(layers: 1, heads: 2, width: 8, context: 4, vocab: 5, rotaryFraction: 2),
        "rotaryFraction"
      ),
    ]
    for (config, field) in cases {
      #expect(throws: ModelConfigError.self) { try config.validate() }
      do {
        try config.validate()
      } catch {
        #expect(error.field == field)
        #expect(error.description.contains("model.\(field)"))
      }
    }
  }

  /// A training pass's arena holds what `ModelConfig.trainingBytes` estimates (which refuses
  /// configs too large for the machine), and no longer the N×V logits, whole T×T probabilities
  /// or, when they would be large, per-layer LayerNorm and GELU outputs: config A's arena was 424 MiB and is 272 MiB
  /// (LayerNorm and GELU outputs recomputed in backward: −76 MiB; logits in blocks of 512 rows and
  /// dW_out: −52 MiB; probabilities packed by query block: −24 MiB).
  @Test(arguments: [
    ModelConfig(layers: 4, heads: 4, width: 256, context: 256, vocab: 4096),
    ModelConfig(layers: 4, heads: 4, width: 128, context: 128, vocab: 512),
    ModelConfig(layers: 3, heads: 2, width: 24, context: 200, vocab: 131_071),
    // 2²¹ / 5000 = 419.4: a block of 419 rows.
    ModelConfig(layers: 2, heads: 2, width: 32, context: 256, vocab: 5000),
  ])
  func arenaHoldsWhatTheEstimateSays(config: ModelConfig) {
    let batch = 16
    let arena = ActivationArena(
      config: config, batch: batch, length: config.context, slots: config.layers, parts: 1)
    let params = Double(ParameterLayout(config: config).count)
    #expect(Double(4 * arena.floatCount) + 16 * params == config.trainingBytes(batch: batch))
    let rows = batch * config.context
    #expect(arena.headRows == min(rows, max(256, (1 << 21) / config.vocab)))
    if config.vocab == 5000 { #expect(arena.headRows == 419) }
    // Config A rebuilds its LayerNorm and GELU outputs (96 MiB kept); B keeps them (24 MiB).
    #expect(arena.keepsOutputs == (config.width < 256))
    if config.width == 256 {
      #expect(arena.headRows == 512)
      #expect(Double(4 * arena.floatCount) / 1_048_576 < 273)
    }
    // On 2 or 3 threads (data parallel), each replica holds gradients and an arena for its slice
    // of the batch (16 rows: 8 and 8, or 5, 5 and 6), and the model holds no arena.
    for threads in [2, 3] {
      let slices = (0..<threads).map { Parallel.slice($0, of: threads, count: batch).count }
      let arenas = slices.reduce(0) {
        $0
          + ActivationArena(
            config: config, batch: $1, length: config.context, slots: config.layers, parts: 1
          ).floatCount
      }
      let expected = 16 * params + Double(threads) * 4 * params + 4 * Double(arenas)
      #expect(config.trainingBytes(batch: batch, threads: threads) == expected, "\(threads)")
    }
    // One window is not split, but still runs on a replica: its gradients and arena.
    let oneWindow = ActivationArena(
      config: config, batch: 1, length: config.context, slots: config.layers, parts: 1)
    #expect(
      config.trainingBytes(batch: 1, threads: 2) == 20 * params + 4 * Double(oneWindow.floatCount))
    // An absurd batch gives an absurd number, not an overflow trap.
    #expect(config.trainingBytes(batch: Int.max, threads: 64) > 1e18)
  }

  /// Training on 2 threads splits the batch over replicas, which make their arenas as the estimate
  /// counts them: what `trainingBytes(batch:threads:)` assumes of `GPTNeoX.dataParallel`.
  @Test func replicasTrainOnTheSlicesTheEstimateCounts() throws {
    let config = ModelConfig(layers: 1, heads: 2, width: 16, context: 8, vocab: 40)
    let model = try GPTNeoX(config: config, seed: 1)
    model.threads = 2
    let tokens = [Int32](repeating: 3, count: 5 * 9)
    _ = model.forward(tokens: tokens, batch: 5, length: 8, training: true)
    model.backward()
    // An evaluation's last chunk of one window runs on the first replica, not on an arena of the
    // model's own.
    _ = model.forward(tokens: tokens, batch: 1, length: 8, training: false)
    let batches = model.arenaBatches
    #expect(batches.own == nil && batches.replicas == [2, 3], "\(batches)")
  }

  @Test func sameSeedSameLosses() throws {
    func run() throws -> [Float] {
      let config = ModelConfig(layers: 2, heads: 2, width: 16, context: 8, vocab: 20)
      let model = try GPTNeoX(config: config, seed: 42)
      let optimizer = AdamW(layout: model.layout)
      var rng = SeededRNG(seed: 1)
      var losses: [Float] = []
      for _ in 0..<5 {
        let tokens = (0..<(4 * 9)).map { _ in Int32(rng.nextInt(below: 20)) }
        model.zeroGradients()
        losses.append(model.forward(tokens: tokens, batch: 4, length: 8, training: true))
        model.backward()
        optimizer.update(model: model, learningRate: 1e-2)
      }
      return losses
    }
    let a = try run()
    let b = try run()
    #expect(a == b)
    #expect(a.allSatisfy { $0.isFinite })
  }

  @Test func evaluationMatchesTrainingForward() throws {
    let config = ModelConfig(layers: 3, heads: 2, width: 16, context: 8, vocab: 20)
    let model = try GPTNeoX(config: config, seed: 3)
    var rng = SeededRNG(seed: 2)
    let tokens = (0..<(3 * 9)).map { _ in Int32(rng.nextInt(below: 20)) }
    let train = model.forward(tokens: tokens, batch: 3, length: 8, training: true)
    let eval = model.loss(tokens: tokens, batch: 3, length: 8)
    #expect(abs(train - eval) < 1e-6)
    // A shorter window than the context works too.
    let short = Array(tokens[0..<(3 * 5)])
    #expect(model.loss(tokens: short, batch: 3, length: 4).isFinite)
  }

  @Test func initialLossIsNearLogV() throws {
    let config = ModelConfig(layers: 2, heads: 2, width: 32, context: 16, vocab: 64)
    let model = try GPTNeoX(config: config, seed: 5)
    var rng = SeededRNG(seed: 6)
    let tokens = (0..<(8 * 17)).map { _ in Int32(rng.nextInt(below: 64)) }
    let loss = model.loss(tokens: tokens, batch: 8, length: 16)
    #expect(abs(Double(loss) - log(64)) < 0.3)
  }

  /// A tiny model on a tiny repetitive text reaches a loss far below log(V).
  @Test func lossGoesDown() throws {
    let text = Array("the quick brown fox jumps over the lazy dog. ".utf8)
    let vocab = 64
    let ids = text.map { Int32($0 % UInt8(vocab)) }
    let config = ModelConfig(layers: 2, heads: 2, width: 32, context: 16, vocab: vocab)
    let model = try GPTNeoX(config: config, seed: 11)
    let optimizer = AdamW(layout: model.layout)
    var rng = SeededRNG(seed: 12)
    let (b, t) = (8, 16)
    var tokens = [Int32](repeating: 0, count: b * (t + 1))
    var last: Float = .infinity
    for step in 0..<150 {
      for row in 0..<b {
        let start = rng.nextInt(below: ids.count)
        for k in 0...t { tokens[row * (t + 1) + k] = ids[(start + k) % ids.count] }
      }
      model.zeroGradients()
      last = model.forward(tokens: tokens, batch: b, length: t, training: true)
      model.backward()
      let lr: Float = step < 10 ? 3e-3 * Float(step + 1) / 10 : 3e-3
      optimizer.update(model: model, learningRate: lr)
    }
    #expect(Double(last) < 0.1 * log(Double(vocab)), "final loss \(last)")
  }

  @Test func adamWMatchesTheFormula() throws {
    // One parameter tensor, two steps, against a hand computation of torch.optim.AdamW.
    let config = ModelConfig(layers: 1, heads: 1, width: 4, context: 2, vocab: 3)
    let model = try GPTNeoX(config: config, seed: 1)
    var hyper = AdamW.Hyperparameters()
    hyper.clipNorm = 0
    let optimizer = AdamW(layout: model.layout, hyper: hyper)
    let k = model.layout.embedIn  // a decayed matrix
    let bias = model.layout.blocks[0].qkvBias  // not decayed
    var p = Double(model.parameters[k])
    var pb = Double(model.parameters[bias])
    var m = 0.0
    var v = 0.0
    var mb = 0.0
    var vb = 0.0
    let lr = 0.01
    for step in 1...2 {
      model.zeroGradients()
      let g = 0.5 * Double(step)
      model.gradients[k] = Float(g)
      model.gradients[bias] = Float(g)
      optimizer.update(model: model, learningRate: Float(lr))
      func adam(_ p: inout Double, _ m: inout Double, _ v: inout Double, decay: Double) {
        p *= 1 - lr * decay
        m = 0.9 * m + 0.1 * g
        v = 0.95 * v + 0.05 * g * g
        let bc1 = 1 - pow(0.9, Double(step))
        let bc2 = 1 - pow(0.95, Double(step))
        p -= lr / bc1 * m / (v.squareRoot() / bc2.squareRoot() + 1e-8)
      }
      adam(&p, &m, &v, decay: 0.1)
      adam(&pb, &mb, &vb, decay: 0)
    }
    #expect(abs(Double(model.parameters[k]) - p) < 1e-6)
    #expect(abs(Double(model.parameters[bias]) - pb) < 1e-6)
  }

  @Test func clippingScalesTheGlobalNorm() throws {
    let config = ModelConfig(layers: 1, heads: 1, width: 4, context: 2, vocab: 3)
    let model = try GPTNeoX(config: config, seed: 1)
    model.zeroGradients()
    model.gradients[0] = 3
    model.gradients[1] = 4
    let optimizer = AdamW(layout: model.layout)
    let norm = optimizer.update(model: model, learningRate: 0)
    #expect(abs(norm - 5) < 1e-9)
    // After clipping to 1, the first moment holds (1-β1)·g·(1/5).
    #expect(abs(Double(optimizer.m[0]) - 0.1 * 3 / 5) < 1e-6)
    #expect(abs(Double(optimizer.m[1]) - 0.1 * 4 / 5) < 1e-6)
  }

  /// Two threads, either splitting the batch over two replicas (data parallel, the default) or
  /// splitting rows, heads and parameters inside each op: the result matches one thread to
  /// rounding, and repeats bit for bit. An odd batch gives the replicas unequal rows.
  /// The cases run one at a time: each holds OpenBLAS to one thread inside its parallel parts, a
  /// process-wide setting, and OpenBLAS's results differ in the last bits between 1 and 2 threads.
  @Test(.serialized, arguments: [(true, 8), (true, 5), (false, 8)])
  func twoThreadsAgreeAndAreDeterministic(dataParallel: Bool, b: Int) throws {
    let config = ModelConfig(layers: 2, heads: 4, width: 64, context: 32, vocab: 300)
    var rng = SeededRNG(seed: 4)
    let t = 32
    let tokens = (0..<(b * (t + 1))).map { _ in Int32(rng.nextInt(below: 300)) }
    func run(threads: Int) throws -> (losses: [Float], grads: [Float]) {
      let model = try GPTNeoX(config: config, seed: 1)
      model.threads = threads
      model.dataParallel = dataParallel
      let optimizer = AdamW(layout: model.layout)
      var losses: [Float] = []
      for _ in 0..<3 {
        model.zeroGradients()
        losses.append(model.forward(tokens: tokens, batch: b, length: t, training: true))
        model.backward()
        optimizer.update(model: model, learningRate: 3e-3)
      }
      model.zeroGradients()
      _ = model.forward(tokens: tokens, batch: b, length: t, training: true)
      model.backward()
      return (losses, Array(UnsafeBufferPointer(start: model.gradients, count: model.layout.count)))
    }
    let one = try run(threads: 1)
    let two = try run(threads: 2)
    let twoAgain = try run(threads: 2)
    #expect(two.losses == twoAgain.losses)
    // Counted, not compared as arrays: a failing == on 70k floats makes the test library diff them
    // for many minutes.
    let differing = zip(two.grads, twoAgain.grads).filter { $0.bitPattern != $1.bitPattern }.count
    #expect(differing == 0, "\(differing) of \(two.grads.count) gradients differ between two runs")
    for (x, y) in zip(one.losses, two.losses) { #expect(abs(x - y) < 1e-5) }
    let scale = one.grads.map { abs($0) }.max() ?? 1
    let worst = zip(one.grads, two.grads).map { abs($0 - $1) }.max() ?? 0
    #expect(worst / scale < 1e-4, "worst relative difference \(worst / scale)")
  }
}
