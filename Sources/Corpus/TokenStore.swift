import Foundation

/// Metadata of a tokenized dataset (`tokens/<tokenizer hash>/<dataset>/meta.json`).
public struct TokenMeta: Sendable, Codable, Equatable {
  public var dataset: String
  public var tokenizerHash: String
  public var vocabSize: Int
  /// Bytes per stored token: 2 (uint16) or 4 (uint32), little-endian.
  public var bytesPerToken: Int
  public var trainDocuments: Int
  public var validationDocuments: Int
  public var trainTokens: Int
  public var validationTokens: Int
  /// UTF-8 bytes of text in each split (documents plus their separators).
  public var trainBytes: Int
  public var validationBytes: Int
  public var split: DocumentSplit
  public var seconds: Double
  /// ``TextStore/manifestHash`` of the text that was tokenized.
  public var textHash: String

  /// Text bytes per token over both splits.
  public var bytesPerTokenOfText: Double {
    Double(trainBytes + validationBytes) / Double(max(1, trainTokens + validationTokens))
  }
}

/// A tokenized dataset: the train and validation splits as flat little-endian uint16 (uint32 when
/// the vocabulary exceeds 65 536) token files, memory-mapped (the nanoGPT / llm.c layout without a
/// header). Documents are concatenated; each document ends with a newline and is followed by one
/// extra newline token (a blank line between documents).
public final class TokenStore: @unchecked Sendable {
  public let name: String
  public let meta: TokenMeta
  private let train: MappedFile
  private let validation: MappedFile

  /// Tokens in the train split.
  public var trainCount: Int { train.count / meta.bytesPerToken }
  /// Tokens in the validation split.
  public var validationCount: Int { validation.count / meta.bytesPerToken }

