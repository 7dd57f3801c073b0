/// Element-wise helpers on raw fp32 buffers, written so the compiler emits wide SIMD code.
/// Every function takes a count in elements; buffers must not overlap unless said otherwise.
public enum Vec {
  public typealias V16 = SIMD16<Float>

  @inline(__always)
  @usableFromInline static func load(_ p: UnsafePointer<Float>) -> V16 {
    UnsafeRawPointer(p).loadUnaligned(as: V16.self)
  }

  @inline(__always)
  @usableFromInline static func store(_ v: V16, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V16.self)
  }

  /// Σ x[i].
  @inlinable
  public static func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = V16(repeating: 0)
    var i = 0
    while i + 16 <= n {
      acc += load(x + i)
      i += 16
    }
    var s = acc.sum()
    while i < n {
      s += x[i]
      i += 1
    }
    return s
  }

  /// Σ x[i]·y[i].
  @inlinable
  public static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = V16(repeating: 0)
    var i = 0
    while i + 16 <= n {
      acc += load(x + i) * load(y + i)
      i += 16
    }
    var s = acc.sum()
    while i < n {
      s += x[i] * y[i]
      i += 1
    }
    return s
  }

  /// Σ x[i]².
  @inlinable
  public static func sumOfSquares(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
    var acc = V16(repeating: 0)
    var total: Double = 0
    var i = 0
    // Sum in fp32 lanes over blocks, fold each block into fp64 so large tensors stay accurate.
    while i < n {
      let end = min(i + 4096, n)
      acc = V16(repeating: 0)
      while i + 16 <= end {
        let v = load(x + i)
        acc += v * v
        i += 16
      }
      var s = acc.sum()
      while i < end {
        s += x[i] * x[i]
        i += 1
      }
      total += Double(s)
    }
    return total
  }

  /// y[i] += a·x[i].
  @inlinable
  public static func axpy(
    _ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int
  ) {
    let va = V16(repeating: a)
    var i = 0
    while i + 16 <= n {
      store(load(y + i) + va * load(x + i), y + i)
      i += 16
    }
    while i < n {
      y[i] += a * x[i]
      i += 1
    }
  }

  /// y[i] += x[i].
  @inlinable
  public static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i + 16 <= n {
      store(load(y + i) + load(x + i), y + i)
      i += 16
    }
    while i < n {
      y[i] += x[i]
      i += 1
    }
  }

  /// x[i] *= a.
  @inlinable
  public static func scale(_ x: UnsafeMutablePointer<Float>, by a: Float, _ n: Int) {
    let va = V16(repeating: a)
    var i = 0
    while i + 16 <= n {
      store(load(x + i) * va, x + i)
      i += 16
    }
    while i < n {
      x[i] *= a
      i += 1
    }
  }

  /// Adds the row vector `bias[cols]` to every row of `x[rows×cols]`.
  @inlinable
  public static func addRowVector(
    _ bias: UnsafePointer<Float>, to x: UnsafeMutablePointer<Float>, rows: Int, cols: Int
  ) {
    for r in 0..<rows { add(bias, into: x + r * cols, cols) }
  }

  /// out[cols] += column sums of `x[rows×cols]` (the gradient of a bias).
  @inlinable
  public static func accumulateColumnSums(
    _ x: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Float>
  ) {
    for r in 0..<rows { add(x + r * cols, into: out, cols) }
  }
}
