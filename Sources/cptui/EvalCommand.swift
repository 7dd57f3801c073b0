import ArgumentParser
import Experiment
import Foundation
import Model
import Terminal

/// `cptui eval`: mean next-token loss of a checkpoint on a token file.
struct EvalCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "eval",
    abstract: "Mean next-token loss of a checkpoint on a uint16 token file.",
    discussion: """
      The token file holds little-endian uint16 ids (the nanoGPT/llm.c layout). It is cut into \
      consecutive windows of T+1 ids that overlap by one (T = --context, default the checkpoint's); \
      the loss is the mean over every predicted token.
      """)

  @Option(help: "A cptui checkpoint (.safetensors).") var checkpoint: String
  @Option(help: "A file of little-endian uint16 token ids.") var tokens: String
  @Option(help: "Window length (default: the checkpoint's context).") var context: Int?
  @Option(help: "Windows per forward pass, 1–4096.") var batch = 8

  func validate() throws {
    // A batch is windows held at once: past 4096 it only costs memory (13 GB at 1e8).
    if batch < 1 || batch > 4096 {
      throw ValidationError("--batch must be 1 to 4096, got \(batch)")
    }
    if let context, context < 1 { throw ValidationError("--context must be 1 or more") }
  }

  func run() throws {
    let loaded: Checkpoint.Loaded
    do {
      loaded = try Checkpoint.load(from: checkpoint)
    } catch {
      throw CLIError(error.description)
    }
    let model = loaded.model
    let length = context ?? model.config.context
    guard length > 0, length <= model.config.context else {
      throw CLIError(
        "--context \(length) must be between 1 and the checkpoint's context \(model.config.context)"
      )
    }
    let ids = try TokenFileReader.readUInt16(path: tokens)
    if let bad = ids.first(where: { Int($0) >= model.config.vocab }) {
      throw CLIError(
        "\(tokens): token id \(bad) is outside the model's vocabulary 0..<\(model.config.vocab)")
    }
    guard
      let result = Evaluation.meanLoss(
        model: model, tokens: ids, length: length, batch: batch)
    else {
      throw CLIError("\(tokens): \(ids.count) tokens do not fill one window of \(length + 1)")
    }
    print(
      String(
        format:
          "loss %.6f over %d window\(result.windows == 1 ? "" : "s") of %d tokens (%d predictions)",
        result.loss,
        result.windows, length, result.windows * length))
  }
}

/// Reads token files in the nanoGPT/llm.c layout.
enum TokenFileReader {
  static func readUInt16(path: String) throws -> [Int32] {
    // Read as a stream, so a device or a pipe reads too (/dev/null was "not readable").
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
      throw CLIError("\(path): no such file")
    }
    guard !isFolder.boolValue else { throw CLIError("\(path): a folder, not a token file") }
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw CLIError("\(path): cannot be opened for reading (permissions?)")
    }
    defer { try? handle.close() }
    let data: Data
    do {
      data = try handle.readToEnd() ?? Data()
    } catch {
      throw CLIError("\(path): cannot be read: \(FileErrorText.describe(error))")
    }
    guard data.count % 2 == 0 else {
      throw CLIError("\(path): \(data.count) bytes is not a whole number of uint16 token ids")
    }
    return data.withUnsafeBytes { raw in
      (0..<(data.count / 2)).map {
        Int32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)))
      }
    }
  }
}

/// A fatal command-line error: printed as one line on stderr, exit status 1.
struct CLIError: Error, CustomStringConvertible {
  var description: String
  /// Set for a bad option value that only the command's run can judge (a column named by the logs
  /// it reads): reported like ArgumentParser's own option errors, with this command's usage line
  /// and exit status 64, not 1.
  var badOptionOf: ParsableCommand.Type?
  /// Messages quote names from files: control characters are shown escaped, never sent raw.
  init(_ message: String) { description = TextSanitizer.escaped(message) }
  /// A bad option value of `command` (see `badOptionOf`).
  static func badOption(_ message: String, of command: ParsableCommand.Type) -> CLIError {
    var error = CLIError(message)
    error.badOptionOf = command
    return error
  }
  /// The error's own text; a Foundation file-system error as "PATH: phrase" instead of its dump.
  init(describing error: any Error) {
    let ns = error as NSError
    self.init(
      [NSCocoaErrorDomain, NSPOSIXErrorDomain].contains(ns.domain)
        ? FileErrorText.sentence(error) : "\(error)")
  }
}
