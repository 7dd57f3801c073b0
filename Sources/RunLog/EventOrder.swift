/// Drops step and evaluation events that go back in time, one event at a time, so that every
/// curve's x only grows: a step not after the last step kept; an evaluation before the last one
/// kept, or at its step again (a repeated line, a concatenated tail) unless it is a later stage's.
/// The one rule for a whole log (`RunLogReader.inOrder`) and for a log followed as it grows.
public struct EventOrder: Sendable {
  private var lastStep = Int.min
  private var lastEval = Int.min
  private var lastEvalStage = Int.min
  private var dropped: [String] = []
  private var droppedCount = 0

  public init() {}

  /// Whether `event` is kept (and remembered).
  public mutating func admit(_ event: RunEvent) -> Bool {
    switch event {
    case .step(let s):
      guard s.step > lastStep else { return drop("step \(s.step)") }
      lastStep = s.step
    case .eval(let e):
      guard e.step > lastEval || (e.step == lastEval && e.stage > lastEvalStage) else {
        return drop("eval \(e.step)")
      }
      lastEval = e.step
      lastEvalStage = e.stage
    default: break
    }
    return true
  }

  private mutating func drop(_ what: String) -> Bool {
    droppedCount += 1
    if dropped.count < 3 { dropped.append(what) }
    return false
  }

  /// "ignored 3 events out of order or repeated (step 40, step 41, eval 40)", or nil.
  public var notice: String? {
    guard droppedCount > 0 else { return nil }
    let more = droppedCount > dropped.count ? ", …" : ""
    return "ignored \(droppedCount) event\(droppedCount == 1 ? "" : "s") out of order or repeated ("
      + dropped.joined(separator: ", ") + more + ")"
  }
}
