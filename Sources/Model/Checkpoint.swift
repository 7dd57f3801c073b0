import Foundation

/// A training checkpoint in safetensors: the model's tensors under their GPT-NeoX names, the AdamW
/// moments under `optimizer.exp_avg.<name>` and `optimizer.exp_avg_sq.<name>`, and metadata strings:
/// `cptui.format`, `cptui.model` (ModelConfig as JSON), `cptui.optimizer` (hyperparameters as JSON),
/// `cptui.optimizer.step`, plus whatever the caller adds (step, RNG and sampler state, run config).
/// Layout documented in docs/checkpoints.md.
public enum Checkpoint {
  public static let formatVersion = "1"
  public static let optimizerFirstMomentPrefix = "optimizer.exp_avg."
  public static let optimizerSecondMomentPrefix = "optimizer.exp_avg_sq."
  /// Metadata key of the checksum over every tensor written, in order (model, then moments).
  public static let checksumKey = "cptui.checksum"

  /// Writes a checkpoint atomically: a temporary file in the same folder, fsync, then rename, so a
  /// crash at any moment leaves either the old file or the new one, never half of one.
  public static func save(
    model: GPTNeoX, optimizer: AdamW?, metadata: [String: String] = [:], to path: String
  ) throws {
    var meta = metadata
    meta["format"] = "pt"
    meta["cptui.format"] = formatVersion
    meta["cptui.model"] = try jsonString(model.config)
    var tensors: [(name: String, shape: [Int], data: UnsafeBufferPointer<Float>)] = []
    for e in model.layout.entries {
      tensors.append(
        (e.name, e.shape, UnsafeBufferPointer(start: model.parameters + e.offset, count: e.count)))
    }
    if let optimizer {
      meta["cptui.optimizer"] = try jsonString(optimizer.hyper)
      meta["cptui.optimizer.step"] = String(optimizer.step)
      for e in model.layout.entries {
        tensors.append(
          (
            optimizerFirstMomentPrefix + e.name, e.shape,
            UnsafeBufferPointer(start: optimizer.m + e.offset, count: e.count)
          ))
      }
      for e in model.layout.entries {
        tensors.append(
          (
            optimizerSecondMomentPrefix + e.name, e.shape,
            UnsafeBufferPointer(start: optimizer.v + e.offset, count: e.count)
          ))
      }
    }
    var checksum = TensorChecksum()
    for t in tensors { checksum.add(t.data) }
    meta[checksumKey] = checksum.hex
    let bytes = try SafeTensors.encode(tensors: tensors, metadata: meta)
    try AtomicFile.write(bytes, to: path)
  }

  /// What `load` returns.
  public struct Loaded {
    public var model: GPTNeoX
    /// Present when the file holds optimizer moments.
    public var optimizer: AdamW?
    /// All metadata strings of the file.
    public var metadata: [String: String]
  }

