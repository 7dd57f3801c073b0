// Number formatting for labels: compact, fixed rules, no locale.

import Foundation
import Terminal

public enum Format {
  /// Fixed-point with `digits` decimals ("2.91").
  public static func fixed(_ v: Double, _ digits: Int) -> String {
    guard v.isFinite else { return v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf") }
    if abs(v) >= 1e15 { return scientific(v) }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let r = (abs(v) * scale).rounded()
    let neg = v < 0 && r != 0
    var whole = String(Int(r / scale))
    if digits > 0 {
      var frac = String(Int(r.truncatingRemainder(dividingBy: scale)))
      while frac.count < digits { frac = "0" + frac }
      whole += "." + frac
    }
    return (neg ? "-" : "") + whole
  }

  /// A loss value with about three significant digits ("2.91", "12.3", "0.123").
  public static func loss(_ v: Double) -> String {
    guard v.isFinite else { return fixed(v, 0) }
    let a = abs(v)
    if a >= 100 { return fixed(v, 0) }
    if a >= 10 { return fixed(v, 1) }
    if a >= 1 || a == 0 { return fixed(v, 2) }
    if a >= 0.01 { return fixed(v, 3) }
    return scientific(v)
  }

  /// A signed difference with a real minus sign ("+0.27", "−1.10").
  public static func signed(_ v: Double) -> String {
    let s = fixed(abs(v), 2)
    if s == "0.00" { return "±0.00" }
    return (v < 0 ? "−" : "+") + s
  }

  /// Scientific with up to `significant` significant digits, trailing zeros dropped ("3e-4",
  /// "1.5e-3"; with 3, "2.25e-4": what the stage settings show, so a typed ηmax reads as typed).
  public static func scientific(_ v: Double, significant: Int = 2) -> String {
    guard v.isFinite else { return fixed(v, 0) }
    if abs(v) < 1e-300 { return "0" }
    let decimals = max(significant - 1, 0)
    let scale = pow10(decimals)
    var e = Int((log10(abs(v))).rounded(.down))
    var m = v / pow10(e)
    m = (m * scale).rounded() / scale
    if abs(m) >= 10 {
      m /= 10
      e += 1
    }
    var ms = m == m.rounded() ? String(Int(m)) : fixed(m, decimals)
    while ms.contains("."), ms.hasSuffix("0") { ms.removeLast() }
    return "\(ms)e\(e)"
  }

  /// A percentage without needless decimals ("1%", "0.5%", "25%").
  public static func percent(_ p: Double) -> String {
    trimmed(p) + "%"
  }

  /// A number with up to two decimals, trailing zeros dropped.
  public static func trimmed(_ v: Double) -> String {
    // A value that two decimals would show as 0 (a typed warmup of 3e-4 %) is not shown as 0.
    if v != 0 && v.isFinite && abs(v) < 0.005 { return scientific(v, significant: 2) }
    var s = fixed(v, 2)
    if s.contains(".") {
      while s.last == "0" { s.removeLast() }
      if s.last == "." { s.removeLast() }
    }
    return s
  }

  /// A count with k/M/G suffixes ("950", "1.5k", "250k", "2M"); `decimals` after the point at
  /// most (axis ticks use 2 so that 1.25M is not shown as 1.3M).
  public static func count(_ v: Double, decimals: Int = 1) -> String {
    let a = abs(v)
    let (d, suffix): (Double, String) =
      a >= 1e9 ? (1e9, "G") : a >= 1e6 ? (1e6, "M") : a >= 1e3 ? (1e3, "k") : (1, "")
    let q = v / d
    let scale = pow10(decimals)
    let s = abs(q) >= 100 || suffix.isEmpty ? fixed(q, 0) : trimmed((q * scale).rounded() / scale)
    return s + suffix
  }

  /// Seconds as "m:ss" or "h:mm:ss".
  public static func duration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0, seconds < 1e9 else { return "--:--" }
    let t = Int(seconds.rounded())
    let h = t / 3600
    let m = (t / 60) % 60
    let s = t % 60
    let ss = s < 10 ? "0\(s)" : "\(s)"
    if h > 0 { return "\(h):" + (m < 10 ? "0\(m)" : "\(m)") + ":" + ss }
    return "\(m):" + ss
  }

  static func pow10(_ e: Int) -> Double {
    var r = 1.0
    if e >= 0 {
      for _ in 0..<e { r *= 10 }
    } else {
      for _ in 0..<(-e) { r /= 10 }
    }
    return r
  }

  static func log10(_ v: Double) -> Double { Foundation.log10(v) }

  /// 10^v for a real v (log-y ticks).
  static func exp10(_ v: Double) -> Double { Foundation.pow(10, v) }
}

extension Format {
  /// Text order with numbers read as numbers, decimals included: "replay 5%" before "replay 25%",
  /// "warmup=0_" before "warmup=0.5_" (as `cptui compare` and its folder listings use).
  public static func naturalLess(_ a: String, _ b: String) -> Bool {
    let (x, y) = (naturalParts(a), naturalParts(b))
    for (p, q) in zip(x, y) where p != q {
      switch (p.number, q.number) {
      case (let m?, let n?) where m != n: return m < n
      case (nil, nil): return p.text < q.text
      case (.some, nil): return true  // digits before other text, as in ASCII
      case (nil, .some): return false
      default: return p.text < q.text  // equal values written differently: "05" and "5"
      }
    }
    return x.count < y.count
  }

  /// Runs of text and numbers (digits with at most one decimal point between digits).
  static func naturalParts(_ s: String) -> [(text: String, number: Double?)] {
    var parts: [(text: String, number: Double?)] = []
    let chars = Array(s)
    var i = 0
    while i < chars.count {
      let start = i
      if chars[i].isASCII && chars[i].isNumber {
        while i < chars.count && chars[i].isASCII && chars[i].isNumber { i += 1 }
        if i + 1 < chars.count && chars[i] == "." && chars[i + 1].isASCII && chars[i + 1].isNumber {
          i += 1
          while i < chars.count && chars[i].isASCII && chars[i].isNumber { i += 1 }
        }
        let text = String(chars[start..<i])
        parts.append((text, Double(text)))
      } else {
        while i < chars.count && !(chars[i].isASCII && chars[i].isNumber) { i += 1 }
        parts.append((String(chars[start..<i]), nil))
      }
    }
    return parts
  }
}