  /// A 64-bit hash of both splits' tokens (FNV-1a over 8-byte words, then the tail bytes):
  /// equal for the same tokens, whatever the source files' times. About 1 ms per 8 MB.
  public var contentHash: UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for file in [train, validation] {
      let bytes = file.bytes
      guard let base = bytes.baseAddress else { continue }
      let words = bytes.count / 8
      for i in 0..<words {
        h = (h ^ base.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)) &* 0x100_0000_01b3
      }
      for i in (words * 8)..<bytes.count {
        h = (h ^ UInt64(base.load(fromByteOffset: i, as: UInt8.self))) &* 0x100_0000_01b3
      }
      h = (h ^ UInt64(bytes.count)) &* 0x100_0000_01b3
    }
    return h
  }

  public init(directory: URL, name: String) throws {
    self.name = name
    meta = try JSONDecoder().decode(
      TokenMeta.self, from: Data(contentsOf: directory.appendingPathComponent("meta.json")))
    train = try MappedFile(directory.appendingPathComponent("train.bin"))
    validation = try MappedFile(directory.appendingPathComponent("val.bin"))
    guard train.count == meta.trainTokens * meta.bytesPerToken,
      validation.count == meta.validationTokens * meta.bytesPerToken
    else {
      throw CorpusError.badCache("token files in \(directory.path) do not match meta.json")
    }
  }

  /// The largest token id in both splits (-1 when empty): a cache whose ids reach past the
  /// tokenizer's vocabulary is damaged (the model would trap on it mid-run).
  public func largestTokenID() -> Int {
    var largest = -1
    for file in [train, validation] where file.count > 0 {
      let base = file.bytes.baseAddress!
      if meta.bytesPerToken == 2 {
        let p = base.assumingMemoryBound(to: UInt16.self)
        for i in 0..<(file.count / 2) { largest = max(largest, Int(UInt16(littleEndian: p[i]))) }
      } else {
        let p = base.assumingMemoryBound(to: UInt32.self)
        for i in 0..<(file.count / 4) { largest = max(largest, Int(UInt32(littleEndian: p[i]))) }
      }
    }
    return largest
  }

  /// Copies `count` tokens starting at `start` of a split into `out`.
  @inline(__always)
  public func copy(
    validation isValidation: Bool, from start: Int, count: Int,
    into out: UnsafeMutablePointer<Int32>
  ) {
    let file = isValidation ? validation : train
    let base = file.bytes.baseAddress!
    if meta.bytesPerToken == 2 {
      let p = base.assumingMemoryBound(to: UInt16.self) + start
      for i in 0..<count { out[i] = Int32(UInt16(littleEndian: p[i])) }
    } else {
      let p = base.assumingMemoryBound(to: UInt32.self) + start
      for i in 0..<count { out[i] = Int32(bitPattern: UInt32(littleEndian: p[i])) }
    }
  }

  /// Tokens of a split as an array (for tests and small tools).
  public func tokens(validation isValidation: Bool, range: Range<Int>) -> [Int32] {
    var out = [Int32](repeating: 0, count: range.count)
    out.withUnsafeMutableBufferPointer {
      copy(
        validation: isValidation, from: range.lowerBound, count: range.count, into: $0.baseAddress!)
    }
    return out
  }

  /// Tokenizes `text` into `directory` (train.bin, val.bin, meta.json). Documents go to the split
  /// chosen by `split`; if that leaves validation empty while there are two or more documents, the
  /// document with the smallest hash goes to validation (deterministic).
  @discardableResult
  static func build(
    text: TextStore, tokenizer: BPETokenizer, split: DocumentSplit, directory: URL
  ) throws -> TokenMeta {
    let start = Date()
    let n = text.documentCount
    var isVal = [Bool](repeating: false, count: n)
    var smallest: (hash: UInt64, index: Int)? = nil
    for i in 0..<n {
      let doc = text.document(i)
      isVal[i] = split.isValidation(doc)
      let h = stableHash64(doc) % 10_000
      if smallest == nil || h < smallest!.hash { smallest = (h, i) }
    }
    if n >= 2, !isVal.contains(true), let s = smallest { isVal[s.index] = true }
    let encoder = BPEEncoder(tokenizer)
    let separator = Int32(tokenizer.byteTokens[0x0A])
    var trainIds: [Int32] = []
    var valIds: [Int32] = []
    var trainBytes = 0
    var valBytes = 0
    var trainDocs = 0
    for i in 0..<n {
      let doc = text.document(i)
      let p = UnsafeBufferPointer(
        start: doc.baseAddress!.assumingMemoryBound(to: UInt8.self), count: doc.count)
      if isVal[i] {
        encoder.encode(p, into: &valIds)
        valIds.append(separator)
        valBytes += doc.count + 1
      } else {
        encoder.encode(p, into: &trainIds)
        trainIds.append(separator)
        trainBytes += doc.count + 1
        trainDocs += 1
      }
    }
    let width = tokenizer.vocabSize > 65_536 ? 4 : 2
    func pack(_ ids: [Int32]) -> Data {
      var data = Data(count: ids.count * width)
      data.withUnsafeMutableBytes { raw in
        if width == 2 {
          let p = raw.bindMemory(to: UInt16.self)
          for (i, v) in ids.enumerated() { p[i] = UInt16(truncatingIfNeeded: v).littleEndian }
        } else {
          let p = raw.bindMemory(to: UInt32.self)
          for (i, v) in ids.enumerated() { p[i] = UInt32(bitPattern: v).littleEndian }
        }
      }
      return data
    }
    try writeAtomically(pack(trainIds), to: directory.appendingPathComponent("train.bin"))
    try writeAtomically(pack(valIds), to: directory.appendingPathComponent("val.bin"))
    let meta = TokenMeta(
      dataset: text.name, tokenizerHash: tokenizer.hash, vocabSize: tokenizer.vocabSize,
      bytesPerToken: width, trainDocuments: trainDocs, validationDocuments: n - trainDocs,
      trainTokens: trainIds.count, validationTokens: valIds.count, trainBytes: trainBytes,
      validationBytes: valBytes, split: split, seconds: Date().timeIntervalSince(start),
      textHash: text.manifestHash)
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    try writeAtomically(try enc.encode(meta), to: directory.appendingPathComponent("meta.json"))
    return meta
  }
}

/// A dataset ready for training: its leaf token stores with relative weights (one leaf with weight
/// 1 unless it is a mixture).
public struct TokenDataset: @unchecked Sendable {
  public var name: String
  public var components: [TokenStore]
  /// Relative weights, summing to 1: the share of sampled sequences from each component.
  public var weights: [Double]

  public init(name: String, components: [TokenStore], weights: [Double]) {
    precondition(components.count == weights.count && !components.isEmpty)
    self.name = name
    self.components = components
    let total = weights.reduce(0, +)
    self.weights = weights.map { $0 / total }
  }

  /// Vocabulary size of the tokenizer that made the tokens (ids are in `0..<vocabSize`).
  public var vocabSize: Int { components[0].meta.vocabSize }

  /// Training tokens over all components.
  public var trainTokens: Int { components.reduce(0) { $0 + $1.trainCount } }

  /// Validation tokens over all components.
  public var validationTokens: Int { components.reduce(0) { $0 + $1.validationCount } }

  /// Checks that every component can give a window of `context + 1` tokens in both splits.
  public func check(context: Int) throws {
    for c in components {
      if c.trainCount < context + 1 {
        throw CorpusError.tooSmall(
          dataset: c.name, have: "\(c.trainCount) training tokens",
          need: "at least \(context + 1) (one window of context \(context) + 1)")
      }
      if c.validationCount < context + 1 {
        throw CorpusError.tooSmall(
          dataset: c.name,
          have: "\(c.validationCount) validation tokens (\(c.meta.validationDocuments) documents)",
          need: "at least \(context + 1) for one validation window; add text")
      }
    }
  }
}

