import Foundation
import Tensor

/// The model's non-GEMM operations, forward and backward, on raw row-major fp32 buffers.
/// N is the number of rows (B·T positions), C the row width.
enum Kernels {
  static let layerNormEpsilon: Float = 1e-5

  /// out[N×C] = (x − mean) · rstd · weight + bias, per row; saves mean[N] and rstd[N] for backward.
  static func layerNormForward(
    x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
    out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
    rstd: UnsafeMutablePointer<Float>, rows: Int, cols: Int
  ) {
    let invC = 1 / Float(cols)
    for r in 0..<rows {
      let xr = x + r * cols
      let o = out + r * cols
      let m = Vec.sum(xr, cols) * invC
      var v: Float = 0
      for i in 0..<cols {
        let d = xr[i] - m
        v += d * d
      }
      let s = 1 / (v * invC + layerNormEpsilon).squareRoot()
      for i in 0..<cols { o[i] = (xr[i] - m) * s * weight[i] + bias[i] }
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
    for r in 0..<rows {
      let xr = x + r * cols
      let dr = dout + r * cols
      let dxr = dx + r * cols
      let m = mean[r]
      let s = rstd[r]
      var meanDxhat: Float = 0
      var meanDxhatXhat: Float = 0
      for i in 0..<cols {
        let xhat = (xr[i] - m) * s
        let dxhat = dr[i] * weight[i]
        meanDxhat += dxhat
        meanDxhatXhat += dxhat * xhat
        dWeight[i] += dr[i] * xhat
        dBias[i] += dr[i]
      }
      meanDxhat *= invC
      meanDxhatXhat *= invC
      for i in 0..<cols {
        let xhat = (xr[i] - m) * s
        let dxhat = dr[i] * weight[i]
        dxr[i] += s * (dxhat - meanDxhat - xhat * meanDxhatXhat)
      }
    }
  }

  /// Exact GELU, 0.5·x·(1 + erf(x/√2)), as GPT-NeoX's `gelu`.
  static func geluForward(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
    let invSqrt2: Float = 0.707_106_781_186_547_5
    for i in 0..<n {
      let v = x[i]
      out[i] = 0.5 * v * (1 + erff(v * invSqrt2))
    }
  }

  /// d[i] = dout[i] · gelu'(x[i]), written over `dout` in place.
  static func geluBackward(
    _ x: UnsafePointer<Float>, _ dInOut: UnsafeMutablePointer<Float>, _ n: Int
  ) {
    let invSqrt2: Float = 0.707_106_781_186_547_5
    let invSqrt2Pi: Float = 0.398_942_280_401_432_7
    for i in 0..<n {
      let v = x[i]
      let cdf = 0.5 * (1 + erff(v * invSqrt2))
      let pdf = invSqrt2Pi * expf(-0.5 * v * v)
      dInOut[i] *= cdf + v * pdf
    }
  }

  /// Rotates the first `rotaryDims` dims of q and k of every head in `qkv[B·T × 3C]` in place
  /// (GPT-NeoX rotate-half convention). `cos`/`sin` are [Tmax × rotaryDims/2]. With `inverse` it
  /// applies the transposed rotation, which is the backward of the forward rotation.
  static func rotary(
    qkv: UnsafeMutablePointer<Float>, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>,
    batch: Int, length: Int, heads: Int, headSize: Int, rotaryDims: Int, inverse: Bool
  ) {
    let half = rotaryDims / 2
    if half == 0 { return }
    let c3 = 3 * heads * headSize
    let sign: Float = inverse ? -1 : 1
    for b in 0..<batch {
      for t in 0..<length {
        let row = qkv + (b * length + t) * c3
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
  }

  /// Causal softmax of each row of `scores[T×T]` in place: row t keeps columns 0…t, the rest become 0.
  static func causalSoftmax(_ scores: UnsafeMutablePointer<Float>, length: Int) {
    for t in 0..<length {
      let row = scores + t * length
      var maxValue = -Float.infinity
      for j in 0...t where row[j] > maxValue { maxValue = row[j] }
      var total: Float = 0
      for j in 0...t {
        let e = expf(row[j] - maxValue)
        row[j] = e
        total += e
      }
      let inv = 1 / total
      for j in 0...t { row[j] *= inv }
      var j = t + 1
      while j < length {
        row[j] = 0
        j += 1
      }
    }
  }

  /// Backward of causalSoftmax: dScores = P ⊙ (dP − rowsum(P ⊙ dP)), written over `dP` in place.
  static func causalSoftmaxBackward(
    probs: UnsafePointer<Float>, dProbsInOut: UnsafeMutablePointer<Float>, length: Int
  ) {
    for t in 0..<length {
      let p = probs + t * length
      let d = dProbsInOut + t * length
      let inner = Vec.dot(p, d, t + 1)
      for j in 0...t { d[j] = p[j] * (d[j] - inner) }
      var j = t + 1
      while j < length {
        d[j] = 0
        j += 1
      }
    }
  }

  /// Mean cross-entropy of `logits[N×V]` against `targets[N]`. With `gradScale` ≠ 0, overwrites the
  /// logits with gradScale · (softmax − onehot), the gradient of the mean loss when gradScale = 1/N.
  /// Returns the sum of per-row losses (as Double, to keep large sums exact enough).
  static func crossEntropy(
    logits: UnsafeMutablePointer<Float>, targets: UnsafePointer<Int32>, rows: Int, vocab: Int,
    gradScale: Float
  ) -> Double {
    var total: Double = 0
    for r in 0..<rows {
      let row = logits + r * vocab
      var maxValue = -Float.infinity
      for j in 0..<vocab where row[j] > maxValue { maxValue = row[j] }
      var sum: Float = 0
      let target = Int(targets[r])
      let targetLogit = row[target] - maxValue
      if gradScale != 0 {
        for j in 0..<vocab {
          let e = expf(row[j] - maxValue)
          row[j] = e
          sum += e
        }
        total -= Double(targetLogit - logf(sum))
        let inv = gradScale / sum
        for j in 0..<vocab { row[j] *= inv }
        row[target] -= gradScale
      } else {
        for j in 0..<vocab { sum += expf(row[j] - maxValue) }
        total -= Double(targetLogit - logf(sum))
      }
    }
    return total
  }
}
