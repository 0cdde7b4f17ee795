import Foundation

/// Element type of a stored tensor. Only the floating-point types the model format allows are
/// supported; every value is widened to `Double` on reading.
public enum DType: String, Sendable, Codable, CaseIterable {
    /// IEEE 754 single precision, little endian.
    case f32 = "F32"
    /// IEEE 754 double precision, little endian.
    case f64 = "F64"

    /// Bytes per element.
    public var byteCount: Int {
        switch self {
        case .f32: 4
        case .f64: 8
        }
    }
}

/// A dense row-major tensor with its stored element type. Values are held as `Double` whatever
/// the stored type, so that the reference network computes in float64 from the stored parameters.
public struct Tensor: Sendable, Equatable {
    /// The element type used when the tensor is written to a file.
    public var dtype: DType
    /// Dimensions, outermost first; `[]` is a scalar.
    public var shape: [Int]
    /// Row-major elements; `values.count` is the product of `shape`.
    public var values: [Double]

    /// Creates a tensor. The element count must equal the product of `shape` (a programming error
    /// otherwise: data read from files is validated before it reaches this initialiser).
    public init(dtype: DType = .f64, shape: [Int], values: [Double]) {
        precondition(shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == values.count,
                     "tensor shape \(shape) does not match \(values.count) values")
        self.dtype = dtype
        self.shape = shape
        self.values = values
    }
}

/// Why a safetensors file was rejected. Each case names the tensor concerned where there is one;
/// `ModelError.safetensors` adds the file name.
public enum SafetensorsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file is shorter than the 8-byte header length field.
    case truncatedLength(fileSize: Int)
    /// The declared header length exceeds `SafetensorsFile.maximumHeaderLength`.
    case headerTooLarge(length: UInt64, limit: Int)
    /// The declared header runs past the end of the file.
    case truncatedHeader(length: UInt64, available: Int)
    /// The header is not a JSON object.
    case invalidHeader(String)
    /// A tensor entry lacks a field or has a malformed one.
    case invalidEntry(tensor: String, problem: String)
    /// A dtype other than F32 or F64.
    case unsupportedDType(tensor: String, dtype: String)
    /// The byte range does not hold exactly the elements of the shape.
    case sizeMismatch(tensor: String, shape: [Int], dtype: DType, bytes: Int)
    /// The byte range lies (partly) outside the data section.
    case offsetsOutOfBounds(tensor: String, begin: Int, end: Int, dataSize: Int)
    /// Two tensors share bytes.
    case overlap(tensor: String, other: String)

    /// One line describing the problem.
    public var description: String {
        switch self {
        case let .truncatedLength(size):
            "file is \(size) bytes, too short for the 8-byte header length"
        case let .headerTooLarge(length, limit):
            "header length \(length) exceeds the limit of \(limit) bytes (corrupted file?)"
        case let .truncatedHeader(length, available):
            "header length \(length) exceeds the \(available) bytes after the length field (truncated file?)"
        case let .invalidHeader(problem):
            "invalid header: \(problem)"
        case let .invalidEntry(tensor, problem):
            "tensor \(tensor): \(problem)"
        case let .unsupportedDType(tensor, dtype):
            "tensor \(tensor): dtype \(dtype) is not supported (F32 or F64)"
        case let .sizeMismatch(tensor, shape, dtype, bytes):
            "tensor \(tensor): shape \(shape) of \(dtype.rawValue) does not fit its \(bytes)-byte range"
        case let .offsetsOutOfBounds(tensor, begin, end, dataSize):
            "tensor \(tensor): data_offsets [\(begin), \(end)] outside the \(dataSize)-byte data section (truncated file?)"
        case let .overlap(tensor, other):
            "tensors \(other) and \(tensor) overlap"
        }
    }
}

/// A safetensors container: an 8-byte little-endian header length N, N bytes of JSON header, then
/// the raw little-endian data. Reading validates everything taken from the file before use, so a
/// corrupted or hostile file yields a `SafetensorsError`, never a crash or a huge allocation.
public struct SafetensorsFile: Sendable, Equatable {
    /// Largest accepted header, in bytes: a sanity bound that catches corrupted length fields.
    public static let maximumHeaderLength = 100_000_000

    /// The tensors by name.
    public var tensors: [String: Tensor]
    /// The free-form string map stored under `__metadata__`.
    public var metadata: [String: String]

    /// Creates a container from tensors and metadata.
    public init(tensors: [String: Tensor], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// Reads and validates a file; errors name the file by the path it was given.
    public init(contentsOf url: URL) throws(ModelError) {
        let file = url.relativePath
        let data = try Self.contents(of: url)
        do {
            try self.init(data: data)
        } catch {
            throw .safetensors(file: file, error)
        }
    }

    /// Parses and validates the bytes of a safetensors file.
    public init(data: Data) throws(SafetensorsError) {
        guard data.count >= 8 else { throw .truncatedLength(fileSize: data.count) }
        let length = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard length <= UInt64(Self.maximumHeaderLength) else {
            throw .headerTooLarge(length: length, limit: Self.maximumHeaderLength)
        }
        guard length <= UInt64(data.count - 8) else {
            throw .truncatedHeader(length: length, available: data.count - 8)
        }
        let headerEnd = data.startIndex + 8 + Int(length)
        let header = data[(data.startIndex + 8)..<headerEnd]
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: header)
        } catch {
            throw .invalidHeader("not valid JSON")
        }
        guard let entries = object as? [String: Any] else { throw .invalidHeader("not a JSON object") }

