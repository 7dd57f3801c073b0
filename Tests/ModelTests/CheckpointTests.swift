import Foundation
import Testing

@testable import Model
@testable import Tensor

struct CheckpointTests {
  static func temporaryPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "cptui-ckpt-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
  }

  static func trainSteps(
    _ model: GPTNeoX, _ optimizer: AdamW, _ rng: inout SeededRNG, steps: Int
  ) -> [Float] {
    var losses: [Float] = []
    for _ in 0..<steps {
      let tokens = (0..<(2 * 9)).map { _ in Int32(rng.nextInt(below: model.config.vocab)) }
      model.zeroGradients()
      losses.append(model.forward(tokens: tokens, batch: 2, length: 8, training: true))
      model.backward()
      optimizer.update(model: model, learningRate: 5e-3)
    }
    return losses
  }

  @Test func resumeIsBitIdentical() throws {
    let config = ModelConfig(layers: 2, heads: 2, width: 16, context: 8, vocab: 30)
    // Uninterrupted: 6 steps.
    let full = try GPTNeoX(config: config, seed: 1)
    let fullOpt = AdamW(layout: full.layout)
    var rng = SeededRNG(seed: 2)
    let expected = Self.trainSteps(full, fullOpt, &rng, steps: 6)
    // Interrupted after 3 steps, saved, loaded, then 3 more.
    let first = try GPTNeoX(config: config, seed: 1)
    let firstOpt = AdamW(layout: first.layout)
    var rng2 = SeededRNG(seed: 2)
    var losses = Self.trainSteps(first, firstOpt, &rng2, steps: 3)
    let path = Self.temporaryPath("a.safetensors")
    let rngJSON = String(decoding: try JSONEncoder().encode(rng2), as: UTF8.self)
    try Checkpoint.save(model: first, optimizer: firstOpt, metadata: ["rng": rngJSON], to: path)
    let loaded = try Checkpoint.load(from: path)
    #expect(loaded.model.config == config)
    #expect(loaded.optimizer?.step == 3)
    var rng3 = try JSONDecoder().decode(SeededRNG.self, from: Data(loaded.metadata["rng"]!.utf8))
    losses += Self.trainSteps(loaded.model, loaded.optimizer!, &rng3, steps: 3)
    #expect(losses == expected)
  }

  @Test func fileLayoutIsSafetensors() throws {
    let config = ModelConfig(layers: 1, heads: 1, width: 4, context: 4, vocab: 5)
    let model = try GPTNeoX(config: config, seed: 3)
    let path = Self.temporaryPath("b.safetensors")
    try Checkpoint.save(model: model, optimizer: nil, to: path)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    let n = bytes.prefix(8).enumerated().reduce(0) { $0 | (Int($1.element) << (8 * $1.offset)) }
    #expect(n % 8 == 0)
    let header =
      try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + n))) as! [String: Any]
    let embed = header["gpt_neox.embed_in.weight"] as! [String: Any]
    #expect(embed["dtype"] as? String == "F32")
    #expect(embed["shape"] as? [Int] == [5, 4])
    #expect(header["embed_out.weight"] != nil)
    #expect(header["optimizer.exp_avg.embed_out.weight"] == nil)
    let decoded = try SafeTensors.decode(bytes)
    #expect(decoded.tensors.count == model.layout.entries.count)
    let w = decoded.tensors["gpt_neox.layers.0.attention.query_key_value.weight"]!
    #expect(w.shape == [12, 4])
    let offset = model.layout.blocks[0].qkvWeight
    #expect(w.values == Array(UnsafeBufferPointer(start: model.parameters + offset, count: 48)))
  }

  @Test func badFilesGiveClearErrors() throws {
    let config = ModelConfig(layers: 1, heads: 1, width: 4, context: 4, vocab: 5)
    let model = try GPTNeoX(config: config, seed: 3)
    let good = Self.temporaryPath("good.safetensors")
    try Checkpoint.save(model: model, optimizer: AdamW(layout: model.layout), to: good)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: good))

    func expectError(
      _ data: Data?, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
      let path = Self.temporaryPath("bad.safetensors")
      if let data { try? data.write(to: URL(fileURLWithPath: path)) }
      do {
        _ = try Checkpoint.load(from: path)
        Issue.record("loaded a bad file", sourceLocation: sourceLocation)
      } catch {
        #expect(error.description.contains(path), sourceLocation: sourceLocation)
        #expect(error.description.contains(fragment), "\(error)", sourceLocation: sourceLocation)
      }
    }
    expectError(nil, "no such file")
    expectError(Data(), "shorter than the 8-byte header")
    expectError(bytes.prefix(bytes.count - 10), "truncated")
    expectError(bytes.prefix(30), "truncated")
    expectError(Data("hello, this is a text file and not a checkpoint".utf8), "not safetensors")
    // A safetensors file that is not a cptui checkpoint.
    let values: [Float] = [1, 2]
    let foreign = try values.withUnsafeBufferPointer {
      try SafeTensors.encode(tensors: [("x", [2], $0)], metadata: [:])
    }
    expectError(foreign, "not a cptui checkpoint")
    // Damaged tensor bytes (the header intact): the checksum says so.
    #expect(try Checkpoint.load(from: good).metadata[Checkpoint.checksumKey]?.count == 16)
    let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.1) << (8 * $1.0) }
    for offset in [8 + headerLength + 2, bytes.count - 7] {
      var damaged = bytes
      damaged[offset] ^= 0x40
      expectError(damaged, "the file is damaged")
    }
  }

  @Test func atomicWriteLeavesNoTemporaryFiles() throws {
    let path = Self.temporaryPath("c.bin")
    try AtomicFile.write(Data([1, 2, 3]), to: path)
    try AtomicFile.write(Data([4, 5]), to: path)
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data([4, 5]))
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["c.bin"])
    #expect(throws: AtomicFileError.self) {
      try AtomicFile.write(Data([1]), to: "/nonexistent-dir/x")
    }
  }
}
