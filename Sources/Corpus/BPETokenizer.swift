import Foundation

/// A byte-level BPE tokenizer (GPT-2 style): text is split by the GPT-2 pre-tokenizer, each piece is
/// a sequence of bytes, and merges are applied by rank inside each piece. Every byte has a token, so
/// encoding is lossless for any byte sequence (including invalid UTF-8) and `decode(encode(x)) == x`.
///
/// Token ids are `Int` in `0..<vocabSize`. Tokenizers trained by cptui give byte `b` the id `b` and
/// the merge of rank `r` the id `256 + r`; loaded `tokenizer.json` files may use any ids.
/// The value is immutable and `Sendable`; encoding with a cache goes through ``BPEEncoder``.
public struct BPETokenizer: Sendable, Equatable {
  /// Bytes of each token, indexed by id.
  public let tokenBytes: [[UInt8]]
  /// Merges in rank order, as (left id, right id); the result is `mergeResults[rank]`.
  public let merges: [(Int, Int)]
  /// Id produced by each merge.
  public let mergeResults: [Int]
  /// Id of the single-byte token of each byte value.
  public let byteTokens: [Int]

  /// Number of tokens (ids are `0..<vocabSize`).
  public var vocabSize: Int { tokenBytes.count }

  /// pair key (left << 32 | right) → rank
  let pairRanks: [UInt64: Int32]

  public static func == (a: BPETokenizer, b: BPETokenizer) -> Bool {
    a.tokenBytes == b.tokenBytes && a.mergeResults == b.mergeResults
      && a.merges.map { [$0.0, $0.1] } == b.merges.map { [$0.0, $0.1] }
  }

  /// The pure byte tokenizer: 256 tokens, no merges.
  public static let bytes = BPETokenizer(
    tokenBytes: (0..<256).map { [UInt8($0)] }, merges: [], mergeResults: [])

  /// Builds a tokenizer from its tables. `tokenBytes` must contain every single byte.
  public init(tokenBytes: [[UInt8]], merges: [(Int, Int)], mergeResults: [Int]) {
    precondition(merges.count == mergeResults.count)
    self.tokenBytes = tokenBytes
    self.merges = merges
    self.mergeResults = mergeResults
    var byteTokens = [Int](repeating: -1, count: 256)
    for (id, bytes) in tokenBytes.enumerated() where bytes.count == 1 {
      if byteTokens[Int(bytes[0])] < 0 { byteTokens[Int(bytes[0])] = id }
    }
    precondition(!byteTokens.contains(-1), "a byte-level vocabulary must contain all 256 bytes")
    self.byteTokens = byteTokens
    var ranks: [UInt64: Int32] = [:]
    ranks.reserveCapacity(merges.count)
    for (r, m) in merges.enumerated() {
      let key = UInt64(m.0) << 32 | UInt64(m.1)
      if ranks[key] == nil { ranks[key] = Int32(r) }
    }
    self.pairRanks = ranks
  }

  /// A stable 16-hex-digit hash of the vocabulary and merges (identical tokenizers hash equal on
  /// every machine); token caches are keyed by it.
  public var hash: String {
    var h = SHA256()
    h.update(Array("cptui-bpe-v1 pretokenizer=gpt2\n".utf8))
    var buf: [UInt8] = []
    func put(_ v: Int) {
      let u = UInt32(truncatingIfNeeded: v)
      buf.append(contentsOf: [
        UInt8(u & 0xff), UInt8(u >> 8 & 0xff), UInt8(u >> 16 & 0xff), UInt8(u >> 24),
      ])
    }
    put(tokenBytes.count)
    for t in tokenBytes {
      put(t.count)
      buf.append(contentsOf: t)
    }
    for (r, m) in merges.enumerated() {
      put(m.0)
      put(m.1)
      put(mergeResults[r])
    }
    h.update(buf)
    return String(SHA256.hexString(h.finalize()).prefix(16))
  }

