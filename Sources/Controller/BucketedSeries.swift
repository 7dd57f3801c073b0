// A series that stays small however long the run: points are averaged in buckets of `width`
// samples, and when `capacity` buckets are full, neighbouring pairs merge and `width` doubles.
// A million step events end up as at most `capacity` points, each the mean of equally many steps.

import Screens

/// Step-rate values (train loss, learning rate) kept as bucket means.
public struct BucketedSeries: Sendable, Equatable {
  /// Completed buckets: x is the last sample's x, y the mean of the bucket's samples.
  public private(set) var xs: [Double] = []
  public private(set) var ys: [Double] = []
  /// Samples per completed bucket.
  public private(set) var width = 1
  public let capacity: Int
  private var pendingCount = 0
  private var pendingSum = 0.0
  private var pendingX = 0.0

  /// `capacity` is rounded up to an even number of at least 2.
  public init(capacity: Int = 2048) {
    self.capacity = max(2, capacity + capacity % 2)
    xs.reserveCapacity(self.capacity)
    ys.reserveCapacity(self.capacity)
  }

  /// The last sample appended (the current value, where the drawn points are bucket means).
  public private(set) var latest: Double?
  /// Samples appended so far.
  public var sampleCount: Int { xs.count * width + pendingCount }

  /// Adds one sample (NaN or ±inf make their bucket non-finite, which splits the drawn line).
  public mutating func append(x: Double, y: Double) {
    latest = y
    pendingSum += y
    pendingCount += 1
    pendingX = x
    if pendingCount >= width { closeBucket() }
  }

  /// Closes the bucket being filled (at a stage boundary, so no bucket straddles two stages).
  public mutating func flush() {
    if pendingCount > 0 { closeBucket() }
  }

  private mutating func closeBucket() {
    xs.append(pendingX)
    ys.append(pendingSum / Double(pendingCount))
    pendingCount = 0
    pendingSum = 0
    if xs.count >= capacity { compact() }
  }

  /// Merges neighbouring buckets pairwise (an odd last bucket stays as it is).
  private mutating func compact() {
    let n = xs.count / 2
    var newX: [Double] = []
    var newY: [Double] = []
    newX.reserveCapacity(capacity)
    newY.reserveCapacity(capacity)
    for i in 0..<n {
      newX.append(xs[2 * i + 1])
      newY.append((ys[2 * i] + ys[2 * i + 1]) / 2)
    }
    if xs.count % 2 == 1 {
      newX.append(xs[xs.count - 1])
      newY.append(ys[ys.count - 1])
    }
    xs = newX
    ys = newY
    width *= 2
  }

  /// The points to draw: completed buckets plus the partly filled one.
  public func series(name: String) -> Series {
    guard pendingCount > 0 else { return Series(name: name, xs: xs, ys: ys) }
    return Series(
      name: name, xs: xs + [pendingX], ys: ys + [pendingSum / Double(pendingCount)])
  }
}
