import Tensor

/// Causal attention of one (batch row, head) pair, in query blocks so that the masked upper triangle
/// is mostly never computed: block rows r0 ..< r0+rows attend keys 0 ..< r0+rows only.
///
/// q, k and v are read in place from the fused qkv buffer (row stride 3C). The probabilities are
/// kept for backward packed by block: block r0 ..< r0+rows holds rows × (r0+rows) floats (row stride
/// r0+rows, zeros above the diagonal), right after the blocks before it, so the columns past a
/// block's last row take no memory (at T = 256, 40 960 floats where a T×T square has 65 536).
enum Attention {
  /// Query rows per block.
  static let blockRows = 64

  /// Floats of one (batch row, head) pair's packed probabilities: Σ over blocks of rows × keys.
  static func probsCount(length: Int, blockRows: Int = Attention.blockRows) -> Int {
    var count = 0
    var r0 = 0
    while r0 < length {
      let rows = min(blockRows, length - r0)
      count += rows * (r0 + rows)
      r0 += rows
    }
    return count
  }

  /// Y[T×hs] (row stride `ldy`) = softmax(scale·Q·Kᵀ, causal)·V; P saved packed
  /// (`probsCount` floats).
  static func forward(
    q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ldqkv: Int,
    probs: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, ldy: Int, length: Int,
    headSize: Int, scale: Float, blockRows: Int = Attention.blockRows
  ) {
    var r0 = 0
    var p = probs
    while r0 < length {
      let rows = min(blockRows, length - r0)
      let keys = r0 + rows
      BLAS.gemm(
        transB: true, m: rows, n: keys, k: headSize, alpha: scale, a: q + r0 * ldqkv, lda: ldqkv,
        b: k, ldb: ldqkv, c: p, ldc: keys)
      Kernels.causalSoftmax(p, firstRow: r0, rows: rows, width: keys, stride: keys)
      BLAS.gemm(
        m: rows, n: headSize, k: keys, a: p, lda: keys, b: v, ldb: ldqkv, c: y + r0 * ldy,
        ldc: ldy)
      p += rows * keys
      r0 += rows
    }
  }

  /// Gradients of `forward` w.r.t. q, k and v (overwritten, row stride `ldqkv`), from dY and the
  /// saved probabilities. `scratch` holds at least min(blockRows, T) × T floats (row stride T).
  static func backward(
    q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ldqkv: Int,
    probs: UnsafePointer<Float>, dy: UnsafePointer<Float>, ldy: Int,
    dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>,
    dv: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, length: Int,
    headSize: Int, scale: Float, blockRows: Int = Attention.blockRows
  ) {
    // Last block first: it spans every key row, so it initialises dK and dV (beta 0) and the
    // earlier, shorter blocks accumulate onto them.
    var blocks: [(r0: Int, rows: Int, offset: Int)] = []  // offset: the block's packed probs
    var r0 = 0
    var offset = 0
    while r0 < length {
      let rows = min(blockRows, length - r0)
      blocks.append((r0, rows, offset))
      offset += rows * (r0 + rows)
      r0 += rows
    }
    for (index, (r0, rows, offset)) in blocks.reversed().enumerated() {
      let keys = r0 + rows
      let beta: Float = index == 0 ? 0 : 1
      let p = probs + offset
      let dyBlock = dy + r0 * ldy
      // dP = dY·Vᵀ, dV += Pᵀ·dY.
      BLAS.gemm(
        transB: true, m: rows, n: keys, k: headSize, a: dyBlock, lda: ldy, b: v, ldb: ldqkv,
        c: scratch, ldc: length)
      BLAS.gemm(
        transA: true, m: keys, n: headSize, k: rows, a: p, lda: keys, b: dyBlock, ldb: ldy,
        beta: beta, c: dv, ldc: ldqkv)
      Kernels.causalSoftmaxBackward(
        probs: p, probsStride: keys, dProbs: scratch, dStride: length, firstRow: r0, rows: rows,
        width: keys)
      // dQ = scale·dS·K, dK += scale·dSᵀ·Q.
      BLAS.gemm(
        m: rows, n: headSize, k: keys, alpha: scale, a: scratch, lda: length, b: k, ldb: ldqkv,
        c: dq + r0 * ldqkv, ldc: ldqkv)
      BLAS.gemm(
        transA: true, m: keys, n: headSize, k: rows, alpha: scale, a: scratch, lda: length,
        b: q + r0 * ldqkv, ldb: ldqkv, beta: beta, c: dk, ldc: ldqkv)
    }
  }
}
