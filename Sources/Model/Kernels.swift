import Foundation
import Tensor

/// The model's non-GEMM operations, forward and backward, on raw row-major fp32 buffers.
/// N is the number of rows (B·T positions), C the row width.
enum Kernels {
  typealias V16 = SIMD16<Float>

  static let layerNormEpsilon: Float = 1e-5

  /// out[N×C] = (x − mean) · rstd · weight + bias, per row; saves mean[N] and rstd[N] for backward.
  /// Sums run in 16 lanes (a tail shorter than 16 is loaded zero-padded, so any C works).
  static func layerNormForward(
    x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
    out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
    rstd: UnsafeMutablePointer<Float>, rows: Int, cols: Int
  ) {
    let invC = 1 / Float(cols)
    let tail = cols % 16
    let body = cols - tail
    for r in 0..<rows {
      let xr = x + r * cols
      let o = out + r * cols
      let m = Vec.sum(xr, cols) * invC
      let vm = V16(repeating: m)
      var squares = V16(repeating: 0)
      var i = 0
      while i < body {
        let d = FastMath.load(xr + i) - vm
        squares += d * d
        i += 16
      }
      if tail > 0 {
        // Padding lanes hold m, so they add 0.
        let d = FastMath.loadPartial(xr + body, tail, fill: m) - vm
        squares += d * d
      }
      let s = 1 / (squares.sum() * invC + layerNormEpsilon).squareRoot()
      let vs = V16(repeating: s)
      i = 0
      while i < body {
        let y =
          (FastMath.load(xr + i) - vm) * vs * FastMath.load(weight + i) + FastMath.load(bias + i)
        FastMath.store(y, o + i)
        i += 16
      }
      for j in body..<cols { o[j] = (xr[j] - m) * s * weight[j] + bias[j] }
      mean[r] = m
      rstd[r] = s
    }
  }

  /// Backward of layerNormForward: dx[N×C] += …, dWeight[C] += …, dBias[C] += ….
  static func layerNormBackward(
    dout: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
    dx: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>,
    dBias: UnsafeMutablePointer<Float>, rows: Int, cols: Int
  ) {
    let invC = 1 / Float(cols)
    let tail = cols % 16
    let body = cols - tail
    for r in 0..<rows {
      let xr = x + r * cols
      let dr = dout + r * cols
      let dxr = dx + r * cols
      let vm = V16(repeating: mean[r])
      let vs = V16(repeating: rstd[r])
      var sumDxhat = V16(repeating: 0)
      var sumDxhatXhat = V16(repeating: 0)
      // Whole lanes, then the tail zero-padded (its dout lanes are 0, so it adds nothing to the
      // sums); the same lane order as one loop over padded blocks.
      func accumulate(_ xv: V16, _ dv: V16, _ wv: V16) -> (xhat: V16, dv: V16) {
        let xhat = (xv - vm) * vs
        let dxhat = dv * wv
        sumDxhat += dxhat
        sumDxhatXhat += dxhat * xhat
        return (xhat, dv)
      }
      var i = 0
      while i < body {
        let (xhat, dv) = accumulate(
          FastMath.load(xr + i), FastMath.load(dr + i), FastMath.load(weight + i))
        FastMath.store(FastMath.load(dWeight + i) + dv * xhat, dWeight + i)
        FastMath.store(FastMath.load(dBias + i) + dv, dBias + i)
        i += 16
      }
      if tail > 0 {
        let (xhat, dv) = accumulate(
          FastMath.loadPartial(xr + body, tail), FastMath.loadPartial(dr + body, tail),
          FastMath.loadPartial(weight + body, tail))
        for j in 0..<tail {
          dWeight[body + j] += dv[j] * xhat[j]
          dBias[body + j] += dv[j]
        }
      }
      let meanDxhat = V16(repeating: sumDxhat.sum() * invC)
      let meanDxhatXhat = V16(repeating: sumDxhatXhat.sum() * invC)
      i = 0
      while i < body {
        let xhat = (FastMath.load(xr + i) - vm) * vs
        let dxhat = FastMath.load(dr + i) * FastMath.load(weight + i)
        let update = vs * (dxhat - meanDxhat - xhat * meanDxhatXhat)
        FastMath.store(FastMath.load(dxr + i) + update, dxr + i)
        i += 16
      }
      let s = rstd[r]
      let m = mean[r]
      for j in body..<cols {
        let xhat = (xr[j] - m) * s
        let dxhat = dr[j] * weight[j]
        dxr[j] += s * (dxhat - meanDxhat[0] - xhat * meanDxhatXhat[0])
      }
    }
  }

