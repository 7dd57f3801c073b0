// Fuzzes the safetensors reader: any bytes as a file; what decodes must encode and decode again to
// the same tensors.
import Foundation
import FuzzDriver
import Model

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzSafeTensors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = data.map { Data(bytes: $0, count: size) } ?? Data()
  guard let (tensors, metadata) = try? SafeTensors.decode(bytes) else { return 0 }
  let names = tensors.keys.sorted()
  var values = names.map { tensors[$0]!.values }
  let encoded = values.withUnsafeMutableBufferPointer { all in
    let list = names.indices.map { i in
      all[i].withUnsafeBufferPointer { (name: names[i], shape: tensors[names[i]]!.shape, data: $0) }
    }
    return try? SafeTensors.encode(tensors: list, metadata: metadata)
  }
  guard let encoded, let again = try? SafeTensors.decode(encoded) else {
    preconditionFailure("decoded tensors do not encode and decode again")
  }
  precondition(again.metadata == metadata && again.tensors.keys.sorted() == names)
  return 0
}

// libFuzzer runs the target with the command line (corpus folders and -flags).
var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv as UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzSafeTensors))
