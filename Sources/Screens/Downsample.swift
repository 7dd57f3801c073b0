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
    guard xs.count == ys.count else {
      let n = min(xs.count, ys.count)
      return minMax(
        xs: Array(xs.prefix(n)), ys: Array(ys.prefix(n)), range: range, buckets: buckets)
    }
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
    // The open bucket: the indices of its first, lowest and highest point.
    var first = -1
    var minI = 0
    var maxI = 0
    var minY = 0.0
    var maxY = 0.0
    // Points arrive in x order, so a bucket ends when x passes its right edge: one comparison per
    // point instead of a division and a floor.
    var edge = -Double.infinity
    xs.withUnsafeBufferPointer { xb in
      ys.withUnsafeBufferPointer { yb in
        var i = start
        while i <= end {
          // i == end closes the last bucket.
          let y = i < end ? yb[i] : .nan
          let x = i < end ? xb[i] : .nan
          let newBucket = !y.isFinite || !(x < edge) || first < 0
          if newBucket && first >= 0 {
            // Close the open bucket: its points in x order, each once.
            let a = min(minI, maxI)
            let c = max(minI, maxI)
            var emitted = -1
            for k in [first, a, c, i - 1] where k != emitted {
              ox.append(xb[k])
              oy.append(yb[k])
              emitted = k
            }
            first = -1
          }
          if i == end { break }
          if !y.isFinite {
            ox.append(x)
            oy.append(y)
            edge = -Double.infinity
          } else if first < 0 {
            let b = ((x - lo) * scale).rounded(.down)
            edge = lo + (b + 1) / scale
            if !(edge > x) { edge = x.nextUp }
            first = i
            minI = i
            maxI = i
            minY = y
            maxY = y
          } else if y < minY {
            minY = y
            minI = i
          } else if y > maxY {
            maxY = y
            maxI = i
          }
          i += 1
        }
      }
    }
    return (ox, oy)
  }

  private static func nextUp(_ v: Double) -> Double { v.nextUp }
}
