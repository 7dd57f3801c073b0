/// A binary min-heap: `pop` returns the smallest element (by `<`). Used by the BPE trainer (best
/// pair first) and by long-word merging (lowest merge rank first).
struct BinaryHeap<Element: Comparable> {
  private(set) var elements: [Element] = []

  var isEmpty: Bool { elements.isEmpty }

  mutating func push(_ element: Element) {
    elements.append(element)
    var i = elements.count - 1
    while i > 0 {
      let parent = (i - 1) / 2
      guard elements[i] < elements[parent] else { break }
      elements.swapAt(i, parent)
      i = parent
    }
  }

  mutating func pop() -> Element? {
    guard let top = elements.first else { return nil }
    let last = elements.removeLast()
    if !elements.isEmpty {
      elements[0] = last
      var i = 0
      while true {
        let l = 2 * i + 1
        let r = l + 1
        var smallest = i
        if l < elements.count && elements[l] < elements[smallest] { smallest = l }
        if r < elements.count && elements[r] < elements[smallest] { smallest = r }
        if smallest == i { break }
        elements.swapAt(i, smallest)
        i = smallest
      }
    }
    return top
  }
}
