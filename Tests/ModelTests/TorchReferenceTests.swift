import Foundation
import Testing

@testable import Model

/// cptui's loss and gradients against PyTorch's on the same weights and batch. The reference file was
/// written by `scripts/torch_reference.py reference` (an independent PyTorch implementation), so this
/// test needs no PyTorch. Regenerate: `.build/release/cptui dev fixture --out Tests/ModelTests/Fixtures`
/// then `python3 scripts/torch_reference.py reference`.
struct TorchReferenceTests {
  static func fixture(_ name: String) throws -> String {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil))
    return url.path
  }

  @Test func fixtureCheckpointIsTheOneCptuiBuilds() throws {
    // The committed checkpoint is what ReferenceFixture.model() produces: training is deterministic.
    let loaded = try Checkpoint.load(from: try Self.fixture("tiny.safetensors"))
    let rebuilt = try ReferenceFixture.model()
    let n = rebuilt.layout.count
    #expect(
      Array(UnsafeBufferPointer(start: loaded.model.parameters, count: n))
        == Array(UnsafeBufferPointer(start: rebuilt.parameters, count: n)))
  }

  @Test func lossAndEveryGradientMatchPyTorch() throws {
    let loaded = try Checkpoint.load(from: try Self.fixture("tiny.safetensors"))
    let bytes = try Data(contentsOf: URL(fileURLWithPath: try Self.fixture("batch.bin")))
    let tokens = bytes.withUnsafeBytes { raw in
      (0..<(bytes.count / 4)).map {
        Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))
      }
    }
    #expect(tokens == ReferenceFixture.tokens())
    let reference = try SafeTensors.decode(
      Data(contentsOf: URL(fileURLWithPath: try Self.fixture("torch-reference.safetensors"))))
    let torchLoss = try #require(Double(reference.metadata["loss"] ?? ""))
    let ours = ReferenceFixture.lossAndGradients(
      model: loaded.model, tokens: tokens, batch: ReferenceFixture.batch)
    #expect(abs(Double(ours.loss) - torchLoss) / torchLoss < 1e-4)
    #expect(reference.tensors.count == loaded.model.layout.entries.count)
    for entry in loaded.model.layout.entries {
      let expected = try #require(reference.tensors[entry.name], "\(entry.name) missing")
      #expect(expected.shape == entry.shape)
      let got = try #require(ours.gradients[entry.name])
      let scale = expected.values.map { abs(Double($0)) }.max() ?? 0
      let worst = zip(got, expected.values).map { abs(Double($0) - Double($1)) }.max() ?? 0
      #expect(scale > 0, "\(entry.name): reference gradient is all zero")
      #expect(worst / max(scale, 1e-12) < 1e-3, "\(entry.name): relative error \(worst / scale)")
    }
  }
}