        let dataSection = data[headerEnd...]
        var metadata: [String: String] = [:]
        var layout: [(name: String, begin: Int, end: Int)] = []
        var tensors: [String: Tensor] = [:]
        for (name, value) in entries {
            if name == "__metadata__" {
                guard let map = value as? [String: String] else {
                    throw .invalidHeader("__metadata__ must map strings to strings")
                }
                metadata = map
                continue
            }
            guard let entry = value as? [String: Any] else {
                throw .invalidEntry(tensor: name, problem: "entry is not a JSON object")
            }
            guard let dtypeName = entry["dtype"] as? String else {
                throw .invalidEntry(tensor: name, problem: "missing string field dtype")
            }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw .unsupportedDType(tensor: name, dtype: dtypeName)
            }
            guard let shape = Self.naturals(entry["shape"]) else {
                throw .invalidEntry(tensor: name, problem: "shape must be an array of non-negative integers")
            }
            guard let offsets = Self.naturals(entry["data_offsets"]), offsets.count == 2, offsets[0] <= offsets[1] else {
                throw .invalidEntry(tensor: name, problem: "data_offsets must be two non-negative integers [begin, end] with begin <= end")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard end <= dataSection.count else {
                throw .offsetsOutOfBounds(tensor: name, begin: begin, end: end, dataSize: dataSection.count)
            }
            // Overflow-checked: a hostile shape must not wrap around to a small product.
            var count = 1
            for dimension in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
                guard !overflow else { throw .sizeMismatch(tensor: name, shape: shape, dtype: dtype, bytes: end - begin) }
                count = product
            }
            let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteCount)
            guard !overflow, bytes == end - begin else {
                throw .sizeMismatch(tensor: name, shape: shape, dtype: dtype, bytes: end - begin)
            }
            let start = dataSection.startIndex + begin
            let values: [Double] = data.withUnsafeBytes { raw in
                switch dtype {
                case .f32:
                    (0..<count).map { Double(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start - data.startIndex + 4 * $0, as: UInt32.self)))) }
                case .f64:
                    (0..<count).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: start - data.startIndex + 8 * $0, as: UInt64.self))) }
                }
            }
            tensors[name] = Tensor(dtype: dtype, shape: shape, values: values)
            layout.append((name, begin, end))
        }
        // Empty tensors occupy no bytes and cannot overlap anything.
        let ranges = layout.filter { $0.begin < $0.end }.sorted { ($0.begin, $0.name) < ($1.begin, $1.name) }
        for (previous, next) in zip(ranges, ranges.dropFirst()) where next.begin < previous.end {
            throw .overlap(tensor: next.name, other: previous.name)
        }
        self.init(tensors: tensors, metadata: metadata)
    }

    /// The file bytes: tensors in name order, packed without gaps; the header is padded with spaces
    /// to a multiple of 8 bytes so that the data section starts aligned.
    public func serialized() -> Data {
        let names = tensors.keys.sorted()
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for name in names {
            let tensor = tensors[name]!  // `name` comes from the key set.
            let size = tensor.values.count * tensor.dtype.byteCount
            header[name] = ["dtype": tensor.dtype.rawValue, "shape": tensor.shape, "data_offsets": [offset, offset + size]] as [String: Any]
            offset += size
        }
        // Serialising a dictionary of strings, integers and arrays of them cannot fail.
        var json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))

        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for name in names {
            let tensor = tensors[name]!
            switch tensor.dtype {
            case .f32:
                for value in tensor.values {
                    withUnsafeBytes(of: Float(value).bitPattern.littleEndian) { data.append(contentsOf: $0) }
                }
            case .f64:
                for value in tensor.values {
                    withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
                }
            }
        }
        return data
    }

    /// Writes `serialized()` atomically to `url`.
    public func write(to url: URL) throws(ModelError) {
        do {
            try serialized().write(to: url, options: .atomic)
        } catch {
            throw .unwritable(file: url.relativePath, reason: fileErrorReason(error))
        }
    }

    /// A JSON array of non-negative integers below 10^15, or nil (fractional or negative numbers).
    private static func naturals(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var result: [Int] = []
        for element in array {
            // Bounded well below 2^53 so the conversion is exact and later sums cannot overflow.
            guard let number = (element as? NSNumber)?.doubleValue, number >= 0, number < 1e15,
                  number == number.rounded() else { return nil }
            result.append(Int(number))
        }
        return result
    }

    /// The bytes of a file (memory-mapped where possible), or `ModelError.unreadable`.
    static func contents(of url: URL) throws(ModelError) -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            // stat says why: a dangling link or a symbolic-link loop is not "no such file".
            var status = stat()
            let reason = stat(url.path, &status) == 0 || errno == ENOENT ? "no such file" : String(cString: strerror(errno))
            throw .unreadable(file: url.relativePath, reason: reason)
        }
        guard !isDirectory.boolValue else { throw .unreadable(file: url.relativePath, reason: "is a directory") }
        do {
            return try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw .unreadable(file: url.relativePath, reason: fileErrorReason(error))
        }
    }
}