  /// Reads a cptui checkpoint. Errors name the file and what is wrong with it.
  public static func load(from path: String) throws(CheckpointError) -> Loaded {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
      throw CheckpointError(path: path, reason: "no such file")
    }
    if isFolder.boolValue {
      throw CheckpointError(
        path: path, reason: "is a folder; give one step-N.safetensors file in it")
    }
    guard let bytes = FileManager.default.contents(atPath: path) else {
      throw CheckpointError(path: path, reason: "cannot be read")
    }
    let decoded: (tensors: [String: SafeTensors.Tensor], metadata: [String: String])
    do {
      decoded = try SafeTensors.decode(bytes)
    } catch {
      throw CheckpointError(path: path, reason: error.description)
    }
    let meta = decoded.metadata
    guard let modelJSON = meta["cptui.model"] else {
      throw CheckpointError(path: path, reason: "no cptui.model metadata: not a cptui checkpoint")
    }
    let config: ModelConfig
    do {
      config = try JSONDecoder().decode(ModelConfig.self, from: Data(modelJSON.utf8))
    } catch {
      throw CheckpointError(path: path, reason: "cptui.model metadata is not a model config")
    }
    let model: GPTNeoX
    do {
      model = try GPTNeoX(config: config, seed: 0)
    } catch {
      throw CheckpointError(path: path, reason: "invalid model config: \(error)")
    }
    var checksum = TensorChecksum()
    func fill(_ dst: UnsafeMutablePointer<Float>, prefix: String) throws(CheckpointError) {
      for e in model.layout.entries {
        guard let t = decoded.tensors[prefix + e.name] else {
          throw CheckpointError(path: path, reason: "tensor \(prefix + e.name) is missing")
        }
        guard t.shape == e.shape else {
          throw CheckpointError(
            path: path,
            reason: "tensor \(prefix + e.name) has shape \(t.shape), expected \(e.shape)")
        }
        t.values.withUnsafeBufferPointer {
          (dst + e.offset).update(from: $0.baseAddress!, count: e.count)
          checksum.add($0)
        }
      }
    }
    try fill(model.parameters, prefix: "")
    var optimizer: AdamW?
    if decoded.tensors[optimizerFirstMomentPrefix + model.layout.entries[0].name] != nil {
      var hyper = AdamW.Hyperparameters()
      if let h = meta["cptui.optimizer"],
        let decodedHyper = try? JSONDecoder().decode(AdamW.Hyperparameters.self, from: Data(h.utf8))
      {
        hyper = decodedHyper
      }
      let opt = AdamW(layout: model.layout, hyper: hyper)
      try fill(opt.m, prefix: optimizerFirstMomentPrefix)
      try fill(opt.v, prefix: optimizerSecondMomentPrefix)
      opt.step = Int(meta["cptui.optimizer.step"] ?? "0") ?? 0
      optimizer = opt
    }
    // Files cptui wrote carry a checksum (other safetensors files, such as a PyTorch export, do not).
    if let expected = meta[checksumKey], expected != checksum.hex {
      throw CheckpointError(
        path: path, reason: "the file is damaged: its tensors do not match their checksum")
    }
    return Loaded(model: model, optimizer: optimizer, metadata: meta)
  }

  private static func jsonString<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
  }
}

/// FNV-1a over the bit patterns of float tensors, 64 bits: catches damaged bytes in a checkpoint's
/// tensor data (its header is checked by parsing).
struct TensorChecksum {
  private var hash: UInt64 = 0xcbf2_9ce4_8422_2325

  mutating func add(_ values: UnsafeBufferPointer<Float>) {
    var h = hash
    for v in values { h = (h ^ UInt64(v.bitPattern)) &* 0x0000_0100_0000_01b3 }
    hash = h
  }

  var hex: String {
    let digits = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
  }
}

/// A checkpoint that cannot be loaded: names the file and the reason.
public struct CheckpointError: Error, CustomStringConvertible, Equatable {
  public var path: String
  public var reason: String
  public init(path: String, reason: String) {
    self.path = path
    self.reason = reason
  }
  public var description: String { "checkpoint \(path): \(reason)" }
}

/// Crash-safe file replacement.
public enum AtomicFile {
  /// Writes `data` to a temporary file beside `path`, fsyncs it, renames it over `path` and fsyncs the
  /// folder. Throws with errno's text on failure (a full disk included); `path` is then untouched.
  public static func write(_ data: Data, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let folder = url.deletingLastPathComponent().path
    let temporary = folder + "/." + url.lastPathComponent + ".tmp-\(getpid())"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw AtomicFileError(path: path, errno: errno) }
    var ok = true
    var failure: Int32 = 0
    data.withUnsafeBytes { raw in
      var done = 0
      while done < raw.count {
        let n = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
        if n < 0 {
          if errno == EINTR { continue }
          ok = false
          failure = errno
          return
        }
        done += n
      }
    }
    if ok && fsync(fd) != 0 {
      ok = false
      failure = errno
    }
    close(fd)
    guard ok else {
      unlink(temporary)
      throw AtomicFileError(path: path, errno: failure)
    }
    guard rename(temporary, path) == 0 else {
      let e = errno
      unlink(temporary)
      throw AtomicFileError(path: path, errno: e)
    }
    let dirFd = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if dirFd >= 0 {
      fsync(dirFd)
      close(dirFd)
    }
  }
}

/// A failed atomic write.
public struct AtomicFileError: Error, CustomStringConvertible {
  public var path: String
  public var errno: Int32
  public var description: String { "cannot write \(path): \(String(cString: strerror(errno)))" }
}
