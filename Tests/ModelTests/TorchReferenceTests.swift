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
    // The committed checkpoint is what ReferenceFixture.model() produces. Bit for bit only on the CPU
    // that wrote it: Tensor and Model are compiled for the building CPU and OpenBLAS picks a kernel per
    // CPU, so sums run in another order elsewhere. The check is therefore to float rounding, except for
    // the key bias on the unrotated dimensions: a shift shared by every key leaves softmax unchanged, so
    // its gradient is zero up to rounding and AdamW (which divides by √v) turns that rounding noise into
    // steps of up to the learning rate. Those entries cannot change any loss; the loss check covers them.
    let loaded = try Checkpoint.load(from: try Self.fixture("tiny.safetensors"))
    let rebuilt = try ReferenceFixture.model()
    let config = ReferenceFixture.config
    let committed = Array(
      UnsafeBufferPointer(start: loaded.model.parameters, count: rebuilt.layout.count))
    let ours = Array(UnsafeBufferPointer(start: rebuilt.parameters, count: rebuilt.layout.count))
    let scale = committed.map { abs(Double($0)) }.max() ?? 0
    #expect(scale > 0)
    var gradientFree = Set<Int>()
    for e in rebuilt.layout.entries where e.name.hasSuffix("attention.query_key_value.bias") {
      // Per head: [query | key | value], headSize each; rotary on the first rotaryDims of each.
      for head in 0..<config.heads {
        let key = e.offset + head * 3 * config.headSize + config.headSize
        gradientFree.formUnion((key + config.rotaryDims)..<(key + config.headSize))
      }
    }
    #expect(
      gradientFree.count == config.layers * config.heads * (config.headSize - config.rotaryDims))
    for e in rebuilt.layout.entries {
      let worst =
        (e.offset..<(e.offset + e.count)).filter { !gradientFree.contains($0) }
        .map { abs(Double(committed[$0]) - Double(ours[$0])) }.max() ?? 0
      #expect(
        worst <= 1e-5 * scale, "\(e.name): largest difference \(worst), largest parameter \(scale)")
    }
    let tokens = ReferenceFixture.tokens()
    let batch = ReferenceFixture.batch
    let committedLoss = ReferenceFixture.lossAndGradients(
      model: loaded.model, tokens: tokens, batch: batch)
    let ourLoss = ReferenceFixture.lossAndGradients(model: rebuilt, tokens: tokens, batch: batch)
    #expect(abs(committedLoss.loss - ourLoss.loss) <= 1e-6 * committedLoss.loss)
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
