/// Media types by file name extension, for attachments given without one (the common types
/// of mail attachments; anything else is application/octet-stream).
enum MediaTypes {
    static let byExtension: [String: String] = [
        "txt": "text/plain", "csv": "text/csv", "htm": "text/html", "html": "text/html", "xml": "application/xml",
        "json": "application/json", "pdf": "application/pdf", "zip": "application/zip", "gz": "application/gzip",
        "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "svg": "image/svg+xml",
        "webp": "image/webp", "ics": "text/calendar", "eml": "message/rfc822", "doc": "application/msword",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls": "application/vnd.ms-excel",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odt": "application/vnd.oasis.opendocument.text", "mp3": "audio/mpeg", "mp4": "video/mp4",
        "p7s": "application/pkcs7-signature", "p7m": "application/pkcs7-mime", "asc": "application/pgp-signature",
    ]

    static func guess(_ filename: String) -> String {
        guard let dot = filename.utf8.lastIndex(of: 46) else { return "application/octet-stream" }
        let ext = String(filename[filename.utf8.index(after: dot)...]).lowercased()
        return byExtension[ext] ?? "application/octet-stream"
    }
}
