import Foundation

/// Wall time per operation kind over training steps, for `cptui bench --profile`.
public final class StepProfiler: @unchecked Sendable {
  /// What a share of step time is spent on.
  public enum Category: String, CaseIterable, Sendable {
    case linear = "GEMMs (linear layers)"
    case outputProjection = "GEMMs (output projection)"
    case attention = "attention (GEMMs + softmax)"
    case rotary = "rotary embedding"
    case layerNorm = "LayerNorm"
    case gelu = "GELU"
    case loss = "softmax/cross-entropy"
    case embedding = "embedding"
    case optimizer = "AdamW + clipping"
    case data = "data (batch preparation)"
  }

  public private(set) var seconds: [Category: Double] = [:]

  public init() {}

  @inline(__always)
  public func measure<T>(_ category: Category, _ body: () throws -> T) rethrows -> T {
    let start = DispatchTime.now().uptimeNanoseconds
    defer {
      seconds[category, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
    return try body()
  }

  public func reset() { seconds = [:] }

  public var total: Double { seconds.values.reduce(0, +) }
}

extension Optional where Wrapped == StepProfiler {
  /// Runs `body`, timing it when a profiler is attached.
  @inline(__always)
  func measure<T>(_ category: StepProfiler.Category, _ body: () throws -> T) rethrows -> T {
    switch self {
    case .some(let p): return try p.measure(category, body)
    case .none: return try body()
    }
  }
}