extension DataManager {
  /// The tokenizer trained on `spec`'s training split (validation documents are left out) with
  /// `vocabSize` tokens; trained once and cached in `tokenizers/`. 256 gives the byte tokenizer.
  public func tokenizer(vocabSize: Int, trainedOn spec: DatasetSpec) throws -> BPETokenizer {
    if vocabSize == 256 { return .bytes }
    let leaves = try leaves(of: spec)
    let stores = try leaves.map { try textStore($0.spec) }
    let keyText =
      "v1 vocab=\(vocabSize) split=\(split.validationPerTenThousand) "
      + stores.map { "\($0.name):\($0.manifestHash)" }.joined(separator: ",")
    let key = String(SHA256.hex(Array(keyText.utf8)).prefix(16))
    let url = cache.tokenizers.appendingPathComponent("trained-\(key)/tokenizer.json")
    if let t = try? BPETokenizer.load(from: url) { return t }
    let start = Date()
    var trainer = BPETrainer()
    for store in stores {
      for i in 0..<store.documentCount where !store.isValidation(i, split: split) {
        let d = store.document(i)
        trainer.add(
          UnsafeBufferPointer(
            start: d.baseAddress!.assumingMemoryBound(to: UInt8.self), count: d.count))
      }
    }
    let t = trainer.train(vocabSize: vocabSize)
    try t.save(to: url)
    try writeAtomically(
      Data("trained on: \(spec.displayName)\n\(keyText)\nhash: \(t.hash)\n".utf8),
      to: url.deletingLastPathComponent().appendingPathComponent("README.txt"))
    log(
      String(
        format: "trained tokenizer %@ (vocab %d) on %@: %.1f MB in %.1f s", t.hash, t.vocabSize,
        spec.displayName, Double(trainer.bytesSeen) / 1e6, Date().timeIntervalSince(start)))
    return t
  }

  /// Prepares (once per tokenizer) and opens the token stores of `spec`.
  public func tokens(_ spec: DatasetSpec, tokenizer: BPETokenizer) throws -> TokenDataset {
    let leaves = try leaves(of: spec)
    var stores: [TokenStore] = []
    for leaf in leaves {
      let text = try textStore(leaf.spec)
      let dir = cache.tokens.appendingPathComponent(tokenizer.hash).appendingPathComponent(
        "\(text.name)-s\(split.validationPerTenThousand)")
      if let store = try? TokenStore(directory: dir, name: text.name),
        store.meta.tokenizerHash == tokenizer.hash,
        store.meta.textHash == text.manifestHash
      {
        // Ids past the vocabulary: the cached files were damaged; they are made again.
        guard store.largestTokenID() < tokenizer.vocabSize else {
          log("\(dir.path): token ids past the vocabulary (a damaged cache): tokenizing again")
          stores.append(try rebuilt(text, dir, tokenizer: tokenizer))
          continue
        }
        stores.append(store)
        continue
      }
      stores.append(try rebuilt(text, dir, tokenizer: tokenizer))
    }
    return TokenDataset(
      name: spec.displayName, components: stores, weights: leaves.map { $0.weight })
  }

  /// Tokenizes `text` into `dir` (replacing what is there) and opens the store.
  private func rebuilt(_ text: TextStore, _ dir: URL, tokenizer: BPETokenizer) throws -> TokenStore
  {
    let meta = try TokenStore.build(text: text, tokenizer: tokenizer, split: split, directory: dir)
    log(
      String(
        format: "tokenized %@: %d + %d tokens in %.1f s", text.name, meta.trainTokens,
        meta.validationTokens, meta.seconds))
    return try TokenStore(directory: dir, name: text.name)
  }

  /// Everything a multi-stage run needs: the tokenizer trained on the first stage's dataset (D0)
  /// and the token datasets of every stage, tokenized with it (prepared once, then cached).
  ///
  /// - Parameters:
  ///   - stages: the dataset of each stage, D0 first.
  ///   - vocabSize: tokens in the vocabulary (256 = bytes only).
  ///   - context: T; every dataset is checked to give one window of T + 1 tokens in each split.
  public func prepareStages(_ stages: [DatasetSpec], vocabSize: Int, context: Int) throws -> (
    tokenizer: BPETokenizer, datasets: [TokenDataset]
  ) {
    guard let first = stages.first else {
      throw CorpusError.invalidArgument("no stage datasets given")
    }
    let tokenizer = try tokenizer(vocabSize: vocabSize, trainedOn: first)
    var datasets: [TokenDataset] = []
    for spec in stages {
      let ds = try tokens(spec, tokenizer: tokenizer)
      try ds.check(context: context)
      datasets.append(ds)
    }
    return (tokenizer, datasets)
  }
}