  /// GELU with the exact normal CDF, x·Φ(x) = 0.5·x·(1 + erf(x/√2)), as GPT-NeoX's `gelu`
  /// (Φ from FastMath, within 2e-7), of the fc layer's output plus its bias, in one pass:
  /// out[N×W] = gelu(pre + bias) per row. With `slope`, also writes gelu'(pre + bias) = Φ + x·φ
  /// there (it may be `pre` itself: an arena that keeps its outputs keeps the slope over fc).
  static func biasGeluForward(
    pre: UnsafePointer<Float>, bias: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
    slope: UnsafeMutablePointer<Float>? = nil, rows: Int, cols: Int
  ) {
    for r in 0..<rows {
      let p = pre + r * cols
      let o = out + r * cols
      let s = slope.map { $0 + r * cols }
      var j = 0
      while j + 16 <= cols {
        let v = FastMath.load(p + j) + FastMath.load(bias + j)
        let (cdf, pdf) = FastMath.normalCDFAndPDF(v)
        FastMath.store(v * cdf, o + j)
        if let s { FastMath.store(cdf + v * pdf, s + j) }
        j += 16
      }
      if j < cols {
        let count = cols - j
        let v = FastMath.loadPartial(p + j, count) + FastMath.loadPartial(bias + j, count)
        let (cdf, pdf) = FastMath.normalCDFAndPDF(v)
        FastMath.storePartial(v * cdf, o + j, count)
        if let s { FastMath.storePartial(cdf + v * pdf, s + j, count) }
      }
    }
  }

  /// d[i] = dout[i] · slope[i], written over `dout` in place (`slope` from `biasGeluForward`).
  static func geluBackward(
    slope: UnsafePointer<Float>, _ dInOut: UnsafeMutablePointer<Float>, _ n: Int
  ) {
    var i = 0
    while i + 16 <= n {
      FastMath.store(FastMath.load(dInOut + i) * FastMath.load(slope + i), dInOut + i)
      i += 16
    }
    while i < n {
      dInOut[i] *= slope[i]
      i += 1
    }
  }

  /// Backward of `biasGeluForward` from the kept pre-activation, in one pass: rebuilds
  /// out[N×W] = gelu(pre + bias) (bit for bit the forward's) for the next layer's weight gradient,
  /// and turns d (dLoss/dout, in place) into dLoss/d(pre + bias) = d · (Φ + x·φ). Its own loop on
  /// purpose: one loop for both, choosing what to do with the slope per 16 lanes, ran GELU 1.8×
  /// slower (config A: 44 → 81 ms of the step, 29 Nov).
  static func biasGeluBackward(
    pre: UnsafePointer<Float>, bias: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
    d: UnsafeMutablePointer<Float>, rows: Int, cols: Int
  ) {
    for r in 0..<rows {
      let p = pre + r * cols
      let o = out + r * cols
      let dr = d + r * cols
      var j = 0
      while j + 16 <= cols {
        let v = FastMath.load(p + j) + FastMath.load(bias + j)
        let (cdf, pdf) = FastMath.normalCDFAndPDF(v)
        FastMath.store(v * cdf, o + j)
        FastMath.store(FastMath.load(dr + j) * (cdf + v * pdf), dr + j)
        j += 16
      }
      if j < cols {
        let count = cols - j
        let v = FastMath.loadPartial(p + j, count) + FastMath.loadPartial(bias + j, count)
        let (cdf, pdf) = FastMath.normalCDFAndPDF(v)
        FastMath.storePartial(v * cdf, o + j, count)
        FastMath.storePartial(FastMath.loadPartial(dr + j, count) * (cdf + v * pdf), dr + j, count)
      }
    }
  }

