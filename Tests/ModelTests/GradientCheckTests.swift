import Foundation
import Testing

@testable import Model
@testable import Tensor

/// Finite-difference gradient checks: per kernel (LayerNorm, GELU, rotary, causal softmax, cross
/// entropy, linear) and for every parameter tensor of a whole tiny model.
struct GradientCheckTests {
  /// Central difference of `f` with respect to `x[i]`.
  static func numericGradient(
    _ x: UnsafeMutablePointer<Float>, _ i: Int, epsilon: Float = 1e-2, _ f: () -> Double
  ) -> Double {
    let saved = x[i]
    x[i] = saved + epsilon
    let up = f()
    x[i] = saved - epsilon
    let down = f()
    x[i] = saved
    return (up - down) / (2 * Double(epsilon))
  }

  static func expectClose(
    _ analytic: Double, _ numeric: Double, _ what: String, atol: Double = 3e-4, rtol: Double = 2e-2,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    let ok = abs(analytic - numeric) <= atol + rtol * abs(numeric)
    #expect(
      ok, "\(what): analytic \(analytic) vs numeric \(numeric)", sourceLocation: sourceLocation)
  }

  static func randomBuffer(_ n: Int, _ rng: inout SeededRNG, scale: Double = 1)
    -> UnsafeMutablePointer<
      Float
    >
  {
    let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
    for i in 0..<n { p[i] = Float(rng.nextNormal() * scale) }
    return p
  }

  /// Σ out·R for a fixed random R: a scalar whose gradient w.r.t. out is R.
  static func project(_ out: UnsafePointer<Float>, _ r: UnsafePointer<Float>, _ n: Int) -> Double {
    var s: Double = 0
    for i in 0..<n { s += Double(out[i]) * Double(r[i]) }
    return s
  }

  /// 7: a 16-lane tail only; 32: whole lanes only; 37: both.
  @Test(arguments: [7, 32, 37])
  func layerNorm(cols: Int) {
    var rng = SeededRNG(seed: 1)
    let rows = 3
    let n = rows * cols
    let x = Self.randomBuffer(n, &rng)
    let w = Self.randomBuffer(cols, &rng)
    let b = Self.randomBuffer(cols, &rng)
    let r = Self.randomBuffer(n, &rng)
    let out = UnsafeMutablePointer<Float>.allocate(capacity: n)
    let mean = UnsafeMutablePointer<Float>.allocate(capacity: rows)
    let rstd = UnsafeMutablePointer<Float>.allocate(capacity: rows)
    func f() -> Double {
      Kernels.layerNormForward(
        x: x, weight: w, bias: b, out: out, mean: mean, rstd: rstd, rows: rows, cols: cols)
      return Self.project(out, r, n)
    }
    _ = f()
    let dx = UnsafeMutablePointer<Float>.allocate(capacity: n)
    dx.initialize(repeating: 0, count: n)
    let dw = UnsafeMutablePointer<Float>.allocate(capacity: cols)
    dw.initialize(repeating: 0, count: cols)
    let db = UnsafeMutablePointer<Float>.allocate(capacity: cols)
    db.initialize(repeating: 0, count: cols)
    Kernels.layerNormBackward(
      dout: r, x: x, weight: w, mean: mean, rstd: rstd, dx: dx, dWeight: dw, dBias: db, rows: rows,
      cols: cols)
    for i in 0..<n { Self.expectClose(Double(dx[i]), Self.numericGradient(x, i, f), "dx[\(i)]") }
    for i in 0..<cols {
      Self.expectClose(Double(dw[i]), Self.numericGradient(w, i, f), "dw[\(i)]")
      Self.expectClose(Double(db[i]), Self.numericGradient(b, i, f), "db[\(i)]")
    }
  }

  @Test func biasGelu() {
    var rng = SeededRNG(seed: 2)
    let (rows, cols) = (3, 21)  // a 16-lane block and a partial one per row
    let n = rows * cols
    let x = Self.randomBuffer(n, &rng, scale: 2)
    let bias = Self.randomBuffer(cols, &rng)
    let r = Self.randomBuffer(n, &rng)
    let out = UnsafeMutablePointer<Float>.allocate(capacity: n)
    func f() -> Double {
      Kernels.biasGeluForward(pre: x, bias: bias, out: out, rows: rows, cols: cols)
      return Self.project(out, r, n)
    }
    _ = f()
    let forward = (0..<n).map { out[$0] }
    out.update(repeating: .nan, count: n)
    let d = UnsafeMutablePointer<Float>.allocate(capacity: n)
    d.update(from: r, count: n)
    Kernels.biasGeluBackward(pre: x, bias: bias, out: out, d: d, rows: rows, cols: cols)
    #expect((0..<n).allSatisfy { out[$0] == forward[$0] }, "backward rebuilds the forward's output")
    // Keeping the slope (a layer that keeps its outputs) and multiplying later gives the same d.
    let slope = UnsafeMutablePointer<Float>.allocate(capacity: n)
    let later = UnsafeMutablePointer<Float>.allocate(capacity: n)
    defer { for p in [slope, later, out, d] { p.deallocate() } }
    Kernels.biasGeluForward(pre: x, bias: bias, out: out, slope: slope, rows: rows, cols: cols)
    #expect((0..<n).allSatisfy { out[$0] == forward[$0] }, "keeping the slope changes no output")
    later.update(from: r, count: n)
    Kernels.geluBackward(slope: slope, later, n)
    #expect((0..<n).allSatisfy { later[$0] == d[$0] }, "kept slope and applied slope agree")
    for i in 0..<n { Self.expectClose(Double(d[i]), Self.numericGradient(x, i, f), "gelu[\(i)]") }
    for j in 0..<cols {
      var dBias: Float = 0
      for row in 0..<rows { dBias += d[row * cols + j] }
      Self.expectClose(Double(dBias), Self.numericGradient(bias, j, f), "bias[\(j)]")
    }
  }

  @Test func rotaryIsAnOrthogonalMap() {
    // Backward of a rotation is its transpose: check it against finite differences.
    var rng = SeededRNG(seed: 3)
    let (batch, length, heads, hs, rot) = (2, 5, 2, 8, 4)
    let n = batch * length * 3 * heads * hs
    let half = rot / 2
    let cosT = UnsafeMutablePointer<Float>.allocate(capacity: length * half)
    let sinT = UnsafeMutablePointer<Float>.allocate(capacity: length * half)
    for t in 0..<length {
      for i in 0..<half {
        let angle = Double(t) / pow(10_000, Double(2 * i) / Double(rot))
        cosT[t * half + i] = Float(cos(angle))
        sinT[t * half + i] = Float(sin(angle))
      }
    }
    let x = Self.randomBuffer(n, &rng)
    let r = Self.randomBuffer(n, &rng)
    let work = UnsafeMutablePointer<Float>.allocate(capacity: n)
    func f() -> Double {
      work.update(from: x, count: n)
      Kernels.rotary(
        qkv: work, cos: cosT, sin: sinT, rows: 0..<(batch * length), length: length, heads: heads,
        headSize: hs,
        rotaryDims: rot, inverse: false)
      return Self.project(work, r, n)
    }
    let d = UnsafeMutablePointer<Float>.allocate(capacity: n)
    d.update(from: r, count: n)
    Kernels.rotary(
      qkv: d, cos: cosT, sin: sinT, rows: 0..<(batch * length), length: length, heads: heads,
      headSize: hs,
      rotaryDims: rot, inverse: true)
    for i in stride(from: 0, to: n, by: 3) {
      Self.expectClose(Double(d[i]), Self.numericGradient(x, i, f), "rotary[\(i)]")
    }
  }

  @Test func causalSoftmax() {
    var rng = SeededRNG(seed: 4)
    let length = 6
    let n = length * length
    let s = Self.randomBuffer(n, &rng, scale: 2)
    let r = Self.randomBuffer(n, &rng)
    let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
    func f() -> Double {
      p.update(from: s, count: n)
      Kernels.causalSoftmax(p, length: length)
      return Self.project(p, r, n)
    }
    _ = f()
    let d = UnsafeMutablePointer<Float>.allocate(capacity: n)
    d.update(from: r, count: n)
    Kernels.causalSoftmaxBackward(probs: p, dProbsInOut: d, length: length)
    for i in 0..<n {
      Self.expectClose(Double(d[i]), Self.numericGradient(s, i, f), "softmax[\(i)]")
    }
  }

  @Test func crossEntropy() {
    var rng = SeededRNG(seed: 5)
    let (rows, vocab) = (4, 21)  // a 16-lane block and a partial one per row
    let n = rows * vocab
    let logits = Self.randomBuffer(n, &rng, scale: 2)
    let targets = UnsafeMutablePointer<Int32>.allocate(capacity: rows)
    for r in 0..<rows { targets[r] = Int32(rng.nextInt(below: vocab)) }
    let work = UnsafeMutablePointer<Float>.allocate(capacity: n)
    func f() -> Double {
      work.update(from: logits, count: n)
      return Kernels.crossEntropy(
        logits: work, targets: targets, rows: rows, vocab: vocab, gradScale: 0) / Double(rows)
    }
    let lossOnly = f()
    #expect(
      (0..<n).allSatisfy { work[$0] == logits[$0] }, "evaluation leaves the logits as they are")
    work.update(from: logits, count: n)
    let withGrad =
      Kernels.crossEntropy(
        logits: work, targets: targets, rows: rows, vocab: vocab, gradScale: 1 / Float(rows))
      / Double(rows)
    #expect(lossOnly == withGrad, "evaluation and training losses agree bit for bit")
    let grad = UnsafeMutablePointer<Float>.allocate(capacity: n)
    grad.update(from: work, count: n)
    for i in 0..<n {
      Self.expectClose(Double(grad[i]), Self.numericGradient(logits, i, f), "dlogits[\(i)]")
    }
  }

  @Test func linear() {
    var rng = SeededRNG(seed: 6)
    let (rows, inputs, outputs) = (3, 5, 4)
    let x = Self.randomBuffer(rows * inputs, &rng)
    let w = Self.randomBuffer(outputs * inputs, &rng)
    let b = Self.randomBuffer(outputs, &rng)
    let r = Self.randomBuffer(rows * outputs, &rng)
    let y = UnsafeMutablePointer<Float>.allocate(capacity: rows * outputs)
    func f() -> Double {
      Linear.forward(x: x, weight: w, bias: b, y: y, rows: rows, inputs: inputs, outputs: outputs)
      return Self.project(y, r, rows * outputs)
    }
    let dx = UnsafeMutablePointer<Float>.allocate(capacity: rows * inputs)
    let dw = UnsafeMutablePointer<Float>.allocate(capacity: outputs * inputs)
    dw.initialize(repeating: 0, count: outputs * inputs)
    let db = UnsafeMutablePointer<Float>.allocate(capacity: outputs)
    db.initialize(repeating: 0, count: outputs)
    Linear.backward(
      dy: r, x: x, weight: w, dx: dx, dWeight: dw, dBias: db, rows: rows, inputs: inputs,
      outputs: outputs)
    for i in 0..<(rows * inputs) {
      Self.expectClose(Double(dx[i]), Self.numericGradient(x, i, f), "dx[\(i)]")
    }
    for i in 0..<(outputs * inputs) {
      Self.expectClose(Double(dw[i]), Self.numericGradient(w, i, f), "dw[\(i)]")
    }
    for i in 0..<outputs {
      Self.expectClose(Double(db[i]), Self.numericGradient(b, i, f), "db[\(i)]")
    }
  }

  /// A tiny model whose LayerNorm gains and biases are randomised too, so no gradient is trivially 0.
  static func tinyModel(rotaryFraction: Double = 0.5) throws -> GPTNeoX {
    let config = ModelConfig(
      layers: 2, heads: 2, width: 8, context: 6, vocab: 11, rotaryFraction: rotaryFraction)
    let model = try GPTNeoX(config: config, seed: 7)
    var rng = SeededRNG(seed: 8)
    for entry in model.layout.entries where entry.shape.count == 1 {
      for i in 0..<entry.count {
        model.parameters[entry.offset + i] += Float(rng.nextNormal() * 0.3)
      }
    }
    for entry in model.layout.entries where entry.shape.count == 2 {
      for i in 0..<entry.count { model.parameters[entry.offset + i] *= 4 }
    }
    return model
  }

  static func batch(_ model: GPTNeoX, batch: Int, length: Int, seed: UInt64) -> [Int32] {
    var rng = SeededRNG(seed: seed)
    return (0..<(batch * (length + 1))).map { _ in Int32(rng.nextInt(below: model.config.vocab)) }
  }

  @Test(arguments: [0.5, 0.0, 1.0])
  func wholeModelEveryParameter(rotaryFraction: Double) throws {
    let model = try Self.tinyModel(rotaryFraction: rotaryFraction)
    let (b, t) = (2, 5)
    let tokens = Self.batch(model, batch: b, length: t, seed: 9)
    Self.checkEveryTensor(
      model, tokens: tokens, batch: b, length: t, perTensor: 24,
      label: "rotary \(rotaryFraction)")
  }

  /// One training pass, then a spread of `perTensor` elements of every parameter tensor (every
  /// element of smaller ones) against central differences of the evaluation loss.
  static func checkEveryTensor(
    _ model: GPTNeoX, tokens: [Int32], batch b: Int, length t: Int, perTensor: Int, label: String
  ) {
    model.zeroGradients()
    _ = model.forward(tokens: tokens, batch: b, length: t, training: true)
    model.backward()
    func f() -> Double { Double(model.loss(tokens: tokens, batch: b, length: t)) }
    for entry in model.layout.entries {
      for i in stride(from: 0, to: entry.count, by: max(1, entry.count / perTensor)) {
        let k = entry.offset + i
        expectClose(
          Double(model.gradients[k]), numericGradient(model.parameters, k, epsilon: 5e-3, f),
          "\(entry.name)[\(i)] \(label)", atol: 5e-4, rtol: 3e-2)
      }
    }
  }

  /// The output projection and loss run in blocks of rows (only one block's logits exist). Split
  /// into blocks of 3, 3, 3 and 1 rows, the gradients still match finite differences and agree
  /// with one block to rounding.
  @Test func blockedOutputProjection() throws {
    let whole = try Self.tinyModel()
    let blocked = try Self.tinyModel()
    blocked.headBlockRows = 3
    let (b, t) = (2, 5)
    let tokens = Self.batch(whole, batch: b, length: t, seed: 11)
    var losses: [Float] = []
    for model in [whole, blocked] {
      model.zeroGradients()
      losses.append(model.forward(tokens: tokens, batch: b, length: t, training: true))
      model.backward()
      // Twice, accumulated: a block summing onto the last pass's dW_out would show.
      _ = model.forward(tokens: tokens, batch: b, length: t, training: true)
      model.backward()
      for k in 0..<model.layout.count { model.gradients[k] /= 2 }
    }
    #expect(abs(losses[0] - losses[1]) <= 1e-6 * abs(losses[0]), "\(losses)")
    var mismatches = 0
    for k in 0..<whole.layout.count
    where abs(whole.gradients[k] - blocked.gradients[k]) > 1e-6 + 1e-5 * abs(whole.gradients[k]) {
      mismatches += 1
    }
    #expect(mismatches == 0, "\(mismatches) of \(whole.layout.count) gradients differ")
    func f() -> Double { Double(blocked.loss(tokens: tokens, batch: b, length: t)) }
    for name in ["embed_out.weight", "final_layer_norm.weight", "gpt_neox.embed_in.weight"] {
      let entry = try #require(blocked.layout.entries.first { $0.name.hasSuffix(name) })
      for i in stride(from: 0, to: entry.count, by: max(1, entry.count / 24)) {
        let k = entry.offset + i
        Self.expectClose(
          Double(blocked.gradients[k]),
          Self.numericGradient(blocked.parameters, k, epsilon: 5e-3, f), "\(name)[\(i)] blocked",
          atol: 5e-4, rtol: 3e-2)
      }
    }
  }

  /// Layers keep their LayerNorm and GELU outputs when they are small, else backward rebuilds
  /// them; the finite-difference checks above run the kept way. Rebuilt, the loss and every
  /// gradient are the same bit for bit, at one thread and split over two replicas.
  /// Cases: one thread; two replicas; two threads splitting each op (80 rows, so the LayerNorm
  /// and GELU passes are sliced too).
  @Test(arguments: [(1, true, 4), (2, true, 4), (2, false, 16)])
  func rebuiltOutputsGiveTheKeptOnesGradients(threads: Int, dataParallel: Bool, b: Int) throws {
    let kept = try Self.tinyModel()
    let rebuilt = try Self.tinyModel()
    kept.keepLayerOutputs = true
    rebuilt.keepLayerOutputs = false
    let t = 5
    let tokens = Self.batch(kept, batch: b, length: t, seed: 12)
    var losses: [Float] = []
    for model in [kept, rebuilt] {
      model.threads = threads
      model.dataParallel = dataParallel
      model.zeroGradients()
      losses.append(model.forward(tokens: tokens, batch: b, length: t, training: true))
      model.backward()
      // A second pass, so a kept slope or a rebuilt buffer left over from the first shows.
      losses.append(model.forward(tokens: tokens, batch: b, length: t, training: true))
      model.backward()
    }
    #expect(losses[0] == losses[2] && losses[1] == losses[3], "\(losses)")
    let differing = (0..<kept.layout.count).filter { kept.gradients[$0] != rebuilt.gradients[$0] }
    #expect(differing.isEmpty, "\(differing.count) of \(kept.layout.count) gradients differ")
  }

  /// Contexts past one attention query block (64 rows): probabilities packed as 64×64 and 16×80
  /// per (sequence, head), several pairs side by side. Every parameter tensor against finite
  /// differences.
  @Test func contextLongerThanOneAttentionBlock() throws {
    let config = ModelConfig(layers: 1, heads: 2, width: 8, context: 80, vocab: 11)
    let model = try GPTNeoX(config: config, seed: 13)
    for entry in model.layout.entries where entry.shape.count == 2 {
      for i in 0..<entry.count { model.parameters[entry.offset + i] *= 4 }
    }
    let (b, t) = (2, 80)
    let tokens = Self.batch(model, batch: b, length: t, seed: 14)
    Self.checkEveryTensor(model, tokens: tokens, batch: b, length: t, perTensor: 12, label: "T 80")
  }

  @Test func gradientsAccumulateAcrossBackwardCalls() throws {
    let model = try Self.tinyModel()
    let tokens = Self.batch(model, batch: 2, length: 5, seed: 10)
    model.zeroGradients()
    _ = model.forward(tokens: tokens, batch: 2, length: 5, training: true)
    model.backward()
    let once = Array(UnsafeBufferPointer(start: model.gradients, count: model.layout.count))
    _ = model.forward(tokens: tokens, batch: 2, length: 5, training: true)
    model.backward()
    for i in stride(from: 0, to: once.count, by: 17) {
      #expect(abs(model.gradients[i] - 2 * once[i]) <= 1e-5 + 1e-5 * abs(once[i]))
    }
  }
}
