import Foundation
import Testing

@testable import Corpus

/// Token datasets built from synthetic text with the byte tokenizer, shared by the batch tests.
final class BatchFixture: @unchecked Sendable {
  static let shared = BatchFixture()
  let cache = temporaryCache()
  let d0: TokenDataset
  let d1: TokenDataset
  let d2: TokenDataset

  private init() {
    let manager = DataManager(cache: cache)
    d0 = try! manager.tokens(.builtin("synthetic"), tokenizer: .bytes)
    d1 = try! manager.tokens(.builtin("synthetic-de"), tokenizer: .bytes)
    d2 = try! manager.tokens(.builtin("synthetic-code"), tokenizer: .bytes)
  }
}

@Suite struct BatchTests {
  let f = BatchFixture.shared

  @Test(arguments: [0.0, 0.005, 0.01, 0.05, 0.25, 0.5])
  func replayShareOver1000Steps(share: Double) throws {
    let b = 16
    let t = 8
    let mixer = try BatchMixer(
      current: f.d1, replay: [(f.d0, 1)], replayShare: share, batchSize: b, context: t, seed: 1)
    var buffer = [Int32](repeating: 0, count: b * (t + 1))
    var replayed = 0
    for step in 1...1000 {
      let info = buffer.withUnsafeMutableBufferPointer { mixer.nextBatch(into: $0.baseAddress!) }
      replayed += info.replayRows
      // Within one sequence of the requested share after every step.
      #expect(abs(Double(replayed) - share * Double(b * step)) < 1.0 + 1e-9)
    }
    #expect(mixer.state.replayedRows == replayed)
  }

  @Test func replayReadsD0InOrder() throws {
    let t = 16
    let mixer = try BatchMixer(
      current: f.d1, replay: [(f.d0, 1)], replayShare: 0.25, batchSize: 8, context: t, seed: 2)
    var buffer = [Int32](repeating: 0, count: 8 * (t + 1))
    var rows: [[Int32]] = []
    for _ in 0..<10 {
      let info = buffer.withUnsafeMutableBufferPointer { mixer.nextBatch(into: $0.baseAddress!) }
      #expect(info.replayRows == 2)
      for r in 0..<info.replayRows { rows.append(Array(buffer[r * (t + 1)..<(r + 1) * (t + 1)])) }
    }
    let store = f.d0.components[0]
    for (i, row) in rows.enumerated() {
      #expect(row == store.tokens(validation: false, range: i * t..<i * t + t + 1))
    }
  }