  /// Encodes one pre-token's bytes (already split) by applying merges in rank order.
  func encodePiece(
    _ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, into out: inout [Int32]
  ) {
    if end - start > BPETokenizer.longPiece && !merges.isEmpty {
      var symbols = [Int32]()
      symbols.reserveCapacity(end - start)
      for i in start..<end { symbols.append(Int32(byteTokens[Int(p[i])])) }
      mergeLong(&symbols)
      out.append(contentsOf: symbols)
    } else {
      encodePieceLoop(p, start, end, into: &out)
    }
  }

  /// The simple merge loop: find the lowest-ranked adjacent pair, merge all its occurrences left to
  /// right, repeat.
  func encodePieceLoop(
    _ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, into out: inout [Int32]
  ) {
    var symbols = [Int32]()
    symbols.reserveCapacity(end - start)
    for i in start..<end { symbols.append(Int32(byteTokens[Int(p[i])])) }
    if merges.isEmpty || symbols.count < 2 {
      out.append(contentsOf: symbols)
      return
    }
    while symbols.count >= 2 {
      var bestRank = Int32.max
      for i in 0..<(symbols.count - 1) {
        let key = UInt64(UInt32(symbols[i])) << 32 | UInt64(UInt32(symbols[i + 1]))
        if let r = pairRanks[key], r < bestRank { bestRank = r }
      }
      if bestRank == Int32.max { break }
      let (a, b) = merges[Int(bestRank)]
      let merged = Int32(mergeResults[Int(bestRank)])
      var w = 0
      var i = 0
      let n = symbols.count
      while i < n {
        if i + 1 < n && Int(symbols[i]) == a && Int(symbols[i + 1]) == b {
          symbols[w] = merged
          i += 2
        } else {
          symbols[w] = symbols[i]
          i += 1
        }
        w += 1
      }
      symbols.removeLast(n - w)
    }
    out.append(contentsOf: symbols)
  }

  /// Pieces longer than this many bytes are merged with a priority queue (O(n log n)) instead of
  /// the simple rescanning loop (O(n²) in the worst case, faster for short pieces). Both apply
  /// merges in the same order: lowest rank first, leftmost first among equal ranks.
  static let longPiece = 48

  /// Heap-based merging over a linked list of symbols (the algorithm of Hugging Face `tokenizers`).
  func mergeLong(_ symbols: inout [Int32]) {
    let n = symbols.count
    var next = [Int32]((1...n).map { Int32($0) })
    next[n - 1] = -1
    var prev = [Int32]((0..<n).map { Int32($0 - 1) })
    var alive = [Bool](repeating: true, count: n)
    // Min-heap of (rank << 32 | position).
    var heap = BinaryHeap<UInt64>()
    func rank(_ i: Int) -> Int32? {
      let j = Int(next[i])
      guard j >= 0 else { return nil }
      return pairRanks[UInt64(UInt32(symbols[i])) << 32 | UInt64(UInt32(symbols[j]))]
    }
    for i in 0..<(n - 1) {
      if let r = rank(i) { heap.push(UInt64(UInt32(r)) << 32 | UInt64(i)) }
    }
    while !heap.isEmpty {
      guard let top = heap.pop() else { break }
      let r = Int32(truncatingIfNeeded: top >> 32)
      let i = Int(top & 0xffff_ffff)
      guard alive[i], rank(i) == r else { continue }
      let j = Int(next[i])
      symbols[i] = Int32(mergeResults[Int(r)])
      alive[j] = false
      next[i] = next[j]
      if next[j] >= 0 { prev[Int(next[j])] = Int32(i) }
      if let nr = rank(i) { heap.push(UInt64(UInt32(nr)) << 32 | UInt64(i)) }
      let p = Int(prev[i])
      if p >= 0, let pr = rank(p) { heap.push(UInt64(UInt32(pr)) << 32 | UInt64(p)) }
    }
    var w = 0
    for i in 0..<n where alive[i] {
      symbols[w] = symbols[i]
      w += 1
    }
    symbols.removeLast(n - w)
  }

  /// Token ids of `text` (UTF-8).
  public func encode(_ text: String) -> [Int] {
    encode(bytes: Array(text.utf8))
  }

