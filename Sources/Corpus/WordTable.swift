/// An open-addressing hash table of byte strings (pre-tokens) without a heap allocation per key:
/// keys live in one byte arena. Entry indices are dense (0, 1, 2, … in insertion order), so callers
/// keep values in parallel arrays.
struct WordTable {
  private(set) var arena: [UInt8] = []
  private(set) var offsets: [Int] = []  // entry → start in arena
  private(set) var lengths: [Int32] = []
  private var hashes: [UInt64] = []
  private var slots: [Int32]  // -1 empty, else entry index
  private var mask: Int

  init(capacity: Int = 1 << 14) {
    var size = 16
    while size < capacity * 2 { size <<= 1 }
    slots = [Int32](repeating: -1, count: size)
    mask = size - 1
  }

  var count: Int { offsets.count }

  @inline(__always)
  static func hash(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    var i = start
    while i < end {
      h = (h ^ UInt64(p[i])) &* 0x0000_0100_0000_01b3
      i += 1
    }
    return h ^ (h >> 29)
  }

  /// The entry for `p[start..<end]`, inserting it if new.
  @inline(__always)
  mutating func findOrInsert(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> (
    index: Int, inserted: Bool
  ) {
    let h = WordTable.hash(p, start, end)
    let len = end - start
    var s = Int(truncatingIfNeeded: h) & mask
    while true {
      let e = Int(slots[s])
      if e < 0 { break }
      if hashes[e] == h && Int(lengths[e]) == len {
        let off = offsets[e]
        var same = true
        arena.withUnsafeBufferPointer { a in
          var k = 0
          while k < len {
            if a[off + k] != p[start + k] {
              same = false
              break
            }
            k += 1
          }
        }
        if same { return (e, false) }
      }
      s = (s + 1) & mask
    }
    let e = offsets.count
    offsets.append(arena.count)
    lengths.append(Int32(len))
    hashes.append(h)
    arena.append(contentsOf: p[start..<end])
    slots[s] = Int32(e)
    if offsets.count * 2 > slots.count { grow() }
    return (e, true)
  }

  /// The bytes of entry `e`.
  func key(_ e: Int) -> ArraySlice<UInt8> {
    arena[offsets[e]..<offsets[e] + Int(lengths[e])]
  }

  private mutating func grow() {
    let size = slots.count * 2
    slots = [Int32](repeating: -1, count: size)
    mask = size - 1
    for e in 0..<hashes.count {
      var s = Int(truncatingIfNeeded: hashes[e]) & mask
      while slots[s] >= 0 { s = (s + 1) & mask }
      slots[s] = Int32(e)
    }
  }
}