  /// row[j] = exp(row[j] − shift) for j < count, a multiple of 16; returns their sums per lane.
  /// The whole vectors of `expShiftInPlace` and `causalSoftmax`. Not inlined, so that exp is
  /// inlined in its loop (it is not in a caller as large as `causalSoftmax`).
  @inline(never)
  static func expShiftVectors(_ row: UnsafeMutablePointer<Float>, _ count: Int, shift: FastMath.V16)
    -> FastMath.V16
  {
    var acc = FastMath.V16(repeating: 0)
    var j = 0
    while j < count {
      let e = FastMath.exp(FastMath.load(row + j) - shift)
      FastMath.store(e, row + j)
      acc += e
      j += 16
    }
    return acc
  }

  /// row[j] = exp(row[j] − shift) for j < count; returns their sum.
  @inline(__always)
  static func expShiftInPlace(_ row: UnsafeMutablePointer<Float>, _ count: Int, shift: Float)
    -> Float
  {
    let s = FastMath.V16(repeating: shift)
    let j = count / 16 * 16
    var acc = expShiftVectors(row, j, shift: s)
    if j < count {
      // Padding lanes hold −∞ − shift → exp's floor, ~1e-38: nothing a sum of at least 1 keeps.
      let e = FastMath.exp(FastMath.loadPartial(row + j, count - j, fill: -.infinity) - s)
      FastMath.storePartial(e, row + j, count - j)
      acc += e
    }
    return acc.sum()
  }

  /// Σ exp(row[j] − shift) for j < count, the row left as it is. Sums in the same lane order as
  /// `expShiftInPlace`, so evaluation and training losses agree bit for bit.
  @inline(__always)
  static func expShiftSum(_ row: UnsafePointer<Float>, _ count: Int, shift: Float) -> Float {
    var acc = FastMath.V16(repeating: 0)
    let s = FastMath.V16(repeating: shift)
    var j = 0
    while j + 16 <= count {
      acc += FastMath.exp(FastMath.load(row + j) - s)
      j += 16
    }
    if j < count {
      acc += FastMath.exp(FastMath.loadPartial(row + j, count - j, fill: -.infinity) - s)
    }
    return acc.sum()
  }

  /// max(row[0..<count]).
  @inline(__always)
  static func maximum(_ row: UnsafePointer<Float>, _ count: Int) -> Float {
    var acc = FastMath.V16(repeating: -.infinity)
    var j = 0
    while j + 16 <= count {
      acc = FastMath.max(acc, FastMath.load(row + j))
      j += 16
    }
    var m = FastMath.largestLane(acc)
    while j < count {
      m = max(m, row[j])
      j += 1
    }
    return m
  }

  /// Rotates the first `rotaryDims` dims of q and k of every head in rows `rows` of `qkv[B·T × 3C]`
  /// in place (GPT-NeoX rotate-half convention; row r is position r mod T). `cos`/`sin` are
  /// [Tmax × rotaryDims/2]. With `inverse` it applies the transposed rotation, the backward.
  static func rotary(
    qkv: UnsafeMutablePointer<Float>, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>,
    rows: Range<Int>, length: Int, heads: Int, headSize: Int, rotaryDims: Int, inverse: Bool
  ) {
    let half = rotaryDims / 2
    if half == 0 { return }
    let c3 = 3 * heads * headSize
    let sign: Float = inverse ? -1 : 1
    for r in rows {
      let row = qkv + r * c3
      let t = r % length
      let cr = cos + t * half
      let sr = sin + t * half
      for h in 0..<heads {
        for part in 0..<2 {  // q, then k
          let v = row + h * 3 * headSize + part * headSize
          for i in 0..<half {
            let x1 = v[i]
            let x2 = v[i + half]
            let s = sign * sr[i]
            v[i] = x1 * cr[i] - x2 * s
            v[i + half] = x2 * cr[i] + x1 * s
          }
        }
      }
    }
  }