  /// Token ids of any byte sequence.
  public func encode(bytes: [UInt8]) -> [Int] {
    let encoder = BPEEncoder(self)
    var out: [Int32] = []
    bytes.withUnsafeBufferPointer { encoder.encode($0, into: &out) }
    return out.map { Int($0) }
  }

  /// The bytes of a token sequence (exact inverse of `encode(bytes:)`). An id outside the
  /// vocabulary (from a damaged cache or another tokenizer) gives the bytes of U+FFFD.
  public func decode(_ ids: [Int]) -> [UInt8] {
    var out: [UInt8] = []
    for id in ids {
      if id >= 0 && id < tokenBytes.count {
        out.append(contentsOf: tokenBytes[id])
      } else {
        out.append(contentsOf: Self.replacementBytes)
      }
    }
    return out
  }

  /// U+FFFD in UTF-8: what `decode` gives for an id outside the vocabulary.
  public static let replacementBytes: [UInt8] = [0xEF, 0xBF, 0xBD]

  /// The text of a token sequence; invalid UTF-8 is shown as U+FFFD.
  public func decodeText(_ ids: [Int]) -> String {
    String(decoding: decode(ids), as: UTF8.self)
  }
}

/// Encodes with a per-word cache (each distinct pre-token is merged once). Not thread-safe: use one
/// encoder per thread.
public final class BPEEncoder {
  public let tokenizer: BPETokenizer
  private var table = WordTable()
  private var cacheStart: [Int] = []
  private var cacheCount: [Int32] = []
  private var cacheIds: [Int32] = []
  /// Cache entries are dropped when this many distinct pre-tokens were seen.
  public var cacheLimit = 2_000_000

  public init(_ tokenizer: BPETokenizer) {
    self.tokenizer = tokenizer
  }

  /// Appends the ids of `p` to `out`.
  public func encode(_ p: UnsafeBufferPointer<UInt8>, into out: inout [Int32]) {
    let tok = tokenizer
    ByteLevel.pretokenize(p) { s, e in
      if e - s == 1 {
        out.append(Int32(tok.byteTokens[Int(p[s])]))
        return
      }
      let (idx, inserted) = table.findOrInsert(p, s, e)
      if inserted {
        let before = cacheIds.count
        tok.encodePiece(p, s, e, into: &cacheIds)
        cacheStart.append(before)
        cacheCount.append(Int32(cacheIds.count - before))
      }
      let start = cacheStart[idx]
      let count = Int(cacheCount[idx])
      for k in 0..<count { out.append(cacheIds[start + k]) }
    }
    if table.count > cacheLimit {
      table = WordTable()
      cacheStart = []
      cacheCount = []
      cacheIds = []
    }
  }
}

/// Trains a byte-level BPE tokenizer: feed text with `add`, then call `train(vocabSize:)`.
///
/// Words (pre-tokens) are counted once; pair counts are kept and updated incrementally after each
/// merge, only for the words that contain the merged pair. Ties between equally frequent pairs go to
/// the pair with the smaller (left id, right id), so training is deterministic.
public struct BPETrainer {
  private var table = WordTable(capacity: 1 << 16)
  private var counts: [Int] = []
  /// Bytes fed so far.
  public private(set) var bytesSeen = 0

  public init() {}

  /// Counts the pre-tokens of `p`.
  public mutating func add(_ p: UnsafeBufferPointer<UInt8>) {
    bytesSeen += p.count
    ByteLevel.pretokenize(p) { s, e in
      let (idx, inserted) = table.findOrInsert(p, s, e)
      if inserted { counts.append(1) } else { counts[idx] += 1 }
    }
  }

  /// Counts the pre-tokens of `text`.
  public mutating func add(_ text: String) {
    let bytes = Array(text.utf8)
    bytes.withUnsafeBufferPointer { add($0) }
  }

