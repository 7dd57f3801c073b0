import Corpus
import Foundation
import Testing

/// The trainer's view of `Corpus`: only public API (no `@testable` in this file), used the way a
/// two-stage run with replay uses it.
@Suite struct PublicAPITests {
  @Test func twoStageRunWithReplay() throws {
    let cache = CorpusCache(
      root: FileManager.default.temporaryDirectory.appendingPathComponent(
        "cptui-api-\(UUID().uuidString)"))
    defer { try? FileManager.default.removeItem(at: cache.root) }
    let manager = DataManager(cache: cache)
    let b = 8
    let t = 32
    let stages: [DatasetSpec] = [.builtin("synthetic"), .builtin("synthetic-de")]
    let (tokenizer, datasets) = try manager.prepareStages(stages, vocabSize: 320, context: t)
    let d0 = datasets[0]
    let d1 = datasets[1]
    #expect(d0.vocabSize == tokenizer.vocabSize)

    // Stage 1: D0 only.
    let stage1 = try BatchMixer(current: d0, batchSize: b, context: t, seed: 1)
    let batch = UnsafeMutablePointer<Int32>.allocate(capacity: b * (t + 1))
    defer { batch.deallocate() }
    for _ in 0..<10 {
      let info = stage1.nextBatch(into: batch)
      #expect(info.replayRows == 0)
    }
    // Stage 2: D1 with 25 % replay of D0; save and resume.
    let stage2 = try BatchMixer(
      current: d1, replay: [(d0, 1)], replayShare: 0.25, batchSize: b, context: t, seed: 2)
    var replayed = 0
    for _ in 0..<10 { replayed += stage2.nextBatch(into: batch).replayRows }
    #expect(replayed == 20)
    let saved = try JSONEncoder().encode(stage2.state)
    let resumed = try BatchMixer(
      current: d1, replay: [(d0, 1)], replayShare: 0.25, batchSize: b, context: t, seed: 2)
    try resumed.restore(try JSONDecoder().decode(MixerState.self, from: saved))
    let other = UnsafeMutablePointer<Int32>.allocate(capacity: b * (t + 1))
    defer { other.deallocate() }
    _ = stage2.nextBatch(into: batch)
    _ = resumed.nextBatch(into: other)
    #expect((0..<b * (t + 1)).allSatisfy { batch[$0] == other[$0] })
    #expect((0..<b * (t + 1)).allSatisfy { (0..<Int32(tokenizer.vocabSize)).contains(batch[$0]) })

    // Validation: the same windows every time, for both datasets.
    for ds in [d0, d1] {
      let validation = try ValidationSet(dataset: ds, context: t, maxWindows: 4)
      let rows = UnsafeMutablePointer<Int32>.allocate(capacity: validation.count * (t + 1))
      defer { rows.deallocate() }
      validation.fill(0..<validation.count, into: rows)
      #expect(validation.count == 4)
    }
    // The tokenizer round-trips through tokenizer.json.
    let url = cache.root.appendingPathComponent("tokenizer.json")
    try tokenizer.save(to: url)
    #expect(try BPETokenizer.load(from: url).hash == tokenizer.hash)
  }
}
