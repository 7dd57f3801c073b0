import Foundation

/// A small, fast, seedable random generator (xoshiro256**, seeded through SplitMix64).
/// Its whole state is four words, so checkpoints can store it and resume bit-identically.
public struct SeededRNG: RandomNumberGenerator, Sendable, Hashable, Codable {
  public var state: [UInt64]

  public init(seed: UInt64) {
    var s = seed
    func splitMix() -> UInt64 {
      s &+= 0x9E37_79B9_7F4A_7C15
      var z = s
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    state = [splitMix(), splitMix(), splitMix(), splitMix()]
  }

  public init(state: [UInt64]) {
    precondition(state.count == 4, "xoshiro256** state has 4 words")
    self.state = state
  }

  @inlinable
  public mutating func next() -> UInt64 {
    let result = rotl(state[1] &* 5, 7) &* 9
    let t = state[1] << 17
    state[2] ^= state[0]
    state[3] ^= state[1]
    state[1] ^= state[2]
    state[0] ^= state[3]
    state[2] ^= t
    state[3] = rotl(state[3], 45)
    return result
  }

  @inlinable
  func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

  /// Uniform in [0, 1) with 24 random bits.
  @inlinable
  public mutating func nextUniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

  /// Uniform integer in 0..<bound (bound > 0), without modulo bias.
  @inlinable
  public mutating func nextInt(below bound: Int) -> Int { Int(next(upperBound: UInt64(bound))) }

  /// Standard normal sample (Box–Muller on two 53-bit uniforms).
  public mutating func nextNormal() -> Double {
    let u1 = Double(next() >> 11) * 0x1.0p-53
    let u2 = Double(next() >> 11) * 0x1.0p-53
    let r = (-2 * log(1 - u1)).squareRoot()
    return r * cos(2 * Double.pi * u2)
  }
}
