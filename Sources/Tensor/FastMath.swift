/// Vectorised exp and GELU pieces on 16 fp32 lanes. Accuracy: exp within 2 ulp over its range
/// (Cephes polynomial after 2ⁿ range reduction); the normal CDF within 2e-7 absolute
/// (Abramowitz & Stegun 7.1.26 for erfc). Both are deterministic and branch-free per lane.
public enum FastMath {
  public typealias V16 = SIMD16<Float>

  /// eˣ per lane; inputs below −87.3 are raised to it (result ≈ 1e-38) and above 88.3 clamped.
  /// (Swift's generic `clamped`, `pointwiseMin/Max`, `rounded` and Float→Int SIMD conversions run
  /// lane by lane; comparisons with `replacing` and the 1.5·2²³ rounding trick stay vectorised.)
  @inlinable @inline(__always)
  public static func exp(_ input: V16) -> V16 {
    let low = V16(repeating: -87.3)
    let high = V16(repeating: 88.3)
    var x = input.replacing(with: low, where: input .< low)
    x = x.replacing(with: high, where: x .> high)
    let magic = V16(repeating: 0x1.8p23)
    let shifted = x * 1.442_695_04 + magic  // round(x·log2 e) in the low mantissa bits
    let n = shifted - magic
    var r = x - n * 0.693_359_375
    r = r + n * 2.121_944_4e-4
    let z = r * r
    var p = V16(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    let y = p * z + r + 1
    let exponent = (unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    return y * unsafeBitCast(exponent, to: V16.self)
  }

  /// Lane-wise maximum without Swift's slow generic `pointwiseMax`.
  @inlinable @inline(__always)
  public static func max(_ a: V16, _ b: V16) -> V16 { a.replacing(with: b, where: b .> a) }

  /// The largest lane, halving in vector registers (Swift's `max()` on a SIMD vector goes lane by
  /// lane through memory). NaN lanes are passed over, as `max(_:_:)` here does.
  @inlinable @inline(__always)
  public static func largestLane(_ v: V16) -> Float {
    let eight = v.lowHalf.replacing(with: v.highHalf, where: v.highHalf .> v.lowHalf)
    let four = eight.lowHalf.replacing(with: eight.highHalf, where: eight.highHalf .> eight.lowHalf)
    let two = four.lowHalf.replacing(with: four.highHalf, where: four.highHalf .> four.lowHalf)
    return two[1] > two[0] ? two[1] : two[0]
  }

  /// Scalar eˣ with the same arithmetic as the vector version (lane 0 of a splat).
  @inlinable @inline(__always)
  public static func exp(_ x: Float) -> Float { exp(V16(repeating: x))[0] }

  /// For x: Φ(x) (standard normal CDF) and φ(x) (its density), sharing one exp.
  @inlinable @inline(__always)
  public static func normalCDFAndPDF(_ x: V16) -> (cdf: V16, pdf: V16) {
    let z = x * 0.707_106_781_186_547_5  // x/√2
    let az = z.replacing(with: -z, where: z .< 0)
    let t = 1 / (1 + 0.327_591_1 * az)
    var poly = V16(repeating: 1.061_405_429)
    poly = poly * t - 1.453_152_027
    poly = poly * t + 1.421_413_741
    poly = poly * t - 0.284_496_736
    poly = poly * t + 0.254_829_592
    poly = poly * t
    let e = exp(-(z * z))  // exp(−x²/2)
    let halfErfc = 0.5 * poly * e  // ½·erfc(|z|)
    let cdf = halfErfc.replacing(with: 1 - halfErfc, where: x .>= 0)
    return (cdf, e * 0.398_942_280_401_432_7)
  }

  /// Loads up to 16 floats (the rest `fill`).
  @inlinable @inline(__always)
  public static func loadPartial(_ p: UnsafePointer<Float>, _ count: Int, fill: Float = 0) -> V16 {
    // One copy into the vector's bytes: lane-by-lane inserts with a variable index go through
    // memory one lane at a time.
    assert((0...16).contains(count), "loadPartial of \(count) lanes")
    var v = V16(repeating: fill)
    withUnsafeMutableBytes(of: &v) { $0.baseAddress!.copyMemory(from: p, byteCount: count * 4) }
    return v
  }

  /// Stores the first `count` lanes.
  @inlinable @inline(__always)
  public static func storePartial(_ v: V16, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
    assert((0...16).contains(count), "storePartial of \(count) lanes")
    withUnsafeBytes(of: v) {
      UnsafeMutableRawPointer(p).copyMemory(from: $0.baseAddress!, byteCount: count * 4)
    }
  }

  @inlinable @inline(__always)
  public static func load(_ p: UnsafePointer<Float>) -> V16 {
    UnsafeRawPointer(p).loadUnaligned(as: V16.self)
  }

  @inlinable @inline(__always)
  public static func store(_ v: V16, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: V16.self)
  }
}
