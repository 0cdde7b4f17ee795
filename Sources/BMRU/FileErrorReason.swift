import Foundation

/// The reason of a failed file operation in a few words, for a one-line error that names the file
/// itself: the system's reason (`No such file or directory`, `Permission denied`, `No space left on
/// device`) when the error carries one, where a JSON document does not decode (`not valid JSON`,
/// `field per_clip[0].name: missing`), else the error's description on one line.
public func fileErrorReason(_ error: any Error) -> String {
    if let error = error as? DecodingError { return decodingReason(error) }
    let error = error as NSError
    if error.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(error.code))) }
    if let underlying = error.userInfo[NSUnderlyingErrorKey] as? any Error,
       case let underlying = underlying as NSError, underlying.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(underlying.code)))
    }
    // Foundation's reading errors on Linux carry no POSIX error; name the common ones as the system would.
    if error.domain == NSCocoaErrorDomain {
        switch error.code {
        case NSFileReadNoSuchFileError, NSFileNoSuchFileError: return String(cString: strerror(ENOENT))
        case NSFileReadNoPermissionError, NSFileWriteNoPermissionError: return String(cString: strerror(EACCES))
        default: break
        }
    }
    return error.localizedDescription.replacingOccurrences(of: "\n", with: " ")
}

/// Where and why a JSON document does not decode, with the coding path as in the file.
private func decodingReason(_ error: DecodingError) -> String {
    func field(_ context: DecodingError.Context, _ key: (any CodingKey)? = nil) -> String {
        let keys = context.codingPath + (key.map { [$0] } ?? [])
        let text = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return text.hasPrefix(".") ? String(text.dropFirst()) : text
    }
    switch error {
    case let .keyNotFound(key, context): return "field \(field(context, key)): missing"
    case let .typeMismatch(type, context): return "field \(field(context)): expected \(type)"
    case let .valueNotFound(type, context): return "field \(field(context)): is null, expected \(type)"
    case let .dataCorrupted(context):
        return context.codingPath.isEmpty ? "not valid JSON" : "field \(field(context)): \(context.debugDescription)"
    @unknown default: return "cannot be decoded"
    }
}