  /// Spread replay reads every window of the split once per pass, in an order whose every stretch
  /// covers the whole split (in order, the first tenth of a pass is the split's first tenth), and
  /// resumes bit-identically from a saved state.
  @Test func spreadReplayCoversTheWholeSplit() throws {
    for windows in [1, 2, 10, 97, 1000, 14_283] {
      let step = BatchMixer.spreadStep(windows: windows)
      let pass = (0..<windows).map { BatchMixer.spreadWindow($0, windows: windows, step: step) }
      #expect(Set(pass).count == windows, "each of \(windows) windows once per pass")
      if windows >= 100 {
        let deciles = Set(pass.prefix(windows / 10).map { $0 * 10 / windows })
        #expect(deciles.count == 10, "the first tenth of a pass reaches every tenth of the split")
      }
    }
    let t = 16
    let store = f.d0.components[0]
    let windows = (store.trainCount - 1) / t
    let step = BatchMixer.spreadStep(windows: windows)
    let mixer = try BatchMixer(
      current: f.d1, replay: [(f.d0, 1)], replayShare: 1, batchSize: 8, context: t, seed: 2,
      replayOrder: .spread)
    var buffer = [Int32](repeating: 0, count: 8 * (t + 1))
    for batch in 0..<5 {
      _ = buffer.withUnsafeMutableBufferPointer { mixer.nextBatch(into: $0.baseAddress!) }
      for r in 0..<8 {
        let j = BatchMixer.spreadWindow(batch * 8 + r, windows: windows, step: step)
        #expect(
          Array(buffer[r * (t + 1)..<(r + 1) * (t + 1)])
            == store.tokens(validation: false, range: j * t..<j * t + t + 1))
      }
    }
    // Resume: a copy restored from the state draws the same next batch.
    let copy = try BatchMixer(
      current: f.d1, replay: [(f.d0, 1)], replayShare: 1, batchSize: 8, context: t, seed: 2,
      replayOrder: .spread)
    try copy.restore(mixer.state)
    var a = buffer
    var b = buffer
    _ = a.withUnsafeMutableBufferPointer { mixer.nextBatch(into: $0.baseAddress!) }
    _ = b.withUnsafeMutableBufferPointer { copy.nextBatch(into: $0.baseAddress!) }
    #expect(a == b)
  }

  @Test func replayFromSeveralDatasetsByWeight() throws {
    let mixer = try BatchMixer(
      current: f.d2, replay: [(f.d0, 3), (f.d1, 1)], replayShare: 0.5, batchSize: 16, context: 8,
      seed: 3)
    var buffer = [Int32](repeating: 0, count: 16 * 9)
    var per = [0, 0]
    for _ in 0..<100 {
      let info = buffer.withUnsafeMutableBufferPointer { mixer.nextBatch(into: $0.baseAddress!) }
      per[0] += info.replayRowsPerDataset[0]
      per[1] += info.replayRowsPerDataset[1]
    }
    #expect(per == [600, 200])
  }

  @Test func randomWindowsAreFromTrainSplitAndSeeded() throws {
    let t = 32
    let make = { try BatchMixer(current: self.f.d0, batchSize: 4, context: t, seed: 9) }
    let a = try make()
    let b = try make()
    var x = [Int32](repeating: 0, count: 4 * (t + 1))
    var y = x
    for _ in 0..<20 {
      _ = x.withUnsafeMutableBufferPointer { a.nextBatch(into: $0.baseAddress!) }
      _ = y.withUnsafeMutableBufferPointer { b.nextBatch(into: $0.baseAddress!) }
      #expect(x == y)
      #expect(x.allSatisfy { (0..<256).contains($0) })
    }
    let c = try BatchMixer(current: f.d0, batchSize: 4, context: t, seed: 10)
    _ = y.withUnsafeMutableBufferPointer { c.nextBatch(into: $0.baseAddress!) }
    #expect(x != y)
  }

  @Test func stateResumesBitIdentically() throws {
    let make = {
      try BatchMixer(
        current: self.f.d1, replay: [(self.f.d0, 1)], replayShare: 0.05, batchSize: 16,
        context: 8, seed: 4)
    }
    let a = try make()
    var buffer = [Int32](repeating: 0, count: 16 * 9)
    for _ in 0..<37 {
      _ = buffer.withUnsafeMutableBufferPointer { a.nextBatch(into: $0.baseAddress!) }
    }
    let saved = try JSONEncoder().encode(a.state)
    var expected: [[Int32]] = []
    for _ in 0..<25 {
      _ = buffer.withUnsafeMutableBufferPointer { a.nextBatch(into: $0.baseAddress!) }
      expected.append(buffer)
    }
    let b = try make()
    try b.restore(try JSONDecoder().decode(MixerState.self, from: saved))
    for i in 0..<25 {
      _ = buffer.withUnsafeMutableBufferPointer { b.nextBatch(into: $0.baseAddress!) }
      #expect(buffer == expected[i])
    }
  }

  @Test func restoreRejectsMismatchedState() throws {
    let a = try BatchMixer(
      current: f.d1, replay: [(f.d0, 1)], replayShare: 0.05, batchSize: 4, context: 8, seed: 4)
    let b = try BatchMixer(current: f.d1, batchSize: 4, context: 8, seed: 4)
    #expect(throws: CorpusError.self) { try b.restore(a.state) }
  }

  /// A saved state with values no mixer reaches (from a damaged checkpoint) is refused: an all-zero
  /// random state looped for ever in `below`, a negative or too large cursor read outside its split.
  @Test func restoreRejectsDamagedValues() throws {
    for order in ReplayOrder.allCases {
      let a = try BatchMixer(
        current: f.d1, replay: [(f.d0, 1)], replayShare: 0.25, batchSize: 4, context: 8, seed: 4,
        replayOrder: order)
      try a.restore(a.state)
      var damages: [(String, (inout MixerState) -> Void)] = [
        ("zero rng", { ($0.rng.s0, $0.rng.s1, $0.rng.s2, $0.rng.s3) = (0, 0, 0, 0) }),
        ("negative cursor", { $0.cursors[0][0] = -9 }),
        ("negative step", { $0.step = -1 }),
        ("carry", { $0.carry = .nan }),
        ("credit", { $0.replayCredits[0] = .infinity }),
      ]
      if order == .sequential {
        damages.append(("cursor past split", { $0.cursors[0][0] = Int.max - 3 }))
      }
      for (name, damage) in damages {
        var state = a.state
        damage(&state)
        #expect(throws: CorpusError.self, "\(order) \(name)") { try a.restore(state) }
      }
    }
  }

  @Test func validationWindowsAreFixed() throws {
    let mix = TokenDataset(
      name: "mix", components: f.d0.components + f.d1.components, weights: [1, 1])
    let v = try ValidationSet(dataset: mix, context: 16, maxWindows: 8)
    #expect(v.count == 8)
    var a = [Int32](repeating: 0, count: v.count * 17)
    var b = a
    a.withUnsafeMutableBufferPointer { v.fill(0..<v.count, into: $0.baseAddress!) }
    let v2 = try ValidationSet(dataset: mix, context: 16, maxWindows: 8)
    b.withUnsafeMutableBufferPointer { v2.fill(0..<v2.count, into: $0.baseAddress!) }
    #expect(a == b)
    #expect(Array(a[0..<17]) == f.d0.components[0].tokens(validation: true, range: 0..<17))
    // Spread: evenly over each component's split (its first window still the split's first).
    let spread = try ValidationSet(dataset: mix, context: 16, maxWindows: 8, spread: true)
    let available = f.d0.components[0].validationCount / 17
    let expected: [Int] = (0..<4).map { (w: Int) -> Int in w * available / 4 * 17 }
    #expect(Array(spread.windows.prefix(4).map(\.offset)) == expected)
  }

  @Test func mixtureSamplesComponentsByWeight() throws {
    let mix = TokenDataset(
      name: "mix", components: f.d0.components + f.d2.components, weights: [3, 1])
    #expect(mix.weights == [0.75, 0.25])
    let mixer = try BatchMixer(current: mix, batchSize: 64, context: 4, seed: 5)
    var buffer = [Int32](repeating: 0, count: 64 * 5)
    var rows = [0, 0]
    for _ in 0..<100 {
      let info = buffer.withUnsafeMutableBufferPointer { mixer.nextBatch(into: $0.baseAddress!) }
      rows[0] += info.currentRowsPerComponent[0]
      rows[1] += info.currentRowsPerComponent[1]
    }
    // 6400 rows, p = 0.75: sd ≈ 35.
    #expect(rows[0] + rows[1] == 6400)
    #expect(abs(rows[0] - 4800) < 200)
  }

}
