/// Where a batch's rows came from.
public struct BatchInfo: Sendable, Equatable {
  /// Rows `0..<replayRows` are replayed (earlier datasets, read as `ReplayOrder` says); the rest
  /// are from the current dataset (random windows).
  public var replayRows: Int
  /// Rows of each replay dataset, in the order given to the mixer.
  public var replayRowsPerDataset: [Int]
  /// Rows of each component of the current dataset (one entry unless it is a mixture).
  public var currentRowsPerComponent: [Int]
}

/// How replayed windows go through an earlier dataset's training split. The splits keep their
/// sources' order (files sorted by path, a book from its first chapter), so a stretch read in order
/// from the start is a narrow slice of the dataset.
public enum ReplayOrder: String, Sendable, Codable, CaseIterable {
  /// In order from the split's start: window `k` starts at token `k·T` (wrapping at the end).
  case sequential
  /// Every window of the split once per pass, in an order that spreads them over the whole split
  /// (window `k` is window `(a·k) mod m` of the `m` windows, `a` coprime to `m` near `0.618·m`),
  /// so any stretch of replay samples the whole dataset.
  case spread
}

/// The serialisable state of a ``BatchMixer``: store it in a checkpoint and assign it back to resume
/// bit-identically.
public struct MixerState: Sendable, Codable, Equatable {
  /// Random generator of the current dataset's windows.
  public var rng: CorpusRNG
  /// Batches drawn so far.
  public var step: Int
  /// Fractional replay sequences carried to the next batch, in [0, 1).
  public var carry: Double
  /// Replay sequences drawn so far (all replay datasets).
  public var replayedRows: Int
  /// Smooth weighted round-robin credits choosing among replay datasets.
  public var replayCredits: [Double]
  /// Per replay dataset, per component: credits choosing the component.
  public var componentCredits: [[Double]]
  /// Per replay dataset, per component: next token offset in its training split (`sequential`),
  /// or windows read so far (`spread`).
  public var cursors: [[Int]]
}

/// Draws batches for one training stage: the current dataset gives random windows, and a replay
/// share of every batch comes from earlier datasets, each read through its training split in the
/// order `ReplayOrder` says (compute-equivalent replay: the batch size, and so the stage's token
/// count, is unchanged).
///
/// Replay count: with share `x` (0…1) and batch size `B`, batch `n` holds
/// `floor(carry + x·B)` replayed rows, the fraction being carried to the next batch, so after `n`
/// batches the replayed rows are within one row of `x·B·n`.
///
/// Rows are windows of `T + 1` consecutive tokens (inputs `0..<T`, targets `1...T`). Random windows
/// start uniformly in `0...(tokens − T − 1)` of a component chosen by weight. Replay windows with
/// `sequential` are read in order: the cursor advances by `T` (each token is a target once) and
/// wraps to 0 at the end of the split; with `spread`, window (a·k) mod m of the split's m windows
/// (a coprime to m), so every window once per pass, spread over the split; among several replay datasets (and among the components of a replayed mixture) the
/// choice is a smooth weighted round-robin, so shares are exact and deterministic.
public final class BatchMixer: @unchecked Sendable {
  public let current: TokenDataset
  public let replay: [TokenDataset]
  /// Relative weights of the replay datasets (normalised to sum 1).
  public let replayWeights: [Double]
  /// Share of each batch's rows replayed, in [0, 1].
  public let replayShare: Double
  /// Rows per batch (B).
  public let batchSize: Int
  /// Context length (T); rows hold T + 1 tokens.
  public let context: Int
  /// How replayed windows go through each replayed split.
  public let replayOrder: ReplayOrder
  /// Per replay dataset, per component, for `spread`: the split's whole windows `m` and the step
  /// `a` between consecutive ones.
  private let spreadSteps: [[(windows: Int, step: Int)]]
  /// Current position; save it with a checkpoint and give it to ``restore(_:)`` to resume.
  public private(set) var state: MixerState

