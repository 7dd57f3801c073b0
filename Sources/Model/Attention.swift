import Tensor

/// Causal attention of one (batch row, head) pair, in query blocks so that the masked upper triangle
/// is mostly never computed: block rows r0 ..< r0+rows attend keys 0 ..< r0+rows only.
///
/// q, k and v are read in place from the fused qkv buffer (row stride 3C); the T×T probabilities are
/// kept (row stride T) for backward, with zeros above the diagonal up to the end of each block (the
/// columns past a block's last row are never read, so they are not written).
enum Attention {
  /// Query rows per block.
  static let blockRows = 64

  /// Y[T×hs] (row stride `ldy`) = softmax(scale·Q·Kᵀ, causal)·V; P[T×T] saved.
  static func forward(
    q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ldqkv: Int,
    probs: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, ldy: Int, length: Int,
    headSize: Int, scale: Float, blockRows: Int = Attention.blockRows
  ) {
    var r0 = 0
    while r0 < length {
      let rows = min(blockRows, length - r0)
      let keys = r0 + rows
      let p = probs + r0 * length
      BLAS.gemm(
        transB: true, m: rows, n: keys, k: headSize, alpha: scale, a: q + r0 * ldqkv, lda: ldqkv,
        b: k, ldb: ldqkv, c: p, ldc: length)
      Kernels.causalSoftmax(p, firstRow: r0, rows: rows, width: keys, stride: length)
      BLAS.gemm(
        m: rows, n: headSize, k: keys, a: p, lda: length, b: v, ldb: ldqkv, c: y + r0 * ldy,
        ldc: ldy)
      r0 += rows
    }
  }

  /// Gradients of `forward` w.r.t. q, k and v (overwritten, row stride `ldqkv`), from dY and the
  /// saved probabilities. `scratch` holds at least blockRows × T floats.
  static func backward(
    q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ldqkv: Int,
    probs: UnsafePointer<Float>, dy: UnsafePointer<Float>, ldy: Int,
    dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>,
    dv: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, length: Int,
    headSize: Int, scale: Float, blockRows: Int = Attention.blockRows
  ) {
    // Last block first: it spans every key row, so it initialises dK and dV (beta 0) and the
    // earlier, shorter blocks accumulate onto them.
    var blocks: [(Int, Int)] = []
    var r0 = 0
    while r0 < length {
      blocks.append((r0, min(blockRows, length - r0)))
      r0 += blockRows
    }
    for (index, (r0, rows)) in blocks.reversed().enumerated() {
      let keys = r0 + rows
      let beta: Float = index == 0 ? 0 : 1
      let p = probs + r0 * length
      let dyBlock = dy + r0 * ldy
      // dP = dY·Vᵀ, dV += Pᵀ·dY.
      BLAS.gemm(
        transB: true, m: rows, n: keys, k: headSize, a: dyBlock, lda: ldy, b: v, ldb: ldqkv,
        c: scratch, ldc: length)
      BLAS.gemm(
        transA: true, m: keys, n: headSize, k: rows, a: p, lda: length, b: dyBlock, ldb: ldy,
        beta: beta, c: dv, ldc: ldqkv)
      Kernels.causalSoftmaxBackward(
        probs: p, probsStride: length, dProbs: scratch, dStride: length, firstRow: r0, rows: rows,
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
