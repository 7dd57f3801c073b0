import Foundation

/// Reading and writing the safetensors format: an 8-byte little-endian header length, a JSON header
/// `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}`, then the
/// raw little-endian tensor bytes. cptui writes and reads F32 only.
public enum SafeTensors {
  /// One tensor of a file: shape and fp32 values.
  public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var values: [Float]
    public init(shape: [Int], values: [Float]) {
      self.shape = shape
      self.values = values
    }
  }

  /// The largest header cptui accepts (the format's own limit is 100 MB).
  static let maxHeaderBytes = 100_000_000

  /// Serialises tensors (written in the order given) and string metadata.
  public static func encode(
    tensors: [(name: String, shape: [Int], data: UnsafeBufferPointer<Float>)],
    metadata: [String: String]
  ) throws -> Foundation.Data {
    var header: [String: Any] = [:]
    if !metadata.isEmpty { header["__metadata__"] = metadata }
    var offset = 0
    for t in tensors {
      precondition(t.shape.reduce(1, *) == t.data.count, "shape does not match data for \(t.name)")
      let bytes = t.data.count * 4
      header[t.name] = [
        "dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + bytes],
      ]
      offset += bytes
    }
    var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    // Pad the header with spaces so tensor data starts 8-byte aligned.
    while json.count % 8 != 0 { json.append(0x20) }
    var out = Foundation.Data(capacity: 8 + json.count + offset)
    var length = UInt64(json.count).littleEndian
    withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
    out.append(json)
    for t in tensors {
      let raw = UnsafeRawBufferPointer(t.data)
      out.append(contentsOf: raw)
    }
    return out
  }

  /// Parses a whole file's bytes. Errors say what is wrong, never crash on foreign or cut input.
  public static func decode(_ bytes: Foundation.Data) throws(SafeTensorsError) -> (
    tensors: [String: Tensor], metadata: [String: String]
  ) {
    guard bytes.count >= 8 else {
      throw .malformed("file is \(bytes.count) bytes, shorter than the 8-byte header length")
    }
    let headerLength = bytes.prefix(8).enumerated().reduce(UInt64(0)) {
      $0 | (UInt64($1.element) << (8 * UInt64($1.offset)))
    }
    guard headerLength <= UInt64(maxHeaderBytes), headerLength <= UInt64(bytes.count - 8) else {
      throw .malformed(
        "header length \(headerLength) does not fit a \(bytes.count)-byte file (not safetensors, or truncated)"
      )
    }
    let headerData = bytes.subdata(
      in: (bytes.startIndex + 8)..<(bytes.startIndex + 8 + Int(headerLength)))
    guard let object = try? JSONSerialization.jsonObject(with: headerData),
      let header = object as? [String: Any]
    else { throw .malformed("header is not a JSON object") }
    let dataStart = 8 + Int(headerLength)
    let dataCount = bytes.count - dataStart
    var metadata: [String: String] = [:]
    var tensors: [String: Tensor] = [:]
    for (name, value) in header {
      if name == "__metadata__" {
        guard let m = value as? [String: String] else {
          throw .malformed("__metadata__ must map strings to strings")
        }
        metadata = m
        continue
      }
      guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
        let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int],
        offsets.count == 2
      else { throw .malformed("tensor \(name): missing dtype, shape or data_offsets") }
      guard dtype == "F32" else {
        throw .unsupported("tensor \(name) has dtype \(dtype); cptui reads F32")
      }
      guard shape.allSatisfy({ $0 >= 0 }), shape.count <= 8 else {
        throw .malformed("tensor \(name): bad shape \(shape)")
      }
      let (count, overflow) = shape.reduce((1, false)) {
        let r = $0.0.multipliedReportingOverflow(by: $1)
        return (r.partialValue, $0.1 || r.overflow)
      }
      let begin = offsets[0]
      let end = offsets[1]
      guard !overflow, begin >= 0, end >= begin, end <= dataCount, end - begin == count * 4 else {
        throw .malformed(
          "tensor \(name): data_offsets \(offsets) do not fit shape \(shape) in \(dataCount) data bytes (truncated?)"
        )
      }
      var values = [Float](repeating: 0, count: count)
      values.withUnsafeMutableBytes { dst in
        _ = bytes.copyBytes(
          to: dst,
          from: (bytes.startIndex + dataStart + begin)..<(bytes.startIndex + dataStart + end))
      }
      #if _endian(big)
        values = values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
      #endif
      tensors[name] = Tensor(shape: shape, values: values)
    }
    return (tensors, metadata)
  }
}

/// Why a safetensors file could not be read.
public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
  case malformed(String)
  case unsupported(String)
  public var description: String {
    switch self {
    case .malformed(let s): return "not a valid safetensors file: \(s)"
    case .unsupported(let s): return "unsupported safetensors content: \(s)"
    }
  }
}