  /// Continues from a saved state (of a mixer built with the same datasets and settings); the
  /// following batches are bit-identical to those the saved mixer would have drawn.
  public func restore(_ saved: MixerState) throws {
    guard saved.cursors.count == replay.count,
      zip(saved.cursors, replay).allSatisfy({ $0.count == $1.components.count }),
      saved.componentCredits.map(\.count) == saved.cursors.map(\.count),
      saved.replayCredits.count == replay.count
    else {
      throw CorpusError.invalidArgument("saved sampler state does not match these replay datasets")
    }
    // Values a mixer never reaches would trap in `nextBatch` (negative or huge cursors) or loop
    // there for ever (xoshiro's all-zero state only gives zeros).
    let rng = saved.rng
    let credits = saved.replayCredits + saved.componentCredits.joined()
    let cursorLimit =
      replayOrder == .sequential ? replay.map { $0.components.map(\.trainCount) } : nil
    let cursorsFit = saved.cursors.indices.allSatisfy { d in
      saved.cursors[d].indices.allSatisfy { c in
        (0...(cursorLimit?[d][c] ?? Int.max / 2)).contains(saved.cursors[d][c])
      }
    }
    guard rng.s0 | rng.s1 | rng.s2 | rng.s3 != 0, saved.step >= 0, saved.replayedRows >= 0,
      saved.carry.isFinite, (0...1).contains(saved.carry), credits.allSatisfy(\.isFinite),
      cursorsFit
    else {
      throw CorpusError.invalidArgument(
        "saved sampler state is damaged (a value no sampler reaches: all-zero random state, "
          + "a negative count or a cursor past its split)")
    }
    state = saved
  }

  /// - Parameters:
  ///   - current: the stage's dataset (random windows from its training split).
  ///   - replay: earlier datasets with relative weights (may be empty).
  ///   - replayShare: share of rows from `replay`, 0…1 (0.05 = 5 %).
  ///   - batchSize: B rows per batch.
  ///   - context: T; each row is T + 1 tokens.
  ///   - seed: seed of the random windows.
  ///   - replayOrder: how replayed windows go through each split.
  ///   - replayCursors: per replay dataset, per component, where replay starts (`spread`: windows
  ///     already read; `sequential`: a token offset); nil: each split's start.
  public init(
    current: TokenDataset, replay: [(TokenDataset, Double)] = [], replayShare: Double = 0,
    batchSize: Int, context: Int, seed: UInt64,
    replayOrder: ReplayOrder = .sequential, replayCursors: [[Int]]? = nil
  ) throws {
    guard batchSize > 0, context > 0 else {
      throw CorpusError.invalidArgument("batch size and context must be positive")
    }
    guard (0...1).contains(replayShare) else {
      throw CorpusError.invalidArgument("replay share \(replayShare) is not a fraction in 0…1")
    }
    guard replayShare == 0 || !replay.isEmpty else {
      throw CorpusError.invalidArgument("a replay share above 0 needs at least one replay dataset")
    }
    try current.check(context: context)
    for (d, _) in replay { try d.check(context: context) }
    self.current = current
    self.replay = replay.map { $0.0 }
    let total = replay.reduce(0) { $0 + $1.1 }
    self.replayWeights = replay.map { total > 0 ? $0.1 / total : 0 }
    self.replayShare = replayShare
    self.batchSize = batchSize
    self.context = context
    self.replayOrder = replayOrder
    spreadSteps = replay.map { d in
      d.0.components.map { c in
        let windows = max(1, (c.trainCount - 1) / context)
        return (windows, Self.spreadStep(windows: windows))
      }
    }
    state = MixerState(
      rng: CorpusRNG(seed: seed), step: 0, carry: 0, replayedRows: 0,
      replayCredits: replay.map { _ in 0 },
      componentCredits: replay.map { d in d.0.components.map { _ in 0 } },
      cursors: replay.map { d in d.0.components.map { _ in 0 } })
    if let replayCursors {
      guard replayCursors.count == replay.count,
        zip(replayCursors, replay).allSatisfy({ $0.count == $1.0.components.count })
      else { throw CorpusError.invalidArgument("replay cursors do not match the replay datasets") }
      state.cursors = replayCursors
    }
  }

  /// The step between consecutive `spread` windows among `windows`: coprime to it (so a pass
  /// visits each window once) and near the golden section of it (so any stretch of the pass is
  /// spread over the whole split).
  static func spreadStep(windows m: Int) -> Int {
    guard m > 2 else { return 1 }
    func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
    var step = max(1, Int((Double(m) * 0.618_033_988_749_895).rounded()))
    while gcd(step, m) != 1 { step += 1 }
    return step
  }

  /// The `k`-th window (from 0) of a spread pass over `windows` windows with `step`.
  static func spreadWindow(_ k: Int, windows: Int, step: Int) -> Int {
    Int((UInt64(k % windows) &* UInt64(step)) % UInt64(windows))
  }

