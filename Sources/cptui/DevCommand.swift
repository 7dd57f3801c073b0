import ArgumentParser
import Foundation
import Model

/// `cptui dev …`: hidden helpers for the numerics cross-check scripts.
struct DevCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dev", abstract: "Helpers for the cross-check scripts.", shouldDisplay: false,
    subcommands: [
      Fixture.self, Gradients.self, CheckCheckpoint.self, BigLog.self, ReplayOpen.self,
    ])

  /// Writes the reference fixture: checkpoint and batch.
  struct Fixture: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write the cross-check fixture (tiny.safetensors, batch.bin) into a folder.")
    @Option(help: "Output folder.") var out: String

    func run() throws {
      try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
      let model = try ReferenceFixture.model()
      try Checkpoint.save(model: model, optimizer: nil, to: out + "/tiny.safetensors")
      let tokens = ReferenceFixture.tokens()
      var data = Data()
      for id in tokens { withUnsafeBytes(of: id.littleEndian) { data.append(contentsOf: $0) } }
      try data.write(to: URL(fileURLWithPath: out + "/batch.bin"))
      print("wrote \(out)/tiny.safetensors and \(out)/batch.bin (B=\(ReferenceFixture.batch))")
    }
  }

  /// Writes cptui's loss and gradients on a batch, for the script to compare with PyTorch.
  struct Gradients: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write cptui's loss and gradients for a checkpoint and an int32 batch file.")
    @Option(help: "A cptui checkpoint.") var checkpoint: String
    @Option(help: "int32 little-endian token ids, B×(T+1).") var batchFile: String
    @Option(help: "Rows in the batch (B).") var batch: Int
    @Option(help: "Output safetensors file.") var out: String

    func run() throws {
      let loaded: Checkpoint.Loaded
      do { loaded = try Checkpoint.load(from: checkpoint) } catch {
        throw CLIError(error.description)
      }
      guard let data = FileManager.default.contents(atPath: batchFile), data.count % 4 == 0 else {
        throw CLIError("\(batchFile): missing or not int32 ids")
      }
      let tokens = data.withUnsafeBytes { raw in
        (0..<(data.count / 4)).map {
          Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))
        }
      }
      let result = ReferenceFixture.lossAndGradients(
        model: loaded.model, tokens: tokens, batch: batch)
      let names = loaded.model.layout.entries
      let arrays = names.map { result.gradients[$0.name]! }
      var tensors: [(name: String, shape: [Int], data: UnsafeBufferPointer<Float>)] = []
      for (e, a) in zip(names, arrays) {
        let p = UnsafeMutableBufferPointer<Float>.allocate(capacity: a.count)
        _ = p.initialize(from: a)
        tensors.append((e.name, e.shape, UnsafeBufferPointer(p)))
      }
      let bytes = try SafeTensors.encode(tensors: tensors, metadata: ["loss": "\(result.loss)"])
      for t in tensors { UnsafeMutableBufferPointer(mutating: t.data).deallocate() }
      try bytes.write(to: URL(fileURLWithPath: out))
      print("loss \(result.loss)")
    }
  }

  /// Loads a checkpoint completely; exit status 0 when it is whole and readable.
  struct CheckCheckpoint: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "check-checkpoint", abstract: "Load a checkpoint; fail when it is damaged.")
    @Argument(help: "A cptui checkpoint.") var path: String

    func run() throws {
      do {
        let loaded = try Checkpoint.load(from: path)
        print("ok: \(loaded.model.layout.count) parameters, optimizer \(loaded.optimizer != nil)")
      } catch {
        throw CLIError(error.description)
      }
    }
  }
}