  /// Causal softmax in place of rows `firstRow ..< firstRow + rows` of a score matrix whose row i
  /// is at `scores + i·stride`: row t keeps columns 0…t; columns t+1 ..< `width` become 0.
  static func causalSoftmax(
    _ scores: UnsafeMutablePointer<Float>, firstRow: Int = 0, rows: Int, width: Int, stride: Int
  ) {
    typealias V16 = FastMath.V16
    // Lane numbers as floats: a vector-vector float comparison stays vectorised (Int32 lanes
    // against a scalar are compared one by one).
    let lanes = V16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
    for i in 0..<rows {
      let t = firstRow + i
      let row = scores + i * stride
      let count = t + 1
      let full = count / 16 * 16
      let end = full == count ? count : full + 16
      guard end <= width else {
        // The row's last vector would reach past its width: a partial load instead.
        let total = expShiftInPlace(row, count, shift: maximum(row, count))
        Vec.scale(row, by: 1 / total, count)
        if width > count { (row + count).update(repeating: 0, count: width - count) }
        continue
      }
      // Whole vectors only, the lanes past column t masked (what `maximum`, `expShiftInPlace`
      // and `Vec.scale` compute, in the same lanes and order, so the same floats; without their
      // per-row partial copies and scalar tails, the most of a short row's time).
      let past = lanes .>= V16(repeating: Float(count - full))
      var highest = V16(repeating: -.infinity)
      var j = 0
      while j < full {
        highest = FastMath.max(highest, FastMath.load(row + j))
        j += 16
      }
      if full < end {
        highest = FastMath.max(
          highest, FastMath.load(row + full).replacing(with: -.infinity, where: past))
      }
      let s = V16(repeating: FastMath.largestLane(highest))
      var sum = expShiftVectors(row, full, shift: s)
      if full < end {
        let e = FastMath.exp(FastMath.load(row + full).replacing(with: -.infinity, where: past) - s)
        FastMath.store(e.replacing(with: 0, where: past), row + full)
        sum += e
      }
      let scale = V16(repeating: 1 / sum.sum())
      j = 0
      while j < end {
        FastMath.store(FastMath.load(row + j) * scale, row + j)
        j += 16
      }
      if width > end { (row + end).update(repeating: 0, count: width - end) }
    }
  }

  /// Causal softmax of a whole `scores[T×T]` in place.
  static func causalSoftmax(_ scores: UnsafeMutablePointer<Float>, length: Int) {
    causalSoftmax(scores, rows: length, width: length, stride: length)
  }

  /// Backward of causalSoftmax for the same rows: dScores = P ⊙ (dP − rowsum(P ⊙ dP)), written over
  /// `dProbs` (row i at `dProbs + i·dStride`); columns t+1 ..< `width` become 0.
  static func causalSoftmaxBackward(
    probs: UnsafePointer<Float>, probsStride: Int, dProbs: UnsafeMutablePointer<Float>,
    dStride: Int, firstRow: Int = 0, rows: Int, width: Int
  ) {
    for i in 0..<rows {
      let t = firstRow + i
      let p = probs + i * probsStride
      let d = dProbs + i * dStride
      let inner = Vec.dot(p, d, t + 1)
      for j in 0...t { d[j] = p[j] * (d[j] - inner) }
      if width > t + 1 { (d + t + 1).update(repeating: 0, count: width - t - 1) }
    }
  }

  /// Backward of a whole `causalSoftmax(_:length:)`.
  static func causalSoftmaxBackward(
    probs: UnsafePointer<Float>, dProbsInOut: UnsafeMutablePointer<Float>, length: Int
  ) {
    causalSoftmaxBackward(
      probs: probs, probsStride: length, dProbs: dProbsInOut, dStride: length, rows: length,
      width: length)
  }

  /// Cross-entropy of `logits[N×V]` against `targets[N]`, summed over rows. With `gradScale` ≠ 0, overwrites the
  /// logits with gradScale · (softmax − onehot), the gradient of the mean loss when gradScale = 1/N.
  /// Returns the sum of per-row losses (as Double, to keep large sums exact enough).
  static func crossEntropy(
    logits: UnsafeMutablePointer<Float>, targets: UnsafePointer<Int32>, rows: Int, vocab: Int,
    gradScale: Float
  ) -> Double {
    var total: Double = 0
    for r in 0..<rows {
      let row = logits + r * vocab
      let maxValue = maximum(row, vocab)
      let target = Int(targets[r])
      let targetLogit = row[target] - maxValue
      // Evaluation needs only the sum; training keeps the exponentials for the gradient.
      let sum =
        gradScale == 0
        ? expShiftSum(row, vocab, shift: maxValue) : expShiftInPlace(row, vocab, shift: maxValue)
      total -= Double(targetLogit - logf(sum))
      if gradScale != 0 {
        Vec.scale(row, by: gradScale / sum, vocab)
        row[target] -= gradScale
      }
    }
    return total
  }
}