  /// Replayed rows of the next batch (advances the carry).
  private func nextReplayCount() -> Int {
    let want = state.carry + replayShare * Double(batchSize)
    // A tiny tolerance keeps exact shares (e.g. 0.25 · 16) from losing a row to rounding.
    let k = min(batchSize, Int((want + 1e-9).rounded(.down)))
    state.carry = max(0, want - Double(k))
    return k
  }

  /// Smooth weighted round-robin: adds each weight to its credit, picks the largest credit, and
  /// subtracts 1 from it.
  private static func pick(_ credits: inout [Double], _ weights: [Double]) -> Int {
    var best = 0
    for i in credits.indices {
      credits[i] += weights[i]
      if credits[i] > credits[best] + 1e-12 { best = i }
    }
    credits[best] -= 1
    return best
  }

  /// Fills `out` with the next batch: `batchSize` rows of `context + 1` tokens, row-major
  /// (`out[r * (T + 1) + t]`), token ids as `Int32`. Replayed rows come first.
  public func nextBatch(into out: UnsafeMutablePointer<Int32>) -> BatchInfo {
    let width = context + 1
    let k = nextReplayCount()
    var perDataset = [Int](repeating: 0, count: replay.count)
    for r in 0..<k {
      let d = BatchMixer.pick(&state.replayCredits, replayWeights)
      perDataset[d] += 1
      let ds = replay[d]
      let c = BatchMixer.pick(&state.componentCredits[d], ds.weights)
      let store = ds.components[c]
      switch replayOrder {
      case .sequential:
        var pos = state.cursors[d][c]
        if pos + width > store.trainCount { pos = 0 }
        store.copy(validation: false, from: pos, count: width, into: out + r * width)
        state.cursors[d][c] = pos + context
      case .spread:
        let k = state.cursors[d][c]
        let (windows, step) = spreadSteps[d][c]
        // Window j starts at j·T: j·T + T + 1 ≤ m·T + 1 ≤ the split's tokens.
        let window = Self.spreadWindow(k, windows: windows, step: step)
        store.copy(validation: false, from: window * context, count: width, into: out + r * width)
        state.cursors[d][c] = k + 1
      }
    }
    var perComponent = [Int](repeating: 0, count: current.components.count)
    for r in k..<batchSize {
      var c = 0
      if current.components.count > 1 {
        let u = state.rng.unit()
        var acc = 0.0
        c = current.components.count - 1
        for (i, w) in current.weights.enumerated() {
          acc += w
          if u < acc {
            c = i
            break
          }
        }
      }
      perComponent[c] += 1
      let store = current.components[c]
      let start = state.rng.below(store.trainCount - width + 1)
      store.copy(validation: false, from: start, count: width, into: out + r * width)
    }
    state.step += 1
    state.replayedRows += k
    return BatchInfo(
      replayRows: k, replayRowsPerDataset: perDataset, currentRowsPerComponent: perComponent)
  }
}

/// A fixed set of held-out windows of one dataset, the same at every evaluation: windows of
/// `T + 1` tokens from each component's validation split — back to back from its start, or
/// (`spread`) evenly spaced over the whole split — at most `maxWindows` in all, shared among
/// components by weight (at least one each).
public struct ValidationSet: @unchecked Sendable {
  public let dataset: TokenDataset
  public let context: Int
  /// (component, token offset) of each window.
  public let windows: [(component: Int, offset: Int)]

  public init(dataset: TokenDataset, context: Int, maxWindows: Int = 32, spread: Bool = false)
    throws
  {
    try dataset.check(context: context)
    self.dataset = dataset
    self.context = context
    var out: [(Int, Int)] = []
    for (c, store) in dataset.components.enumerated() {
      let available = store.validationCount / (context + 1)
      let share = max(1, Int((Double(maxWindows) * dataset.weights[c]).rounded()))
      let count = min(available, share)
      for w in 0..<count {
        // Spread: window w of `count` is the (w·available/count)-th of the split's windows.
        let index = spread ? w * available / count : w
        out.append((c, index * (context + 1)))
      }
    }
    windows = out
  }

  /// Number of windows.
  public var count: Int { windows.count }

  /// Copies windows `range` into `out`, row-major, `range.count` rows of `context + 1` tokens.
  public func fill(_ range: Range<Int>, into out: UnsafeMutablePointer<Int32>) {
    for (r, i) in range.enumerated() {
      let w = windows[i]
      dataset.components[w.component].copy(
        validation: true, from: w.offset, count: context + 1, into: out + r * (context + 1))
    }
  }
}
