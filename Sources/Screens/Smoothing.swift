// TensorBoard-style smoothing: an exponential moving average, debiased so that the first points are
// not dragged towards zero. Non-finite values stay where they are (they split the line) and do not
// disturb the average.

public enum Smoothing {
  /// The debiased EMA of `ys` with weight `weight` in [0, 1).
  public static func ema(_ ys: [Double], weight: Double) -> [Double] {
    let w = min(max(weight, 0), 0.999)
    var out = [Double](repeating: .nan, count: ys.count)
    var last = 0.0
    var debias = 1.0
    for (i, y) in ys.enumerated() {
      guard y.isFinite else {
        out[i] = y
        continue
      }
      last = last * w + (1 - w) * y
      debias *= w
      out[i] = w == 0 ? y : last / (1 - debias)
    }
    return out
  }
}
