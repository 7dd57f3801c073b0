// Min/max-preserving downsampling: when a series has more points than the chart has dot columns,
// keep per column only the first, lowest, highest and last point, in x order. Spikes survive, the
// line keeps its shape, and drawing cost no longer grows with the series.

public enum Downsample {
  /// The first index whose x is ≥ `x` (xs ascending).
  public static func lowerBound(_ xs: [Double], _ x: Double) -> Int {
    var lo = 0
    var hi = xs.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if xs[mid] < x { lo = mid + 1 } else { hi = mid }
    }
    return lo
  }

  /// The points of (xs, ys) inside `range`, plus one neighbour on each side so lines reach the
  /// edges, reduced to at most 4 points per bucket when there are more than 2 per bucket.
  /// A non-finite y is kept (as one point) so that lines still split there.
  public static func minMax(
    xs: [Double], ys: [Double], range: ClosedRange<Double>, buckets: Int
  ) -> (xs: [Double], ys: [Double]) {
    guard !xs.isEmpty, buckets > 0 else { return ([], []) }
    let start = max(0, lowerBound(xs, range.lowerBound) - 1)
    let end = min(xs.count, lowerBound(xs, nextUp(range.upperBound)) + 1)
    guard start < end else { return ([], []) }
    if end - start <= 2 * buckets { return (Array(xs[start..<end]), Array(ys[start..<end])) }

    var ox: [Double] = []
    var oy: [Double] = []
    ox.reserveCapacity(4 * buckets + 8)
    oy.reserveCapacity(4 * buckets + 8)
    let lo = range.lowerBound
    let scale = Double(buckets) / max(range.upperBound - lo, .leastNonzeroMagnitude)
    var bucket = Int.min
    var first = -1
    var minI = -1
    var maxI = -1
    var last = -1

    func flush() {
      guard first >= 0 else { return }
      var idx = [first, minI, maxI, last]
      idx.sort()
      var prev = -1
      for i in idx where i != prev {
        ox.append(xs[i])
        oy.append(ys[i])
        prev = i
      }
      first = -1
    }

    for i in start..<end {
      let y = ys[i]
      if !y.isFinite {
        flush()
        ox.append(xs[i])
        oy.append(y)
        bucket = Int.min
        continue
      }
      let b = Int(((xs[i] - lo) * scale).rounded(.down))
      if b != bucket || first < 0 {
        flush()
        bucket = b
        first = i
        minI = i
        maxI = i
        last = i
      } else {
        if y < ys[minI] { minI = i }
        if y > ys[maxI] { maxI = i }
        last = i
      }
    }
    flush()
    return (ox, oy)
  }

  private static func nextUp(_ v: Double) -> Double { v.nextUp }
}
