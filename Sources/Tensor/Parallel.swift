import Dispatch

/// Splits work over the engine's threads with a static partition, so results never depend on timing:
/// part i of n always covers the same range and partial sums are combined in part order.
public enum Parallel {

  /// Runs `body(part, range)` for `parts` contiguous slices of 0..<count (parts = min(threads, count),
  /// and only so many that each slice has at least `minimumPerPart` items; 1 part runs inline).
  /// With `callsBLAS`, OpenBLAS is held to one thread inside, so BLAS calls in `body` do not
  /// oversubscribe the cores.
  @inlinable
  public static func forEachSlice(
    _ count: Int, threads: Int, minimumPerPart: Int = 1, callsBLAS: Bool = false,
    _ body: (_ part: Int, _ range: Range<Int>) -> Void
  ) {
    let parts = partCount(count, threads: threads, minimumPerPart: minimumPerPart)
    if parts <= 1 {
      body(0, 0..<count)
      return
    }
    let saved = callsBLAS ? BLAS.threads : 1
    if saved != 1 { BLAS.threads = 1 }
    withoutActuallyEscaping(body) { escapable in
      let box = UncheckedBox(escapable)
      DispatchQueue.concurrentPerform(iterations: parts) { part in
        box.value(part, slice(part, of: parts, count: count))
      }
    }
    if saved != 1 { BLAS.threads = saved }
  }

  /// How many parts `forEachSlice` uses for `count` items.
  @inlinable
  public static func partCount(_ count: Int, threads: Int, minimumPerPart: Int = 1) -> Int {
    max(1, min(threads, count / max(minimumPerPart, 1)))
  }

  /// The i-th of n contiguous, nearly equal slices of 0..<count.
  @inlinable
  public static func slice(_ i: Int, of n: Int, count: Int) -> Range<Int> {
    (count * i / n)..<(count * (i + 1) / n)
  }
}

/// Carries a non-Sendable value (a closure over raw buffers) into concurrentPerform. Safe because every
/// part touches disjoint memory, and the call does not return before all parts finish.
@usableFromInline
struct UncheckedBox<T>: @unchecked Sendable {
  @usableFromInline let value: T
  @usableFromInline init(_ value: T) { self.value = value }
}