  /// A candidate pair; "smaller" means merged first: higher count, then lower key.
  private struct HeapEntry: Comparable {
    var count: Int
    var key: UInt64
    @inline(__always)
    static func < (a: HeapEntry, b: HeapEntry) -> Bool {
      a.count > b.count || (a.count == b.count && a.key < b.key)
    }
  }

  /// Learns merges until the vocabulary has `vocabSize` tokens (256 = bytes only), or until no pair
  /// occurs at least `minFrequency` times (then the vocabulary is smaller).
  public func train(vocabSize: Int, minFrequency: Int = 2) -> BPETokenizer {
    precondition(vocabSize >= 256, "vocabulary size must be at least 256")
    var tokenBytes: [[UInt8]] = (0..<256).map { [UInt8($0)] }
    var merges: [(Int, Int)] = []
    var results: [Int] = []
    let nWords = table.count
    var words: [[Int32]] = []
    words.reserveCapacity(nWords)
    for e in 0..<nWords { words.append(table.key(e).map { Int32($0) }) }
    var pairCount: [UInt64: Int] = [:]
    var pairWords: [UInt64: [Int32]] = [:]
    @inline(__always) func key(_ a: Int32, _ b: Int32) -> UInt64 {
      UInt64(UInt32(a)) << 32 | UInt64(UInt32(b))
    }
    for (w, sym) in words.enumerated() where sym.count >= 2 {
      let c = counts[w]
      for i in 0..<(sym.count - 1) {
        let k = key(sym[i], sym[i + 1])
        pairCount[k, default: 0] += c
        if pairWords[k]?.last != Int32(w) { pairWords[k, default: []].append(Int32(w)) }
      }
    }
    var heap = BinaryHeap<HeapEntry>()
    for (k, c) in pairCount { heap.push(HeapEntry(count: c, key: k)) }
    var seenStamp = [Int32](repeating: -1, count: nWords)
    var delta: [UInt64: Int] = [:]
    while tokenBytes.count < vocabSize {
      guard let top = heap.pop() else { break }
      guard pairCount[top.key] == top.count else { continue }
      if top.count < max(1, minFrequency) { break }
      let a = Int32(truncatingIfNeeded: top.key >> 32)
      let b = Int32(truncatingIfNeeded: top.key & 0xffff_ffff)
      let newId = Int32(tokenBytes.count)
      let stamp = Int32(merges.count)
      merges.append((Int(a), Int(b)))
      results.append(Int(newId))
      tokenBytes.append(tokenBytes[Int(a)] + tokenBytes[Int(b)])
      delta.removeAll(keepingCapacity: true)
      for w32 in pairWords[top.key] ?? [] {
        let w = Int(w32)
        if seenStamp[w] == stamp { continue }
        seenStamp[w] = stamp
        let old = words[w]
        if old.count < 2 { continue }
        var contains = false
        for i in 0..<(old.count - 1) where old[i] == a && old[i + 1] == b {
          contains = true
          break
        }
        if !contains { continue }
        let c = counts[w]
        for i in 0..<(old.count - 1) { delta[key(old[i], old[i + 1]), default: 0] -= c }
        var new: [Int32] = []
        new.reserveCapacity(old.count)
        var i = 0
        while i < old.count {
          if i + 1 < old.count && old[i] == a && old[i + 1] == b {
            new.append(newId)
            i += 2
          } else {
            new.append(old[i])
            i += 1
          }
        }
        if new.count >= 2 {
          for j in 0..<(new.count - 1) {
            let k = key(new[j], new[j + 1])
            delta[k, default: 0] += c
            if new[j] == newId || new[j + 1] == newId {
              if pairWords[k]?.last != w32 { pairWords[k, default: []].append(w32) }
            }
          }
        }
        words[w] = new
      }
      pairWords[top.key] = nil
      for (k, d) in delta where d != 0 {
        let c = pairCount[k, default: 0] + d
        if c > 0 {
          pairCount[k] = c
          heap.push(HeapEntry(count: c, key: k))
        } else {
          pairCount[k] = nil
        }
      }
    }
    return BPETokenizer(tokenBytes: tokenBytes, merges: merges, mergeResults: results)
  }
}
