// TensorBoard-style smoothing: an exponential moving average, debiased so that the first points are
// not dragged towards zero. Non-finite values stay where they are (they split the line) and do not
// disturb the average.

public enum Smoothing {
  /// The debiased EMA of `ys` with weight `weight` in [0, 1).
  public static func ema(_ ys: [Double], weight: Double) -> [Double] {
    let w = min(max(weight, 0), 0.999)
    if w == 0 { return ys }
    var last = 0.0
    var debias = 1.0  // w^n; once it is negligible, dividing by 1 - w^n changes nothing.
    return [Double](unsafeUninitializedCapacity: ys.count) { out, count in
      ys.withUnsafeBufferPointer { yb in
        for i in 0..<yb.count {
          let y = yb[i]
          guard y.isFinite else {
            out[i] = y
            continue
          }
          last = last * w + (1 - w) * y
          if debias > 1e-18 {
            debias *= w
            out[i] = last / (1 - debias)
          } else {
            out[i] = last
          }
        }
      }
      count = ys.count
    }
  }
}
