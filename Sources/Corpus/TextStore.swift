import Foundation

/// Where a prepared dataset's text came from: one entry per package, wheel or folder.
public struct SourceInfo: Sendable, Codable, Equatable {
  /// Package or wheel name, or a path.
  public var name: String
  /// Package version (empty for local sources).
  public var version: String
  /// SHA-256 of the downloaded file (empty for local sources).
  public var sha256: String

  public init(name: String, version: String, sha256: String) {
    self.name = name
    self.version = version
    self.sha256 = sha256
  }
}

/// The manifest of a prepared text dataset (`text/<dataset>/manifest.json`).
public struct TextManifest: Sendable, Codable, Equatable {
  /// Format version of the extraction; a different version re-prepares the dataset.
  public var format: Int
  public var dataset: String
  public var sources: [SourceInfo]
  public var documents: Int
  public var bytes: Int
  /// Files skipped (empty or binary), with the reason.
  public var skipped: [String]
  /// Seconds the preparation took.
  public var seconds: Double
}

/// A prepared dataset's documents: UTF-8 text, one document after the other, memory-mapped.
/// Every document ends with a newline.
public final class TextStore: @unchecked Sendable {
  /// Version of the text extraction; bump when extraction changes.
  public static let format = 2

  public let name: String
  public let manifest: TextManifest
  /// SHA-256 (hex) of `manifest.json`: changes whenever the text is prepared again. Token caches and
  /// tokenizers record it to notice stale text.
  public let manifestHash: String
  private let text: MappedFile
  private let offsets: [Int]

  /// Number of documents.
  public var documentCount: Int { offsets.count - 1 }
  /// Total bytes of text.
  public var byteCount: Int { text.count }

  /// Opens `text/<name>/` in the cache.
  public init(directory: URL, name: String) throws {
    self.name = name
    let manifestData = try Data(contentsOf: directory.appendingPathComponent("manifest.json"))
    manifest = try JSONDecoder().decode(TextManifest.self, from: manifestData)
    manifestHash = SHA256.hex(manifestData)
    text = try MappedFile(directory.appendingPathComponent("text.bin"))
    let idx = try MappedFile(directory.appendingPathComponent("docs.u64"))
    let damaged = CorpusError.badCache(
      "document index \(directory.appendingPathComponent("docs.u64").path) does not match its text")
    // A damaged index (cut short, flipped bits) must not reach `document(_:)`: offsets start at 0,
    // rise (empty documents are dropped), end at the text's size, one per document plus one.
    guard idx.count % 8 == 0, idx.count / 8 == manifest.documents + 1 else { throw damaged }
    var offs: [Int] = []
    offs.reserveCapacity(idx.count / 8)
    for i in 0..<(idx.count / 8) {
      let raw = UInt64(
        littleEndian: idx.bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
      guard raw <= UInt64(text.count), offs.last.map({ raw > UInt64($0) }) ?? true else {
        throw damaged
      }
      offs.append(Int(raw))
    }
    guard offs.first == 0, offs.last == text.count else { throw damaged }
    offsets = offs
  }

  /// Bytes of document `i`.
  public func document(_ i: Int) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(rebasing: text.bytes[offsets[i]..<offsets[i + 1]])
  }

  /// Whether document `i` belongs to the validation split (see ``DocumentSplit``).
  public func isValidation(_ i: Int, split: DocumentSplit = .standard) -> Bool {
    split.isValidation(document(i))
  }

  /// Writes documents to `directory` (text.bin, docs.u64, manifest.json); each document gets a final
  /// newline (trailing white space and leading blank lines are trimmed). Empty documents are dropped.
  @discardableResult
  static func write(
    documents: [[UInt8]], to directory: URL, dataset: String, sources: [SourceInfo],
    skipped: [String], seconds: Double
  ) throws -> TextManifest {
    var data = Data()
    var offsets: [UInt64] = [0]
    for var doc in documents {
      while let last = doc.last, last == 0x20 || last == 0x0A || last == 0x09 || last == 0x0D {
        doc.removeLast()
      }
      let leading = doc.prefix { $0 == 0x0A || $0 == 0x0D }.count
      if leading > 0 { doc.removeFirst(leading) }
      if doc.isEmpty { continue }
      doc.append(0x0A)
      data.append(contentsOf: doc)
      offsets.append(UInt64(data.count))
    }
    let manifest = TextManifest(
      format: format, dataset: dataset, sources: sources, documents: offsets.count - 1,
      bytes: data.count, skipped: skipped, seconds: seconds)
    try writeAtomically(data, to: directory.appendingPathComponent("text.bin"))
    try writeAtomically(
      littleEndianBytes(offsets), to: directory.appendingPathComponent("docs.u64"))
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    // The manifest is written last: its presence marks a complete preparation.
    try writeAtomically(
      try encoder.encode(manifest), to: directory.appendingPathComponent("manifest.json"))
    return manifest
  }
}

/// The train/validation split rule: a document is in validation when a stable 64-bit hash of its
/// bytes (``stableHash64(_:)``), taken modulo 10 000, is below `validationPerTenThousand`.
/// It depends on nothing but the document's text, so it is the same on every machine and does not
/// change when documents are added, removed or reordered.
public struct DocumentSplit: Sendable, Hashable, Codable {
  /// Validation share in units of 0.01 % (200 = 2 %).
  public var validationPerTenThousand: Int

  public init(validationPerTenThousand: Int) {
    self.validationPerTenThousand = validationPerTenThousand
  }

  /// 2 % of documents go to validation.
  public static let standard = DocumentSplit(validationPerTenThousand: 200)

  public func isValidation(_ document: UnsafeRawBufferPointer) -> Bool {
    Int(stableHash64(document) % 10_000) < validationPerTenThousand
  }
}
